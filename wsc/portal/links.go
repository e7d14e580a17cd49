package portal

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/disco"
	"github.com/renkei-idwsf/renkei/wsf/dst"
	"github.com/renkei-idwsf/renkei/wsf/metadir"
)

// Link is one consent of the citizen: an association with one service
// of one institution, as the Discovery Service holds it.
type Link struct {
	SvcMDID      string
	Provider     string
	Institution  Name
	Abstract     string
	ServiceTypes []string
}

// Institution is an institution of the federation that offers citizens'
// services: what the portal may ask the citizen to link.
type Institution struct {
	Provider     string
	Name         Name
	ServiceTypes []string
	// Links are the citizen's consents with it; none: not linked.
	Links []Link
}

// Institutions lists the institutions of the metadata aggregate that
// offer one of the DST service types, each with the citizen's consents
// (SvcMDAssociationQuery, then SvcMDQuery for what each covers), in the
// order of their entityIDs.
func (p *Portal) Institutions(ctx context.Context, c *Citizen) ([]*Institution, error) {
	links, err := p.Links(ctx, c)
	if err != nil {
		return nil, err
	}
	byProvider := map[string]*Institution{}
	var out []*Institution
	for _, e := range p.cfg.Directory.Entries(p.now()) {
		types := offered(e.Entity)
		if len(types) == 0 || e.Entity.EntityID == p.cfg.DS {
			continue
		}
		in := &Institution{Provider: e.Entity.EntityID, Name: p.InstitutionName(e.Entity.EntityID), ServiceTypes: types}
		byProvider[in.Provider] = in
		out = append(out, in)
	}
	for _, l := range links {
		in := byProvider[l.Provider]
		if in == nil { // linked, but gone from the metadata
			in = &Institution{Provider: l.Provider, Name: l.Institution}
			byProvider[l.Provider] = in
			out = append(out, in)
		}
		in.Links = append(in.Links, l)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Provider < out[j].Provider })
	return out, nil
}

// Offered returns the DST service types the institution provider offers,
// as the metadata lists its web services; none when it lists none.
func (p *Portal) Offered(provider string) []string {
	e, err := p.cfg.Directory.Entity(provider, p.now())
	if err != nil {
		return nil
	}
	return offered(e)
}

// offered returns the DST service types an entity's web service roles
// offer, in the catalog's order.
func offered(e *md.EntityDescriptor) []string {
	var types []string
	for _, r := range e.Roles {
		if !metadir.IsWebService(r) {
			continue
		}
		ws, err := metadir.DecodeWebService(r)
		if err != nil {
			continue
		}
		for _, s := range dst.Services() {
			if ws.Offers(s.NS) && !contains(types, s.NS) {
				types = append(types, s.NS)
			}
		}
	}
	return types
}

// Links returns the citizen's consents: the SvcMDs the Discovery Service
// has associated with them.
func (p *Portal) Links(ctx context.Context, c *Citizen) ([]Link, error) {
	ctx, cancel := context.WithTimeout(ctx, p.timeout())
	defer cancel()
	res, err := c.WSC.CallDS(ctx, "SvcMDQuery", (&disco.SvcMDQuery{}).Element(), wsf.Header{})
	if err != nil {
		return nil, errors.Join(ErrDiscovery, err)
	}
	r, err := disco.DecodeSvcMDQueryResponse(res.Payload)
	if err != nil {
		return nil, errors.Join(ErrDiscovery, err)
	}
	if r.Status.Code != disco.OK {
		return nil, errors.Join(ErrDiscovery, fmt.Errorf("SvcMDQuery: %s", r.Status.Code))
	}
	var out []Link
	for _, m := range r.SvcMDs {
		l := Link{SvcMDID: m.ID, Provider: m.ProviderID, Institution: p.InstitutionName(m.ProviderID), Abstract: m.Abstract}
		for _, sc := range m.ServiceContexts {
			for _, t := range sc.ServiceTypes {
				if !contains(l.ServiceTypes, t) {
					l.ServiceTypes = append(l.ServiceTypes, t)
				}
			}
		}
		out = append(out, l)
	}
	return out, nil
}

