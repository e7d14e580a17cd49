package discovery

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"time"

	"github.com/renkei-idwsf/renkei/store"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/disco"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// The SvcMD operations (IDWSF2 §4.3) are a WSP's own: it invokes them as
// itself (ClientTLS:X509), every SvcMD it sends names it as ProviderID,
// and it reads, replaces and deletes only its own. A request that breaks
// one rule changes nothing.

// Register stores each SvcMD under a fresh svcMDID and answers the IDs in
// order and the DS's signing keys (disco:Keys), with which the WSP
// verifies the tokens the DS will mint for it. An SvcMD equal to one the
// provider registered is Duplicate; one for the same service type and
// address with other details is LogicalDuplicate.
func (d *DS) Register(ctx context.Context, inv *Invoker, r *disco.SvcMDRegister) (*disco.SvcMDRegisterResponse, error) {
	now := d.cfg.now()
	if ref := d.ownSvcMDs(inv, r.SvcMDs, false); ref != nil {
		return &disco.SvcMDRegisterResponse{Status: statusOf(ref)}, d.auditRefusal(ctx, inv, "", inv.Provider, "SvcMDRegister", ref, now)
	}
	existing, err := d.providerSvcMDs(ctx, inv.Provider)
	if err != nil {
		return nil, err
	}
	if n := len(existing) + len(r.SvcMDs); n > MaxSvcMDsPerProvider {
		ref := refuse(disco.Failed, "%s would have %d SvcMDs, at most %d", inv.Provider, n, MaxSvcMDsPerProvider)
		return &disco.SvcMDRegisterResponse{Status: statusOf(ref)}, d.auditRefusal(ctx, inv, "", inv.Provider, "SvcMDRegister", ref, now)
	}
	seen := newContents(existing)
	recs := make([]store.SvcMD, len(r.SvcMDs))
	for i, m := range r.SvcMDs {
		if ref := seen.duplicate(m); ref != nil {
			return &disco.SvcMDRegisterResponse{Status: statusOf(ref)}, d.auditRefusal(ctx, inv, "", inv.Provider, "SvcMDRegister", ref, now)
		}
		id, err := randomHandle(d.cfg.Rand)
		if err != nil {
			return nil, err
		}
		if recs[i], err = record(m, "_"+id, now); err != nil {
			return nil, err
		}
	}
	resp := &disco.SvcMDRegisterResponse{Status: wsf.Status{Code: disco.OK}}
	if len(d.cfg.SigningKeys) > 0 {
		resp.Keys = []disco.Keys{{KeyDescriptors: d.cfg.SigningKeys}}
	}
	for _, rec := range recs {
		resp.SvcMDIDs = append(resp.SvcMDIDs, rec.ID)
	}
	if inv.Simulate {
		return resp, nil
	}
	for i, rec := range recs {
		if err := d.cfg.Store.CreateSvcMD(ctx, rec); err != nil {
			for _, done := range recs[:i] { // nothing of a failed request stays
				_ = d.cfg.Store.DeleteSvcMD(ctx, done.ID)
			}
			return nil, err
		}
	}
	return resp, nil
}

