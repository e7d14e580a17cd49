package discovery

import (
	"context"
	"errors"
	"time"

	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/audit"
	"github.com/renkei-idwsf/renkei/wsf/disco"
)

// Bounds on what one request may ask; more is Failed.
const (
	MaxRequestedServices = 32
	MaxIDsPerRequest     = 64
	MaxSvcMDsPerRequest  = 32
	MaxSvcMDsPerProvider = 256
)

// Bases of a token: why the DS may hand the service out (ARCHITECTURE
// "Consent"), as the audit log records it.
const (
	BasisAssociation = "association"  // the citizen's consent, an association
	BasisCardPresent = "card-present" // the reception-desk rule
)

// Query answers disco:Query (IDWSF2 §4.1, §4.2) for the principal the
// invoking token names: per RequestedService (none means everything), the
// service instances the principal is associated with, or may reach under
// the reception-desk rule, that match its ServiceType, ProviderID,
// Options, Framework and Action lists and share a mechanism with it and
// the DS's policy; at most one for resultsType best or only-one. Each EPR
// carries a token minted for its WSP alone. When a RequestedService
// matches nothing only for want of consent, the WSC is sent to the
// consent page (a RedirectRequest fault) or answered InteractionRequired
// (Invoker.Interaction). Nothing at all is NoResults. When the DS token
// belongs to an IdP session, each WSP a token is minted for joins it
// (joinSession) and its token carries its SessionIndex; a session that
// ended is Forbidden.
func (d *DS) Query(ctx context.Context, inv *Invoker, q *disco.Query) (*disco.QueryResponse, error) {
	now := d.cfg.now()
	principal, sess, ref, err := d.principalSession(ctx, inv)
	if err != nil {
		return nil, err
	}
	if ref == nil && inv.Simulate {
		// A dry run of a Query would mint real tokens and create links.
		return nil, wsf.Errorf(wsf.ProcCtxUnwilling, "disco:Query has no dry run")
	}
	if ref == nil && len(q.RequestedServices) > MaxRequestedServices {
		ref = refuse(disco.Failed, "%d RequestedServices, at most %d", len(q.RequestedServices), MaxRequestedServices)
	}
	if ref != nil {
		return &disco.QueryResponse{Status: statusOf(ref)}, d.auditRefusal(ctx, inv, principal, "", "query", ref, now)
	}
	c, err := d.candidates(ctx, inv, principal, q, now)
	if err != nil {
		return nil, err
	}
	reqs := q.RequestedServices
	if len(reqs) == 0 {
		reqs = []disco.RequestedService{{}}
	}
	var all []*match
	var consent []*disco.SvcMD
	for i := range reqs {
		ms := c.matches(d, inv, &reqs[i])
		if len(ms) == 0 && contains(d.cfg.Policy.Portals, inv.Provider) {
			// Only a portal, which can collect the consent, learns that
			// consent is missing: to any other WSC the principal's links
			// without an association are not there (NoResults).
			more, err := c.needConsent(ctx, d, principal, &reqs[i])
			if err != nil {
				return nil, err
			}
			consent = append(consent, more...)
		}
		all = appendNew(all, ms)
	}
	if len(all) == 0 && len(consent) > 0 {
		return nil, d.askConsent(ctx, inv, principal, consent, now)
	}
	eprs, err := d.mintAll(ctx, inv, principal, sess, all, now)
	if errors.As(err, &ref) {
		return &disco.QueryResponse{Status: statusOf(ref)}, d.auditRefusal(ctx, inv, principal, "", "query", ref, now)
	}
	if err != nil {
		return nil, err
	}
	if len(eprs) == 0 {
		ref := refuse(disco.NoResults, "no service matched")
		return &disco.QueryResponse{Status: statusOf(ref)}, d.auditRefusal(ctx, inv, principal, "", "query", ref, now)
	}
	return &disco.QueryResponse{Status: wsf.Status{Code: disco.OK}, EPRs: eprs}, nil
}

// match is one endpoint of one service instance a RequestedService asked
// for, with the mechanisms its EPR offers.
type match struct {
	svc         *disco.SvcMD
	ctx         *disco.ServiceContext
	ep          *disco.EndpointContext
	serviceType string
	mechs       []wsf.Mechanism
	basis       string
}

func (m *match) key() string { return m.svc.ID + "\x00" + m.ep.Addresses[0] + "\x00" + m.serviceType }