// Withdraw withdraws the citizen's consents ids (SvcMDAssociationDelete)
// and forgets the EPRs the portal holds of their service types, so that
// no page uses them again.
func (p *Portal) Withdraw(ctx context.Context, c *Citizen, ids ...string) error {
	links, err := p.Links(ctx, c)
	if err != nil {
		return err
	}
	var types []string
	for _, id := range ids {
		found := false
		for _, l := range links {
			if l.SvcMDID == id {
				found = true
				types = append(types, l.ServiceTypes...)
			}
		}
		if !found {
			return ErrNotFound
		}
	}
	ctx, cancel := context.WithTimeout(ctx, p.timeout())
	defer cancel()
	res, err := c.WSC.CallDS(ctx, "SvcMDAssociationDelete", (&disco.SvcMDAssociationDelete{SvcMDIDs: ids}).Element(), wsf.Header{})
	if err != nil {
		return errors.Join(ErrDiscovery, err)
	}
	r, err := disco.DecodeSvcMDAssociationDeleteResponse(res.Payload)
	if err != nil {
		return errors.Join(ErrDiscovery, err)
	}
	c.WSC.Forget(types...)
	switch r.Status.Code {
	case disco.OK:
		return nil
	case disco.NotFound:
		return ErrNotFound
	}
	return errors.Join(ErrDiscovery, fmt.Errorf("SvcMDAssociationDelete: %s", r.Status.Code))
}

// ErrNotEnrolled: the institution does not know the citizen yet (no link
// in the relay database): enrolment is at its desk, with the card.
var ErrNotEnrolled = errors.New("portal: the citizen is not registered at the institution")

// Pending is a consent under way: the Discovery Service's consent page to
// send the browser to, and what to re-send when the citizen comes back.
type Pending struct {
	URL            string
	FaultMessageID string
	Provider       string
	ServiceTypes   []string
}

// StartLink asks the Discovery Service for the services of the
// institution provider that the citizen has not consented to, allowing it
// to redirect the citizen: a *Pending to the DS's consent page when it
// wants the citizen's consent; nil when the consent already exists
// (nothing to do); ErrNotEnrolled when the institution has no link for
// the citizen.
func (p *Portal) StartLink(ctx context.Context, c *Citizen, provider string, types []string) (*Pending, error) {
	ctx, cancel := context.WithTimeout(ctx, p.timeout())
	defer cancel()
	q := linkQuery(provider, types)
	h := wsf.Header{UserInteraction: &wsf.UserInteraction{Interact: wsf.InteractIfNeeded, Redirect: true}}
	res, err := c.WSC.CallDS(ctx, "Query", q.Element(), h)
	if re := RedirectOf(err); re != nil {
		return &Pending{URL: re.URL, FaultMessageID: re.FaultMessageID, Provider: provider, ServiceTypes: types}, nil
	}
	if err != nil {
		return nil, errors.Join(ErrDiscovery, err)
	}
	return nil, queryOutcome(res.Payload, res.Sender.Profile)
}

// FinishLink re-sends the Query of a consent the citizen answered
// (IDWSF2 §2.6: RelatesTo the fault's MessageID) and forgets the cached
// EPRs of its types, so that the pages see the new services.
func (p *Portal) FinishLink(ctx context.Context, c *Citizen, pd *Pending) error {
	ctx, cancel := context.WithTimeout(ctx, p.timeout())
	defer cancel()
	q := linkQuery(pd.Provider, pd.ServiceTypes)
	res, err := c.WSC.CallDS(ctx, "Query", q.Element(), wsf.Header{RelatesTo: pd.FaultMessageID})
	c.WSC.Forget()
	if err != nil {
		return errors.Join(ErrDiscovery, err)
	}
	return queryOutcome(res.Payload, res.Sender.Profile)
}

func linkQuery(provider string, types []string) *disco.Query {
	return &disco.Query{RequestedServices: []disco.RequestedService{{ServiceTypes: types, ProviderIDs: []string{provider},
		ResultsType: disco.ResultsAll}}}
}

// queryOutcome reads the answer of a link Query: EPRs mean the consent
// exists; NoResults that the institution does not know the citizen.
func queryOutcome(payload *etree.Element, prof wsf.Profile) error {
	m, err := disco.Decode(payload, prof)
	if err != nil {
		return errors.Join(ErrDiscovery, err)
	}
	r, ok := m.(*disco.QueryResponse)
	if !ok {
		return errors.Join(ErrDiscovery, fmt.Errorf("answer %T to a Query", m))
	}
	switch {
	case r.Status.Code == disco.OK && len(r.EPRs) > 0:
		return nil
	case r.Status.Code == disco.OK || r.Status.Code == disco.NoResults:
		return ErrNotEnrolled
	}
	return errors.Join(ErrDiscovery, fmt.Errorf("Query: %s", r.Status.Code))
}
