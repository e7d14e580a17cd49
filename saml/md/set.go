package md

import (
	"context"
	"errors"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/renkei-idwsf/renkei/internal/kinderr"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
)

// Defaults of Config.
const (
	DefaultInterval      = time.Hour
	DefaultRetryInterval = time.Minute
	DefaultMaxDepth      = 64
)

// Source is one metadata document the Set loads: the operator's signed
// aggregate, or a single entity's file.
type Source struct {
	// Location is a file path or an https:// URL.
	Location string
	// Trust holds the keys the document must be signed with: the
	// operator's for an aggregate, or the entity's own.
	Trust *xmlsec.TrustSet
	// Unsigned accepts the document without checking any signature. It is
	// allowed only for a local file the operator placed, never for a URL,
	// and only when Trust is nil.
	Unsigned bool
}

// Config configures a Set. Zero fields take the defaults.
type Config struct {
	Sources []Source
	// Client fetches https sources (its Transport holds the TLS roots);
	// nil means a client with a one-minute timeout.
	Client *http.Client
	// MaxBytes bounds one document; 0 means DefaultMaxBytes.
	MaxBytes int
	// Interval is the longest time between two loads of a source; a
	// shorter cacheDuration in the document wins. 0 means DefaultInterval.
	Interval time.Duration
	// RetryInterval is the time before a failed load is tried again,
	// capped by Interval; 0 means DefaultRetryInterval.
	RetryInterval time.Duration
	// Policy decides the signature algorithms and key sizes accepted.
	Policy xmlsec.Policy
	// Schema, when set, validates each loaded document against the SAML
	// metadata schema before its signature is checked (xmlsec/xsd's
	// *Schema implements it); a document it refuses is not loaded. It is
	// given the bytes the Set has just parsed, so nothing is serialized
	// or read twice. Every Renkei role sets it; its cost against the
	// signature check's floor is BenchmarkVerifyAggregate's schema-x-floor.
	Schema ParsedValidator
	// Now is the clock of Run; nil means time.Now.
	Now func() time.Time
}

// Validate reports every problem of the configuration at once, as one
// ErrConfig.
func (c *Config) Validate() error {
	var errs []error
	if len(c.Sources) == 0 {
		errs = append(errs, errors.New("no source"))
	}
	for i, s := range c.Sources {
		switch {
		case s.Location == "":
			errs = append(errs, Errorf(KindConfig, "source %d has no location", i))
		case s.Unsigned && isURL(s.Location):
			errs = append(errs, Errorf(KindConfig, "source %s: only a local file may be trusted unsigned", s.Location))
		case s.Unsigned && s.Trust != nil:
			errs = append(errs, Errorf(KindConfig, "source %s: both a trust set and unsigned", s.Location))
		case !s.Unsigned && s.Trust == nil:
			errs = append(errs, Errorf(KindConfig, "source %s: no trust set (or mark it unsigned)", s.Location))
		}
	}
	if c.MaxBytes < 0 || c.Interval < 0 || c.RetryInterval < 0 {
		errs = append(errs, errors.New("negative limit or interval"))
	}
	if len(errs) > 0 {
		return &Error{Kind: KindConfig, Err: errors.Join(errs...)}
	}
	return nil
}

// ParsedValidator schema-checks a document whose bytes xmlsec.Parse
// has just accepted (xsd.Schema.ValidateParsed).
type ParsedValidator interface {
	ValidateParsed(doc []byte) error
}

// Set holds the entities of every source by entityID, for any number of
// concurrent readers. Refresh and Run reload the sources; a source that
// fails to load keeps serving its last good copy, entity by entity, until
// that copy's validUntil.
type Set struct {
	cfg    Config
	mu     sync.RWMutex
	states []sourceState
	byID   map[string]Entry
}

type sourceState struct {
	entries []Entry
	next    time.Time
	loaded  time.Time
	err     error
}

// Status is what a Set knows about one source.
type Status struct {
	Location string
	Entities int
	Loaded   time.Time // last successful load, zero when none
	Next     time.Time // next scheduled load
	Err      error     // the last load's failure, nil after a success
}

// New returns an empty Set for cfg; nothing is loaded before Refresh.
func New(cfg Config) (*Set, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: time.Minute}
	}
	cfg.Client = httpsOnly(cfg.Client)
	if cfg.MaxBytes == 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	if cfg.Interval == 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.RetryInterval == 0 || cfg.RetryInterval > cfg.Interval {
		cfg.RetryInterval = min(DefaultRetryInterval, cfg.Interval)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.Sources = append([]Source(nil), cfg.Sources...)
	return &Set{cfg: cfg, states: make([]sourceState, len(cfg.Sources)), byID: map[string]Entry{}}, nil
}

// Refresh loads every source at now. The result joins the failures, each a
// *SourceError; the sources that failed keep their last good copy.
func (s *Set) Refresh(ctx context.Context, now time.Time) error {
	return s.refresh(ctx, now, true)
}

// RefreshDue loads the sources whose next load is due at now.
func (s *Set) RefreshDue(ctx context.Context, now time.Time) error {
	return s.refresh(ctx, now, false)
}