// appendNew appends the matches not in all yet: two RequestedServices
// asking for the same endpoint get one EPR.
func appendNew(all, ms []*match) []*match {
	for _, m := range ms {
		dup := false
		for _, a := range all {
			if a.key() == m.key() {
				dup = true
				break
			}
		}
		if !dup {
			all = append(all, m)
		}
	}
	return all
}

// candidates are the service instances a Query may return for the
// principal: the associated ones, and under the reception-desk rule the
// linked institutions' ones of the allowed types; and those that need the
// citizen's consent first (linked institutions' services without an
// association), read only when a Query needs them: a portal's Query that
// its associations answer reads no more than those.
type candidates struct {
	associated []*disco.SvcMD
	card       []*disco.SvcMD // reachable by the reception-desk rule
	policy     []*disco.SvcMD // offered by the DS's policy: its own audit service, the linked institutions' access logs
	cardTypes  []string
	linked     []*disco.SvcMD // every SvcMD of an institution the principal is linked with
	linkedRead bool
}

// readLinked reads c.linked once.
func (c *candidates) readLinked(ctx context.Context, d *DS, principal string) error {
	if c.linkedRead {
		return nil
	}
	var err error
	c.linked, err = d.linkedSvcMDs(ctx, principal)
	c.linkedRead = err == nil
	return err
}

func (d *DS) candidates(ctx context.Context, inv *Invoker, principal string, q *disco.Query, now time.Time) (*candidates, error) {
	c := &candidates{}
	assoc, err := d.cfg.Store.AssociatedSvcMDs(ctx, principal)
	if err != nil {
		return nil, err
	}
	if c.associated, err = d.decodeAll(assoc); err != nil {
		return nil, err
	}
	if d.offersAudit(inv) {
		c.policy = []*disco.SvcMD{d.auditSvcMD()}
	}
	if asksAudit(q) && contains(d.cfg.Policy.Portals, inv.Provider) {
		// Each institution's access log is the citizen's to read wherever
		// they are enrolled, consent or not: it says who read their data.
		if err := c.readLinked(ctx, d, principal); err != nil {
			return nil, err
		}
		for _, m := range c.linked {
			if offersAny(m, []string{audit.NS}) {
				c.policy = append(c.policy, m)
			}
		}
	}
	if d.fault(FaultSkipAssociation) {
		if err := c.readLinked(ctx, d, principal); err != nil {
			return nil, err
		}
		c.associated = append(c.associated, c.linked...)
	}
	if c.cardTypes = d.cardPresent(inv, now); len(c.cardTypes) > 0 {
		if err := c.readLinked(ctx, d, principal); err != nil {
			return nil, err
		}
		for _, m := range c.linked {
			if offersAny(m, c.cardTypes) {
				c.card = append(c.card, m)
			}
		}
	}
	return c, nil
}

// asksAudit reports whether a RequestedService names the audit service
// type: only then are the linked institutions' access logs read.
func asksAudit(q *disco.Query) bool {
	for _, rs := range q.RequestedServices {
		if contains(rs.ServiceTypes, audit.NS) {
			return true
		}
	}
	return false
}

// matches applies one RequestedService to the candidates, associated
// services first.
func (c *candidates) matches(d *DS, inv *Invoker, rs *disco.RequestedService) []*match {
	var out []*match
	seen := map[string]bool{}
	add := func(svcs []*disco.SvcMD, basis string, types []string) {
		for _, s := range svcs {
			for _, m := range d.endpoints(inv, rs, s, types) {
				if k := m.key(); !seen[k] {
					seen[k] = true
					m.basis = basis
					out = append(out, m)
				}
			}
		}
	}
	add(c.associated, BasisAssociation, nil)
	add(c.card, BasisCardPresent, c.cardTypes)
	add(c.policy, BasisPolicy, nil)
	if rs.ResultsType.Effective() != disco.ResultsAll && len(out) > 1 {
		out = out[:1] // best: the first in the DS's order, associations first (ZXID treats best as only-one)
	}
	return out
}

// needConsent returns the linked institutions' services the
// RequestedService asks for that an association would make available.
func (c *candidates) needConsent(ctx context.Context, d *DS, principal string, rs *disco.RequestedService) ([]*disco.SvcMD, error) {
	if err := c.readLinked(ctx, d, principal); err != nil {
		return nil, err
	}
	var out []*disco.SvcMD
	for _, s := range c.linked {
		if containsSvc(c.associated, s.ID) {
			continue
		}
		if len(rs.ProviderIDs) > 0 && !contains(rs.ProviderIDs, s.ProviderID) {
			continue
		}
		if len(rs.ServiceTypes) == 0 || offersAny(s, rs.ServiceTypes) {
			out = append(out, s)
		}
	}
	return out, nil
}

