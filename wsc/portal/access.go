package portal

import (
	"context"
	"errors"
	"sort"

	"github.com/renkei-idwsf/renkei/wsc"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/audit"
)

// MaxAccessEvents bounds the events read from each source for one page.
const MaxAccessEvents = 200

// Access is one event of the access log, with the source that recorded
// it: the Discovery Service (tokens issued, consents) or an institution
// (its accesses to the citizen's records).
type Access struct {
	audit.Event
	Source     string
	SourceName Name
}

// AccessSource is one audit service asked, and why it did not answer.
type AccessSource struct {
	Provider string
	Name     Name
	Problem  Problem
	Err      error
}

// AccessLog is "who looked at my data, when and why": the events of every
// audit service the Discovery Service names (its own and each linked
// institution's), merged newest first.
type AccessLog struct {
	Events  []Access
	Sources []AccessSource
}

// AccessLog asks every audit service of the citizen at once, each under
// the portal's timeout, for its newest events.
func (p *Portal) AccessLog(ctx context.Context, c *Citizen) (*AccessLog, error) {
	dctx, cancel := context.WithTimeout(ctx, p.timeout())
	eprs, err := c.WSC.Discover(dctx, audit.NS)
	cancel()
	if err != nil {
		return nil, errors.Join(ErrDiscovery, err)
	}
	log := &AccessLog{}
	var calls []wsc.Call
	for _, e := range eprs {
		q := &audit.Query{Items: []audit.QueryItem{{ItemID: "events", Select: "/au:Event", Count: MaxAccessEvents}}}
		calls = append(calls, wsc.Call{ServiceType: audit.NS, Provider: e.Metadata.ProviderID, Op: "Query", Payload: q.Element()})
		log.Sources = append(log.Sources, AccessSource{Provider: e.Metadata.ProviderID, Name: p.sourceName(e.Metadata.ProviderID)})
	}
	for i, o := range c.WSC.CallAll(ctx, calls, p.timeout()) {
		src := &log.Sources[i]
		events, err := decodeEvents(o)
		src.Err, src.Problem = err, problemOf(err)
		for _, ev := range events {
			log.Events = append(log.Events, Access{Event: ev, Source: src.Provider, SourceName: src.Name})
		}
	}
	sort.SliceStable(log.Events, func(i, j int) bool { return log.Events[i].Time.After(log.Events[j].Time) })
	return log, nil
}

func (p *Portal) sourceName(provider string) Name {
	if provider == p.cfg.DS {
		n := p.InstitutionName(provider)
		if n.Ja == provider {
			return Name{Ja: "ディスカバリサービス", En: "Discovery Service"}
		}
		return n
	}
	return p.InstitutionName(provider)
}

func decodeEvents(o wsc.Outcome) ([]audit.Event, error) {
	if o.Err != nil {
		return nil, o.Err
	}
	r, err := audit.DecodeQueryResponse(o.Result.Payload)
	if err != nil {
		return nil, err
	}
	if r.Status.Code != wsf.OK {
		return nil, &wsc.ServiceStatusError{Status: r.Status}
	}
	var out []audit.Event
	for _, d := range r.Data {
		out = append(out, d.Events...)
	}
	return out, nil
}