// SvcMDQuery answers the provider's SvcMDs with the IDs asked for, or all
// of them when none is named. Another provider's ID is Forbidden, an
// unknown one NotFound.
//
// A portal of the policy invoking on a principal's behalf (a DS token)
// reads instead the SvcMDs that principal is associated with, which the
// IDs of SvcMDAssociationQuery alone cannot name: the linked-institutions
// page shows what each consent covers and withdraws it by ID (IDWSF2 §4.3
// leaves association reads to DS policy). An ID the principal is not
// associated with is NotFound, whether or not it exists.
func (d *DS) SvcMDQuery(ctx context.Context, inv *Invoker, q *disco.SvcMDQuery) (*disco.SvcMDQueryResponse, error) {
	now := d.cfg.now()
	if len(q.SvcMDIDs) > MaxIDsPerRequest {
		ref := refuse(disco.Failed, "%d SvcMDIDs in one request, at most %d", len(q.SvcMDIDs), MaxIDsPerRequest)
		return &disco.SvcMDQueryResponse{Status: statusOf(ref)}, d.auditRefusal(ctx, inv, "", inv.Provider, "SvcMDQuery", ref, now)
	}
	if inv.Subject != nil && contains(d.cfg.Policy.Portals, inv.Provider) {
		return d.associatedSvcMDQuery(ctx, inv, q, now)
	}
	if !inv.ActsAsItself() {
		ref := refuse(disco.Forbidden, "SvcMDQuery by %s not as itself (%s)", inv.Provider, inv.Mechanism)
		return &disco.SvcMDQueryResponse{Status: statusOf(ref)}, d.auditRefusal(ctx, inv, "", inv.Provider, "SvcMDQuery", ref, now)
	}
	var svcs []*disco.SvcMD
	if len(q.SvcMDIDs) == 0 {
		all, err := d.providerSvcMDs(ctx, inv.Provider)
		if err != nil {
			return nil, err
		}
		svcs = all
	}
	for _, id := range q.SvcMDIDs {
		s, ref, err := d.own(ctx, inv, id)
		if err != nil {
			return nil, err
		}
		if ref != nil {
			return &disco.SvcMDQueryResponse{Status: statusOf(ref)}, d.auditRefusal(ctx, inv, "", inv.Provider, "SvcMDQuery", ref, now)
		}
		svcs = append(svcs, s)
	}
	return &disco.SvcMDQueryResponse{Status: wsf.Status{Code: disco.OK}, SvcMDs: svcs}, nil
}

// associatedSvcMDQuery is SvcMDQuery by a portal for the principal its
// token names.
func (d *DS) associatedSvcMDQuery(ctx context.Context, inv *Invoker, q *disco.SvcMDQuery, now time.Time) (*disco.SvcMDQueryResponse, error) {
	principal, ref, err := d.principal(ctx, inv)
	if err != nil {
		return nil, err
	}
	if ref != nil {
		return &disco.SvcMDQueryResponse{Status: statusOf(ref)}, d.auditRefusal(ctx, inv, "", "", "SvcMDQuery", ref, now)
	}
	recs, err := d.cfg.Store.AssociatedSvcMDs(ctx, principal)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]store.SvcMD, len(recs))
	for _, r := range recs {
		byID[r.ID] = r
	}
	var picked []store.SvcMD
	if len(q.SvcMDIDs) == 0 {
		picked = recs
	}
	for _, id := range q.SvcMDIDs {
		r, ok := byID[id]
		if !ok {
			ref := refuse(disco.NotFound, "the principal is not associated with SvcMD %q", id)
			return &disco.SvcMDQueryResponse{Status: statusOf(ref)}, d.auditRefusal(ctx, inv, principal, "", "SvcMDQuery", ref, now)
		}
		picked = append(picked, r)
	}
	svcs, err := d.decodeAll(picked)
	if err != nil {
		return nil, err
	}
	return &disco.SvcMDQueryResponse{Status: wsf.Status{Code: disco.OK}, SvcMDs: svcs}, nil
}

// Replace replaces each SvcMD named by its svcMDID with the one sent.
func (d *DS) Replace(ctx context.Context, inv *Invoker, r *disco.SvcMDReplace) (*disco.SvcMDReplaceResponse, error) {
	now := d.cfg.now()
	fail := func(ref *refusal) (*disco.SvcMDReplaceResponse, error) {
		return &disco.SvcMDReplaceResponse{Status: statusOf(ref)}, d.auditRefusal(ctx, inv, "", inv.Provider, "SvcMDReplace", ref, now)
	}
	if ref := d.ownSvcMDs(inv, r.SvcMDs, true); ref != nil {
		return fail(ref)
	}
	recs := make([]store.SvcMD, len(r.SvcMDs))
	for i, m := range r.SvcMDs {
		prev, ref, err := d.own(ctx, inv, m.ID)
		if err != nil {
			return nil, err
		}
		if ref == nil {
			ref = widens(prev, m)
		}
		if ref != nil {
			return fail(ref)
		}
		if recs[i], err = record(m, m.ID, now); err != nil {
			return nil, err
		}
	}
	if !inv.Simulate {
		for _, rec := range recs {
			_, err := d.cfg.Store.UpdateSvcMD(ctx, rec.ID, func(old store.SvcMD) (store.SvcMD, error) {
				if old.ProviderID != inv.Provider { // re-checked under the store's lock
					return old, errForeign
				}
				return rec, nil
			})
			if errors.Is(err, errForeign) || errors.Is(err, store.ErrNotFound) {
				return fail(refuse(disco.NotFound, "SvcMD %s vanished or changed hands", rec.ID))
			}
			if err != nil {
				return nil, err
			}
		}
	}
	return &disco.SvcMDReplaceResponse{Status: wsf.Status{Code: disco.OK}}, nil
}

