package portal

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/wsc"
	"github.com/renkei-idwsf/renkei/wsf"
)

// Directory is the metadata aggregate as the portal reads it: the
// institutions' names (md:Organization) and which web services exist;
// *md.Set implements it.
type Directory interface {
	Entity(entityID string, now time.Time) (*md.EntityDescriptor, error)
	Entries(now time.Time) []md.Entry
}

// Defaults of Config.
const (
	DefaultTimeout     = 3 * time.Second
	DefaultSessionLife = 30 * time.Minute
	DefaultMaxSessions = 100000
	// DefaultMaxPerCitizen is how many sessions one citizen (one NameID)
	// keeps at once: a new login beyond it ends that citizen's oldest, so
	// that one card holder's logins cannot fill the portal.
	DefaultMaxPerCitizen = 4
)

// Config configures the portal engine. Time is a field: nil Now means
// time.Now.
type Config struct {
	// WSC configures every citizen's wsc.Session: the client that signs
	// and sends, the mechanisms, resultsType. Its Purpose is always
	// wsf.PurposeSelf: on the portal the citizen reads their own records.
	WSC wsc.Config
	// Directory names the institutions; required.
	Directory Directory
	// DS is the Discovery Service's entityID, the source of the token
	// events in the access log; required.
	DS string
	// Timeout bounds each institution's call, so that a page waits for
	// no institution longer; 0 means DefaultTimeout.
	Timeout time.Duration
	// SessionLife bounds a portal session when the IdP states no
	// SessionNotOnOrAfter shorter; 0 means DefaultSessionLife.
	SessionLife time.Duration
	// MaxSessions bounds the sessions held at once; 0 means
	// DefaultMaxSessions. A new login beyond it is refused.
	MaxSessions int
	// MaxPerCitizen bounds one citizen's sessions; 0 means
	// DefaultMaxPerCitizen.
	MaxPerCitizen int
	Now           func() time.Time
}

// Validate reports every problem of c at once.
func (c *Config) Validate() error {
	var errs []error
	w := c.WSC
	w.Purpose = wsf.PurposeSelf
	if err := w.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.Directory == nil {
		errs = append(errs, errors.New("portal: Directory is required"))
	}
	if c.DS == "" {
		errs = append(errs, errors.New("portal: DS is required"))
	}
	if c.Timeout < 0 || c.SessionLife < 0 || c.MaxSessions < 0 || c.MaxPerCitizen < 0 {
		errs = append(errs, errors.New("portal: Timeout, SessionLife, MaxSessions and MaxPerCitizen may not be negative"))
	}
	return errors.Join(errs...)
}

// Portal is My Portal's engine: the citizens' sessions and, for each, the
// records fetched fresh from the institutions through the Discovery
// Service. It is safe for concurrent use.
type Portal struct {
	cfg Config

	mu       sync.Mutex
	sessions map[string]*Citizen
	byName   map[string][]string // session IDs by NameID, oldest first
}

// New returns the portal of cfg.
func New(cfg Config) (*Portal, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.WSC.Purpose = wsf.PurposeSelf
	if cfg.WSC.Now == nil {
		cfg.WSC.Now = cfg.Now
	}
	return &Portal{cfg: cfg, sessions: map[string]*Citizen{}, byName: map[string][]string{}}, nil
}

func (p *Portal) now() time.Time {
	if p.cfg.Now != nil {
		return p.cfg.Now()
	}
	return time.Now()
}

func (p *Portal) timeout() time.Duration {
	if p.cfg.Timeout > 0 {
		return p.cfg.Timeout
	}
	return DefaultTimeout
}

// Identity is who logged in, as the verified SSO assertion says: the
// pairwise NameID at the portal and the IdP's session index, which a
// LogoutRequest names.
type Identity struct {
	NameID       *saml.NameID
	SessionIndex string
	// NotOnOrAfter is the IdP's SessionNotOnOrAfter; zero when unstated.
	NotOnOrAfter time.Time
}

// Citizen is one portal session: one login of a card holder. Its ID is
// the session cookie's value and CSRF the token every form posts back.
// Nothing of it is stored: it lives in this process, as its EPRs and
// tokens do, and ends with the login. The portal therefore runs as one
// node: an IdP's back-channel LogoutRequest ends the sessions of the node
// it reaches.
type Citizen struct {
	ID       string
	CSRF     string
	Identity Identity
	Expires  time.Time
	// Data is the caller's, kept with the session (the SP's login, for
	// the logout).
	Data any
	WSC  *wsc.Session

	mu      sync.Mutex
	pending map[string]*Pending // consents under way, by handle
}

// maxPending bounds the consents under way in one session.
const maxPending = 8

