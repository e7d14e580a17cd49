package wsc

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/client"
	"github.com/renkei-idwsf/renkei/wsf/disco"
	"github.com/renkei-idwsf/renkei/xmlsec/wire"
)

// StatusError is a disco:QueryResponse whose status is neither OK nor
// NoResults (Forbidden, Failed...).
type StatusError struct {
	Status wsf.Status
}

// Error names the status code and its first sub-status.
func (e *StatusError) Error() string {
	s := "wsc: the Discovery Service answered " + string(e.Status.Code)
	if len(e.Status.Sub) > 0 {
		s += "/" + string(e.Status.Sub[0].Code)
	}
	return s
}

// flight is one disco:Query under way; the callers that need one of its
// service types wait for done and read byType.
type flight struct {
	done   chan struct{}
	byType map[string][]*wsf.EPR
	err    error
}

// maxFlightRetries bounds how often a caller whose own context is alive
// starts a query again after the one it waited for was cancelled by the
// caller that started it.
const maxFlightRetries = 2

// Discover returns the EPRs of the service types, in the order of types,
// every EPR of one type together. A type whose EPRs are cached and whose
// tokens have not expired costs nothing; the others are asked in one
// disco:Query, one RequestedService per type, which concurrent callers
// needing the same types share. A type the DS knows nothing of for the
// principal (NoResults, or OK without EPR) has none, and is not cached.
// No type at all asks the DS for every service of the principal, and
// caches what it finds by type.
func (s *Session) Discover(ctx context.Context, types ...string) ([]*wsf.EPR, error) {
	if len(types) == 0 {
		return s.discoverAll(ctx)
	}
	types = dedupe(types)
	for attempt := 0; ; attempt++ {
		found, waits := s.start(ctx, types)
		retry := false
		for typ, f := range waits {
			select {
			case <-f.done:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			if f.err != nil {
				if ctx.Err() == nil && isContextError(f.err) && attempt < maxFlightRetries {
					retry = true
					break
				}
				return nil, f.err
			}
			found[typ] = f.byType[typ]
		}
		if retry {
			continue
		}
		var out []*wsf.EPR
		for _, typ := range types {
			out = append(out, found[typ]...)
		}
		return out, nil
	}
}

// Forget drops the cached EPRs of the service types (none: all of them),
// so that the next call discovers them again: after the citizen gave
// consent at a RedirectRequest, say.
func (s *Session) Forget(types ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(types) == 0 {
		clear(s.cache)
		return
	}
	for _, t := range types {
		delete(s.cache, t)
	}
}

// start takes from the cache what it holds and is still valid, joins the
// queries under way for other types, and starts one query for the rest.
func (s *Session) start(ctx context.Context, types []string) (map[string][]*wsf.EPR, map[string]*flight) {
	found, waits := map[string][]*wsf.EPR{}, map[string]*flight{}
	var missing []string
	s.mu.Lock()
	now := s.now()
	for _, t := range types {
		if e := s.cache[t]; e != nil && now.Before(e.expires) {
			found[t] = e.eprs
		} else if f := s.flights[t]; f != nil {
			waits[t] = f
		} else {
			missing = append(missing, t)
		}
	}
	if len(missing) > 0 {
		f := &flight{done: make(chan struct{})}
		for _, t := range missing {
			s.flights[t] = f
			waits[t] = f
		}
		go s.fly(ctx, f, missing)
	}
	s.mu.Unlock()
	return found, waits
}

// fly runs the query of f and caches its answer.
func (s *Session) fly(ctx context.Context, f *flight, types []string) {
	byType, expires, err := s.query(ctx, types)
	s.mu.Lock()
	f.byType, f.err = byType, err
	for _, t := range types {
		if s.flights[t] == f {
			delete(s.flights, t)
		}
	}
	if err == nil {
		s.store(byType, expires)
	}
	s.mu.Unlock()
	close(f.done)
}

// discoverAll asks for every service of the principal.
func (s *Session) discoverAll(ctx context.Context) ([]*wsf.EPR, error) {
	byType, expires, err := s.query(ctx, nil)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.store(byType, expires)
	s.mu.Unlock()
	return byType[allTypes], nil
}

// store caches the answers whose tokens are still valid; s.mu is held.
func (s *Session) store(byType map[string][]*wsf.EPR, expires map[string]time.Time) {
	now := s.now()
	for t, eprs := range byType {
		if t != allTypes && len(eprs) > 0 && now.Before(expires[t]) {
			s.cache[t] = &entry{eprs: eprs, expires: expires[t]}
		}
	}
}

// allTypes is the key under which query also returns every EPR of the
// answer, in the DS's order; no service type is empty.
const allTypes = ""

// query sends one disco:Query for the types (nil: every service) and
// returns the EPRs by service type, and all of them under allTypes, with
// the time each type's cache entry expires.
func (s *Session) query(ctx context.Context, types []string) (map[string][]*wsf.EPR, map[string]time.Time, error) {
	q := &disco.Query{}
	mechs := make([]string, 0, len(s.cfg.Mechanisms))
	for _, m := range s.cfg.Mechanisms {
		mechs = append(mechs, string(m))
	}
	rs := disco.RequestedService{ResultsType: s.cfg.ResultsType.Effective(), SecurityMechIDs: mechs}
	if len(types) == 0 {
		q.RequestedServices = []disco.RequestedService{rs}
	}
	for _, t := range types {
		r := rs
		r.ServiceTypes = []string{t}
		q.RequestedServices = append(q.RequestedServices, r)
	}
	ds := s.dsEPR()
	var h wsf.Header
	if s.cfg.DiscoveryPurpose != "" {
		h.UsageDirectives = []wsf.UsageDirective{wsf.PurposeDirective(s.cfg.DiscoveryPurpose)}
	}
	res, err := s.cfg.Client.Call(ctx, &client.Call{EPR: ds, Action: q.Action(), Payload: q.Element(), Header: h})
	if f, ok := err.(*wsf.Fault); ok && f.RedirectURL == "" && errors.Is(f, wsf.ErrInteractionRequired) {
		// Every type asked for needs the citizen's consent first, which
		// this query did not offer to collect: none has an EPR yet, as
		// with NoResults (a portal asks with a UserInteraction
		// header through CallDS to collect it).
		return map[string][]*wsf.EPR{}, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("wsc: disco:Query: %w", err)
	}
	if res.EPR != ds {
		s.setDSEPR(ds, res.EPR) // sb:EndpointUpdate: the DS moved
	}
	m, err := disco.Decode(res.Payload, res.Sender.Profile)
	if err != nil {
		return nil, nil, err
	}
	r, ok := m.(*disco.QueryResponse)
	if !ok {
		return nil, nil, fmt.Errorf("wsc: the Discovery Service answered %T to a Query", m)
	}
	switch r.Status.Code {
	case disco.OK:
	case disco.NoResults:
		return map[string][]*wsf.EPR{}, nil, nil
	default:
		return nil, nil, &StatusError{Status: r.Status}
	}
	stated := statedExpiries(res.Payload)
	now := s.now()
	byType, expires := map[string][]*wsf.EPR{}, map[string]time.Time{}
	for i, e := range r.EPRs {
		if e.Metadata == nil || e.Metadata.ServiceType == "" {
			continue // nothing to file it under, and nothing a call could pick
		}
		var st time.Time
		if i < len(stated) {
			st = stated[i]
		}
		t, end := e.Metadata.ServiceType, s.eprExpiry(e, st, now)
		byType[t] = append(byType[t], e)
		byType[allTypes] = append(byType[allTypes], e)
		if old, ok := expires[t]; !ok || end.Before(old) {
			expires[t] = end
		}
	}
	return byType, expires, nil
}

func (s *Session) dsEPR() *wsf.EPR {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bootstrap
}

func (s *Session) setDSEPR(old, updated *wsf.EPR) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bootstrap == old {
		s.bootstrap = updated
	}
}