var errForeign = errors.New("discovery: another provider's SvcMD")

// widens refuses a replacement that adds a service type: an association
// (the citizen's consent) covers every type of its SvcMD, so a type added
// afterwards would be consented to by nobody. A new type is a new
// SvcMD, registered and consented to on its own.
func widens(prev, next *disco.SvcMD) *refusal {
	had := allTypes(prev)
	for _, t := range allTypes(next) {
		if !contains(had, t) {
			return refuse(disco.Failed, "SvcMDReplace of %s adds service type %s: register a new SvcMD", prev.ID, t)
		}
	}
	return nil
}

// Delete removes each SvcMD named, with its associations.
func (d *DS) Delete(ctx context.Context, inv *Invoker, r *disco.SvcMDDelete) (*disco.SvcMDDeleteResponse, error) {
	now := d.cfg.now()
	fail := func(ref *refusal) (*disco.SvcMDDeleteResponse, error) {
		return &disco.SvcMDDeleteResponse{Status: statusOf(ref)}, d.auditRefusal(ctx, inv, "", inv.Provider, "SvcMDDelete", ref, now)
	}
	if !inv.ActsAsItself() {
		return fail(refuse(disco.Forbidden, "SvcMDDelete by %s not as itself (%s)", inv.Provider, inv.Mechanism))
	}
	if len(r.SvcMDIDs) > MaxIDsPerRequest {
		return fail(refuse(disco.Failed, "%d SvcMDIDs in one request, at most %d", len(r.SvcMDIDs), MaxIDsPerRequest))
	}
	for _, id := range r.SvcMDIDs {
		if _, ref, err := d.own(ctx, inv, id); err != nil || ref != nil {
			if err != nil {
				return nil, err
			}
			return fail(ref)
		}
	}
	if !inv.Simulate {
		for _, id := range r.SvcMDIDs {
			if err := d.cfg.Store.DeleteSvcMD(ctx, id); err != nil && !errors.Is(err, store.ErrNotFound) {
				return nil, err
			}
		}
	}
	return &disco.SvcMDDeleteResponse{Status: wsf.Status{Code: disco.OK}}, nil
}

// ownSvcMDs checks a Register or Replace: the provider invokes as itself,
// every SvcMD names it, carries an svcMDID exactly when replacing, and
// every endpoint address is https.
func (d *DS) ownSvcMDs(inv *Invoker, svcs []*disco.SvcMD, replace bool) *refusal {
	if !inv.ActsAsItself() {
		return refuse(disco.Forbidden, "SvcMD change by %s not as itself (%s)", inv.Provider, inv.Mechanism)
	}
	if len(svcs) > MaxSvcMDsPerRequest {
		return refuse(disco.Failed, "%d SvcMDs in one request, at most %d", len(svcs), MaxSvcMDsPerRequest)
	}
	for _, m := range svcs {
		switch {
		case m.ProviderID != inv.Provider:
			return refuse(disco.Forbidden, "SvcMD of %q sent by %q", m.ProviderID, inv.Provider)
		case replace && m.ID == "":
			return refuse(disco.NotFound, "SvcMDReplace without svcMDID")
		case !replace && m.ID != "":
			return refuse(disco.Failed, "SvcMDRegister with svcMDID %q: the DS assigns it", m.ID)
		}
		for _, sc := range m.ServiceContexts {
			for _, ep := range sc.EndpointContexts {
				for _, a := range ep.Addresses {
					if u, err := url.Parse(a); err != nil || u.Scheme != "https" || u.Host == "" {
						return refuse(disco.Failed, "endpoint %q is not an https URL", a)
					}
				}
			}
		}
	}
	return nil
}