func (s *Set) refresh(ctx context.Context, now time.Time, all bool) error {
	var errs []error
	for i := range s.cfg.Sources {
		s.mu.RLock()
		due := all || !now.Before(s.states[i].next)
		s.mu.RUnlock()
		if !due {
			continue
		}
		entries, cache, err := s.load(ctx, s.cfg.Sources[i], now)
		s.store(i, now, entries, cache, err)
		if err != nil {
			errs = append(errs, &SourceError{Location: s.cfg.Sources[i].Location, Err: err})
		}
	}
	return errors.Join(errs...)
}

// load fetches, verifies and decodes one source at now.
func (s *Set) load(ctx context.Context, src Source, now time.Time) ([]Entry, time.Duration, error) {
	b, err := fetch(ctx, s.cfg.Client, src.Location, s.cfg.MaxBytes)
	if err != nil {
		return nil, 0, err
	}
	el, err := xmlsec.ParseElement(b, xmlsec.Limits{MaxBytes: s.cfg.MaxBytes, MaxDepth: DefaultMaxDepth, MaxElements: s.cfg.MaxBytes / 8})
	if err != nil {
		return nil, 0, err
	}
	if s.cfg.Schema != nil {
		if err := s.cfg.Schema.ValidateParsed(b); err != nil {
			return nil, 0, kinderr.Wrap(KindInvalid, err, "metadata schema")
		}
	}
	var doc *Document
	if src.Unsigned {
		doc, err = DecodeUnsigned(el)
	} else {
		doc, _, err = Verify(el, &dsig.Verifier{Trust: src.Trust, Policy: s.cfg.Policy})
	}
	if err != nil {
		return nil, 0, err
	}
	// Expired entities stay listed so that a lookup says ErrExpired
	// rather than ErrNotFound; Entity and Entries never return them.
	entries, err := doc.entries(now)
	return entries, doc.CacheDuration(), err
}

// store records a load's outcome and schedules the next one: after a
// success at the shorter of the cacheDuration and the Interval, after a
// failure at the RetryInterval.
func (s *Set) store(i int, now time.Time, entries []Entry, cache time.Duration, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := &s.states[i]
	st.err = err
	if err != nil {
		st.next = now.Add(s.cfg.RetryInterval)
		return
	}
	st.entries, st.loaded = entries, now
	st.next = now.Add(shortest(s.cfg.Interval, cache))
	s.reindex()
}

// reindex rebuilds the entityID index; an entityID in several sources is
// taken from the first source in configuration order.
func (s *Set) reindex() {
	byID := make(map[string]Entry)
	for _, st := range s.states {
		for _, e := range st.entries {
			if _, dup := byID[e.Entity.EntityID]; !dup {
				byID[e.Entity.EntityID] = e
			}
		}
	}
	s.byID = byID
}

// Entity returns the entity entityID as valid at now: ErrNotFound when no
// source lists it, ErrExpired when its validUntil (or that of a group or
// document around it) has passed; role descriptors past their own
// validUntil are left out (EntityDescriptor.Live). The descriptor is
// shared: callers must not change it.
func (s *Set) Entity(entityID string, now time.Time) (*EntityDescriptor, error) {
	s.mu.RLock()
	e, ok := s.byID[entityID]
	s.mu.RUnlock()
	if !ok {
		return nil, Errorf(KindNotFound, "%s", entityID)
	}
	if e.Expired(now) {
		return nil, Errorf(KindExpired, "%s valid until %s", entityID, e.ValidUntil.UTC().Format(time.RFC3339))
	}
	return e.Entity.Live(now), nil
}

// Entries returns every entity valid at now, sorted by entityID.
func (s *Set) Entries(now time.Time) []Entry {
	s.mu.RLock()
	out := make([]Entry, 0, len(s.byID))
	for _, e := range s.byID {
		if !e.Expired(now) {
			out = append(out, Entry{Entity: e.Entity.Live(now), ValidUntil: e.ValidUntil})
		}
	}
	s.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Entity.EntityID < out[j].Entity.EntityID })
	return out
}

// Status returns the state of each source, in configuration order.
func (s *Set) Status() []Status {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Status, len(s.states))
	for i, st := range s.states {
		out[i] = Status{Location: s.cfg.Sources[i].Location, Entities: len(st.entries), Loaded: st.loaded, Next: st.next, Err: st.err}
	}
	return out
}

// NextRefresh returns the earliest time a source is due.
func (s *Set) NextRefresh() time.Time {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var next time.Time
	for i, st := range s.states {
		if i == 0 || st.next.Before(next) {
			next = st.next
		}
	}
	return next
}

// Run loads the due sources, then sleeps until the next is due, until ctx
// is done; it returns ctx's error. Load failures are kept in Status and
// never end the loop. Each round reads the clock once.
func (s *Set) Run(ctx context.Context) error {
	for {
		now := s.cfg.Now()
		_ = s.RefreshDue(ctx, now)
		wait := s.NextRefresh().Sub(now)
		t := time.NewTimer(max(wait, time.Second))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}