// eprExpiry is when the cached EPR stops being usable: the earliest
// NotOnOrAfter of its tokens, or when none can be read (an
// EncryptedAssertion only its WSP decrypts) the EPR's notOnOrAfter, or
// else MaxTokenAge from now; less the margin.
func (s *Session) eprExpiry(e *wsf.EPR, stated, now time.Time) time.Time {
	var end time.Time
	for _, sc := range e.Metadata.SecurityContexts {
		for _, tok := range sc.Tokens {
			if t, ok := tokenExpiry(tok.Element); ok && (end.IsZero() || t.Before(end)) {
				end = t
			}
		}
	}
	if !stated.IsZero() && (end.IsZero() || stated.Before(end)) {
		end = stated
	}
	if end.IsZero() {
		end = now.Add(s.maxTokenAge())
	}
	return end.Add(-s.margin())
}

// tokenExpiry reads, without verifying anything, the earliest
// NotOnOrAfter of a saml:Assertion's Conditions and subject
// confirmations. The WSC is not the token's audience and only uses this
// as a hint of when to ask the DS again; the WSP judges the token.
func tokenExpiry(el *etree.Element) (time.Time, bool) {
	if el == nil || !wire.Is(el, wsf.NSSAML, "Assertion") {
		return time.Time{}, false
	}
	var ats []*etree.Element
	ats = append(ats, wire.Children(el, wsf.NSSAML, "Conditions")...)
	for _, sub := range wire.Children(el, wsf.NSSAML, "Subject") {
		for _, sc := range wire.Children(sub, wsf.NSSAML, "SubjectConfirmation") {
			ats = append(ats, wire.Children(sc, wsf.NSSAML, "SubjectConfirmationData")...)
		}
	}
	var end time.Time
	for _, a := range ats {
		v, ok := wire.Attr(a, "NotOnOrAfter")
		if !ok {
			continue
		}
		t, err := wire.ParseTime(v)
		if err == nil && (end.IsZero() || t.Before(end)) {
			end = t
		}
	}
	return end, !end.IsZero()
}