// own returns the provider's SvcMD id: NotFound when it does not exist,
// Forbidden when it is another provider's.
func (d *DS) own(ctx context.Context, inv *Invoker, id string) (*disco.SvcMD, *refusal, error) {
	r, err := d.cfg.Store.SvcMD(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrInvalid):
		return nil, refuse(disco.NotFound, "no SvcMD %q", id), nil
	case err != nil:
		return nil, nil, err
	case r.ProviderID != inv.Provider:
		return nil, refuse(disco.Forbidden, "SvcMD %q is %s's, not %s's", id, r.ProviderID, inv.Provider), nil
	}
	s, err := d.decode(r)
	return s, nil, err
}

func (d *DS) providerSvcMDs(ctx context.Context, provider string) ([]*disco.SvcMD, error) {
	rs, err := d.cfg.Store.SvcMDs(ctx, provider)
	if err != nil {
		return nil, err
	}
	return d.decodeAll(rs)
}

// record is the store's row of m under id.
func record(m *disco.SvcMD, id string, now time.Time) (store.SvcMD, error) {
	c := *m
	c.ID = id
	b, err := xmlsec.Serialize(c.Element())
	if err != nil {
		return store.SvcMD{}, err
	}
	rec := store.SvcMD{ID: id, ProviderID: m.ProviderID, XML: b, Updated: now}
	for _, sc := range m.ServiceContexts {
		for _, t := range sc.ServiceTypes {
			if !contains(rec.ServiceTypes, t) {
				rec.ServiceTypes = append(rec.ServiceTypes, t)
			}
		}
	}
	return rec, nil
}

// contents are SvcMDs with their canonical bytes (without svcMDID),
// each serialized once.
type contents struct {
	svcs  []*disco.SvcMD
	bytes [][]byte
}

func newContents(svcs []*disco.SvcMD) *contents {
	c := &contents{}
	for _, s := range svcs {
		c.add(s)
	}
	return c
}

func (c *contents) add(m *disco.SvcMD) {
	c.svcs = append(c.svcs, m)
	c.bytes = append(c.bytes, content(m))
}

// duplicate reports an SvcMD equal to one of c (Duplicate), or offering a
// service type at an address one of them offers, with other details
// (LogicalDuplicate); otherwise it adds m to c.
func (c *contents) duplicate(m *disco.SvcMD) *refusal {
	mine := content(m)
	for i, o := range c.svcs {
		if bytes.Equal(mine, c.bytes[i]) {
			return refuse(disco.Duplicate, "SvcMD equal to %q", o.ID)
		}
		if t, a := overlap(m, o); t != "" {
			return refuse(disco.LogicalDuplicate, "%s at %s already registered as %q", t, a, o.ID)
		}
	}
	c.svcs, c.bytes = append(c.svcs, m), append(c.bytes, mine)
	return nil
}

// content is m's canonical bytes without its svcMDID.
func content(m *disco.SvcMD) []byte {
	c := *m
	c.ID = ""
	b, _ := xmlsec.Serialize(c.Element())
	return b
}

func overlap(a, b *disco.SvcMD) (string, string) {
	for _, sa := range a.ServiceContexts {
		for _, sb := range b.ServiceContexts {
			for _, t := range sa.ServiceTypes {
				if !contains(sb.ServiceTypes, t) {
					continue
				}
				for _, ea := range sa.EndpointContexts {
					for _, eb := range sb.EndpointContexts {
						for _, addr := range ea.Addresses {
							if contains(eb.Addresses, addr) {
								return t, addr
							}
						}
					}
				}
			}
		}
	}
	return "", ""
}