// Hold keeps a consent under way until the citizen comes back from the
// DS's consent page, and returns its one-time handle (the ReturnToURL
// carries it). The oldest is dropped beyond maxPending.
func (c *Citizen) Hold(pd *Pending) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending == nil {
		c.pending = map[string]*Pending{}
	}
	for len(c.pending) >= maxPending {
		for h := range c.pending {
			delete(c.pending, h)
			break
		}
	}
	h := random()
	c.pending[h] = pd
	return h
}

// Take returns and forgets the consent under way handle, nil when there
// is none (used, or never held).
func (c *Citizen) Take(handle string) *Pending {
	c.mu.Lock()
	defer c.mu.Unlock()
	pd := c.pending[handle]
	delete(c.pending, handle)
	return pd
}

// Errors of sessions.
var (
	ErrNoSession    = errors.New("portal: no such session, or it ended")
	ErrTooManyUsers = errors.New("portal: too many sessions at once")
)

// Open starts the session of a login whose bootstrap is the Discovery
// Service EPR the IdP gave (wsc.BootstrapOf).
func (p *Portal) Open(id Identity, bootstrap *wsf.EPR, data any) (*Citizen, error) {
	if id.NameID == nil || id.NameID.Value == "" {
		return nil, errors.New("portal: a login without NameID")
	}
	s, err := wsc.NewSession(p.cfg.WSC, bootstrap)
	if err != nil {
		return nil, err
	}
	now := p.now()
	life := p.cfg.SessionLife
	if life <= 0 {
		life = DefaultSessionLife
	}
	exp := now.Add(life)
	if !id.NotOnOrAfter.IsZero() && id.NotOnOrAfter.Before(exp) {
		exp = id.NotOnOrAfter
	}
	c := &Citizen{ID: random(), CSRF: random(), Identity: id, Expires: exp, Data: data, WSC: s}
	p.mu.Lock()
	defer p.mu.Unlock()
	max := p.cfg.MaxSessions
	if max <= 0 {
		max = DefaultMaxSessions
	}
	name := id.NameID.Value
	per := p.cfg.MaxPerCitizen
	if per <= 0 {
		per = DefaultMaxPerCitizen
	}
	for len(p.byName[name]) >= per {
		p.remove(p.byName[name][0])
	}
	if len(p.sessions) >= max {
		p.sweep(now)
		if len(p.sessions) >= max {
			return nil, ErrTooManyUsers
		}
	}
	p.sessions[c.ID] = c
	p.byName[name] = append(p.byName[name], c.ID)
	return c, nil
}

// remove drops the session id and its index entry; p.mu is held.
func (p *Portal) remove(id string) {
	c := p.sessions[id]
	if c == nil {
		return
	}
	delete(p.sessions, id)
	name := c.Identity.NameID.Value
	ids := p.byName[name]
	for i, x := range ids {
		if x == id {
			ids = append(ids[:i:i], ids[i+1:]...)
			break
		}
	}
	if len(ids) == 0 {
		delete(p.byName, name)
	} else {
		p.byName[name] = ids
	}
}

// Session returns the live session id, or ErrNoSession.
func (p *Portal) Session(id string) (*Citizen, error) {
	now := p.now()
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.sessions[id]
	if c == nil {
		return nil, ErrNoSession
	}
	if !now.Before(c.Expires) {
		p.remove(id)
		return nil, ErrNoSession
	}
	return c, nil
}

// Close ends the session id; it reports whether there was one.
func (p *Portal) Close(id string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.sessions[id]
	p.remove(id)
	return ok
}

// EndLogin ends the sessions of the login the IdP's LogoutRequest names:
// the NameID and, when given, one of the session indexes (SAML Core
// §3.7.3.2). It returns how many sessions ended.
func (p *Portal) EndLogin(nameID string, sessionIndexes []string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, id := range append([]string(nil), p.byName[nameID]...) {
		c := p.sessions[id]
		if len(sessionIndexes) > 0 && !contains(sessionIndexes, c.Identity.SessionIndex) {
			continue
		}
		p.remove(id)
		n++
	}
	return n
}

// Sweep drops the sessions that expired; the server calls it now and
// then.
func (p *Portal) Sweep() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sweep(p.now())
}

func (p *Portal) sweep(now time.Time) int {
	n := 0
	for id, c := range p.sessions {
		if !now.Before(c.Expires) {
			p.remove(id)
			n++
		}
	}
	return n
}

// Sessions returns how many sessions are open.
func (p *Portal) Sessions() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.sessions)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// random is 32 bytes from crypto/rand, base64url: a session ID or a CSRF
// token.
func random() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("portal: crypto/rand: %v", err)) // crypto/rand does not fail on Linux
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