// statedExpiries reads the unqualified notOnOrAfter attribute some DSs
// (ZXID) put on each wsa:EndpointReference of a QueryResponse, which
// wsf.DecodeEPR passes over; the zero time where there is none. The
// slice follows the order of the EPRs.
func statedExpiries(payload *etree.Element) []time.Time {
	var out []time.Time
	for _, el := range wire.Children(payload, wsf.NSWSA, "EndpointReference") {
		var t time.Time
		if v, ok := wire.Attr(el, "notOnOrAfter"); ok {
			t, _ = wire.ParseTime(v)
		}
		out = append(out, t)
	}
	return out
}

func isContextError(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// dedupe drops repeated and empty service types.
func dedupe(types []string) []string {
	seen := make(map[string]bool, len(types))
	out := make([]string, 0, len(types))
	for _, t := range types {
		if t != allTypes && !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}

// CallDS sends the Discovery Service operation op (the local name of the
// request: "SvcMDAssociationQuery", "Query"...) with payload to the DS of
// the login, with its DS token, and returns the verified answer. An
// sb:EndpointUpdate is followed. It is how a portal reads and changes the
// citizen's associations, and asks about one institution with a
// UserInteraction header so that the DS may answer with a RedirectRequest
// to its consent page (a *client.RedirectError); nothing is cached.
func (s *Session) CallDS(ctx context.Context, op string, payload *etree.Element, h wsf.Header) (*client.Result, error) {
	ds := s.dsEPR()
	res, err := s.cfg.Client.Call(ctx, &client.Call{EPR: ds, Action: disco.Action(op), Payload: payload, Header: h})
	if err != nil {
		return nil, err
	}
	if res.EPR != nil && res.EPR != ds {
		s.setDSEPR(ds, res.EPR)
	}
	return res, nil
}