func containsSvc(list []*disco.SvcMD, id string) bool {
	for _, s := range list {
		if s.ID == id {
			return true
		}
	}
	return false
}

func offersAny(s *disco.SvcMD, types []string) bool {
	for _, sc := range s.ServiceContexts {
		for _, t := range sc.ServiceTypes {
			if contains(types, t) {
				return true
			}
		}
	}
	return false
}

// endpoints returns the endpoints of s that rs asks for (IDWSF2 §4.1),
// restricted to the service types in only when it is not nil.
func (d *DS) endpoints(inv *Invoker, rs *disco.RequestedService, s *disco.SvcMD, only []string) []*match {
	if len(rs.ProviderIDs) > 0 && !contains(rs.ProviderIDs, s.ProviderID) {
		return nil
	}
	var out []*match
	for i := range s.ServiceContexts {
		sc := &s.ServiceContexts[i]
		st := serviceType(sc, rs.ServiceTypes, only)
		if st == "" || !hasOptions(sc, rs.Options) {
			continue
		}
		for j := range sc.EndpointContexts {
			ep := &sc.EndpointContexts[j]
			if len(ep.Addresses) == 0 || !speaks(ep, rs.Frameworks) || !supports(ep, rs.Actions) {
				continue
			}
			if mechs := d.negotiate(inv, rs.SecurityMechIDs, ep.SecurityMechIDs); len(mechs) > 0 {
				out = append(out, &match{svc: s, ctx: sc, ep: ep, serviceType: st, mechs: mechs})
			}
		}
	}
	return out
}

// serviceType is the first service type of sc that is wanted (any when
// wanted is empty) and allowed (any when only is nil).
func serviceType(sc *disco.ServiceContext, wanted, only []string) string {
	for _, t := range sc.ServiceTypes {
		if (len(wanted) == 0 || contains(wanted, t)) && (only == nil || contains(only, t)) {
			return t
		}
	}
	return ""
}

// hasOptions: every Option of every requested Options element is among
// the service context's options; an Options element with no Option asks
// for nothing.
func hasOptions(sc *disco.ServiceContext, wanted []disco.Options) bool {
	var have []string
	for _, o := range sc.Options {
		have = append(have, o...)
	}
	for _, o := range wanted {
		for _, opt := range o {
			if !contains(have, opt) {
				return false
			}
		}
	}
	return true
}

// speaks: the endpoint supports one of the requested framework versions
// (none requested: any).
func speaks(ep *disco.EndpointContext, wanted []disco.Framework) bool {
	if len(wanted) == 0 {
		return true
	}
	for _, w := range wanted {
		for _, f := range ep.Frameworks {
			if f.Version == w.Version {
				return true
			}
		}
	}
	return false
}

// supports: the endpoint supports every requested action; an endpoint
// listing none supports all.
func supports(ep *disco.EndpointContext, wanted []string) bool {
	if len(ep.Actions) == 0 {
		return true
	}
	for _, a := range wanted {
		if !contains(ep.Actions, a) {
			return false
		}
	}
	return true
}

// negotiate returns the mechanisms of an EPR (IDWSF2 §4.1): those the WSC
// asked for (in its order; the DS's order when it named none) that the
// endpoint accepts and the DS's policy mints tokens for. TLS:Bearer only
// for a WSC whose profile enables it; holder-of-key only when the WSC
// proved a metadata certificate to bind the token to.
func (d *DS) negotiate(inv *Invoker, wanted, offered []string) []wsf.Mechanism {
	order := d.cfg.Policy.mechanisms()
	if len(wanted) > 0 {
		order = parseMechanisms(wanted)
	}
	offers := parseMechanisms(offered)
	var out []wsf.Mechanism
	for _, m := range order {
		if !hasMech(offers, m) || !hasMech(d.cfg.Policy.mechanisms(), m) || hasMech(out, m) {
			continue
		}
		info, _ := m.Info()
		switch {
		case info.Token == wsf.BearerToken && !inv.Profile.AllowBearer:
			continue
		case info.Token != wsf.BearerToken && inv.Cert == nil:
			continue
		}
		out = append(out, m)
	}
	return out
}

func parseMechanisms(urns []string) []wsf.Mechanism {
	var out []wsf.Mechanism
	for _, u := range urns {
		if m, ok := wsf.ParseMechanism(u); ok {
			out = append(out, m)
		}
	}
	return out
}

func hasMech(list []wsf.Mechanism, m wsf.Mechanism) bool {
	for _, v := range list {
		if v == m {
			return true
		}
	}
	return false
}
