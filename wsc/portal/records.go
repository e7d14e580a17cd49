package portal

import (
	"context"
	"errors"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/renkei-idwsf/renkei/wsc"
	"github.com/renkei-idwsf/renkei/wsf/client"
	"github.com/renkei-idwsf/renkei/wsf/dst"
)

// Name is an institution's name in the portal's languages.
type Name = wsc.Name

// InstitutionName is the provider's md:OrganizationDisplayName (else
// OrganizationName) in Japanese and English from the metadata; the
// entityID when the metadata names it in neither.
func (p *Portal) InstitutionName(provider string) Name {
	e, _ := p.cfg.Directory.Entity(provider, p.now())
	n := wsc.OrganizationName(e)
	if n.Ja == "" && n.En == "" {
		n.Ja, n.En = provider, provider
	}
	return n
}

// Problem says why an institution's section is missing (wsc.Problem).
type Problem = wsc.Problem

// The problems a section can have.
const (
	NoProblem = wsc.NoProblem
	Slow      = wsc.Slow
	Down      = wsc.Down
	Refused   = wsc.Refused
)

// problemOf classifies a call's error for the banner.
func problemOf(err error) Problem { return wsc.ProblemOf(err) }

// Section is one service of one institution: what it answered, each item
// type's items newest first, or why not.
type Section struct {
	Provider    string
	Institution Name
	ServiceType string
	Service     *dst.Service
	// Items are the items by item type name.
	Items   map[string][]dst.Item
	Problem Problem
	Err     error
}

// Overview is the citizen's records at every institution the DS named.
type Overview struct {
	Sections []*Section
	// Fetched is when the answers were asked for.
	Fetched time.Time
}

// ErrDiscovery wraps a failure of the Discovery Service: without it the
// portal knows no institution, and says so on a page of its own.
var ErrDiscovery = errors.New("portal: the Discovery Service could not be asked")

// Records asks every institution the Discovery Service names for the
// citizen's records of the service types (none: every DST service type),
// every item type but the appointment slots, in parallel, each call under
// the portal's timeout. A section whose institution did not answer has
// its Problem; the others are complete. Only the DS failing is an error
// (ErrDiscovery).
func (p *Portal) Records(ctx context.Context, c *Citizen, types ...string) (*Overview, error) {
	if len(types) == 0 {
		for _, s := range dst.Services() {
			types = append(types, s.NS)
		}
	}
	dctx, cancel := context.WithTimeout(ctx, p.timeout())
	eprs, err := c.WSC.Discover(dctx, types...)
	cancel()
	if err != nil {
		return nil, errors.Join(ErrDiscovery, err)
	}
	ov := &Overview{Fetched: p.now()}
	var calls []wsc.Call
	for _, e := range eprs {
		svc := dst.Lookup(e.Metadata.ServiceType)
		if svc == nil || hasSection(ov, e.Metadata.ProviderID, svc.NS) {
			continue
		}
		q := &dst.Query{}
		for _, it := range svc.Items {
			if it.Name == "Slot" {
				continue // the institution's, not the citizen's: the booking page asks
			}
			q.Items = append(q.Items, dst.QueryItem{ItemID: it.Name, Select: "/" + svc.Prefix + ":" + it.Name,
				HasSelect: true, Count: -1})
		}
		call, err := wsc.DSTQuery(svc.NS, e.Metadata.ProviderID, q)
		if err != nil {
			return nil, err
		}
		calls = append(calls, call)
		ov.Sections = append(ov.Sections, &Section{Provider: e.Metadata.ProviderID,
			Institution: p.InstitutionName(e.Metadata.ProviderID), ServiceType: svc.NS, Service: svc})
	}
	outs := c.WSC.CallAll(ctx, calls, p.timeout())
	for i, s := range ov.Sections {
		s.Items, s.Err = decodeRecords(s.Service, outs[i])
		s.Problem = problemOf(s.Err)
	}
	sortSections(ov.Sections)
	return ov, nil
}

func hasSection(ov *Overview, provider, typ string) bool {
	for _, s := range ov.Sections {
		if s.Provider == provider && s.ServiceType == typ {
			return true
		}
	}
	return false
}

// decodeRecords reads a query's answer: the items of each QueryItem by
// the item type it asked for, newest first.
func decodeRecords(svc *dst.Service, o wsc.Outcome) (map[string][]dst.Item, error) {
	items, err := wsc.DecodeItems(svc, o)
	if err != nil {
		return nil, err
	}
	for typ, list := range items {
		SortNewest(svc, typ, list)
	}
	return items, nil
}

// sortSections orders sections by institution, then by the catalog's
// order of service types.
func sortSections(ss []*Section) {
	order := map[string]int{}
	for i, s := range dst.Services() {
		order[s.NS] = i
	}
	sort.SliceStable(ss, func(i, j int) bool {
		if ss[i].Provider != ss[j].Provider {
			return ss[i].Provider < ss[j].Provider
		}
		return order[ss[i].ServiceType] < order[ss[j].ServiceType]
	})
}

// DateField is the field of an item type that dates it: its first
// field of a date, dateTime or gYearMonth type; "" when none.
func DateField(svc *dst.Service, itemType string) string {
	t := svc.Item(itemType)
	if t == nil {
		return ""
	}
	for _, f := range t.Fields {
		switch f.Type {
		case dst.Date, dst.DateTime, dst.GYearMonth:
			return f.Name
		}
	}
	return ""
}

// When is the instant an item is dated by (DateField), zero when it has
// none or it does not parse.
func When(svc *dst.Service, it *dst.Item) time.Time {
	f := DateField(svc, it.Type)
	if f == "" {
		return time.Time{}
	}
	v := it.Get(f)
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", time.DateOnly, "2006-01"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t
		}
	}
	return time.Time{}
}

// SortNewest sorts items of one type newest first by their date field.
func SortNewest(svc *dst.Service, itemType string, items []dst.Item) {
	sort.SliceStable(items, func(i, j int) bool { return When(svc, &items[i]).After(When(svc, &items[j])) })
}

// Range is where a lab value lies against its reference range.
type Range int

// The places of a value.
const (
	InRange Range = iota
	Low
	High
	// Unranged: no numeric value, or no reference range.
	Unranged
)

// LabRange places a LabResult's Value against its Low and High.
func LabRange(it *dst.Item) Range {
	v, err := strconv.ParseFloat(strings.TrimSpace(it.Get("Value")), 64)
	if err != nil {
		return Unranged
	}
	lo, errLo := strconv.ParseFloat(it.Get("Low"), 64)
	hi, errHi := strconv.ParseFloat(it.Get("High"), 64)
	switch {
	case errLo != nil && errHi != nil:
		return Unranged
	case errLo == nil && v < lo:
		return Low
	case errHi == nil && v > hi:
		return High
	}
	return InRange
}

// RedirectOf returns the RedirectRequest an error carries, or nil.
func RedirectOf(err error) *client.RedirectError {
	var re *client.RedirectError
	if errors.As(err, &re) {
		return re
	}
	return nil
}
