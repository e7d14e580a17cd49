package wsc

import (
	"context"
	"errors"
	"strings"

	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/dst"
)

// What a WSC shows of many institutions at once (My Portal's dashboard,
// the reception terminal's screen): each institution's name, and why a
// section is missing when it is.

// Name is an institution's name in Japanese and English.
type Name struct {
	Ja, En string
}

// In returns the name in lang ("ja" or "en"), the other when missing.
func (n Name) In(lang string) string {
	if lang == "ja" && n.Ja != "" || n.En == "" {
		return n.Ja
	}
	return n.En
}

// OrganizationName is e's md:OrganizationDisplayName (else
// OrganizationName) in Japanese and English; the zero Name when the
// metadata names it in neither.
func OrganizationName(e *md.EntityDescriptor) Name {
	var n Name
	if e == nil || e.Organization == nil {
		return n
	}
	for _, list := range [][]md.Localized{e.Organization.DisplayNames, e.Organization.Names} {
		for _, l := range list {
			switch {
			case strings.HasPrefix(l.Lang, "ja") && n.Ja == "":
				n.Ja = l.Value
			case strings.HasPrefix(l.Lang, "en") && n.En == "":
				n.En = l.Value
			}
		}
	}
	return n
}

// Problem says why an institution's section is missing.
type Problem int

// The problems a section can have.
const (
	// NoProblem: the institution answered.
	NoProblem Problem = iota
	// Slow: no answer within the WSC's timeout.
	Slow
	// Down: the institution could not be reached.
	Down
	// Refused: it answered with a fault or a status other than OK.
	Refused
)

// ProblemOf classifies a call's error.
func ProblemOf(err error) Problem {
	var f *wsf.Fault
	var st *ServiceStatusError
	var ds *StatusError
	switch {
	case err == nil:
		return NoProblem
	case errors.Is(err, context.DeadlineExceeded):
		return Slow
	case errors.As(err, &f), errors.As(err, &st), errors.As(err, &ds), errors.Is(err, ErrNotDiscovered):
		return Refused
	default:
		return Down
	}
}

// ServiceStatusError is a WSP's answer whose status is not OK.
type ServiceStatusError struct{ Status wsf.Status }

// Error names the status code and its sub-statuses.
func (e *ServiceStatusError) Error() string {
	s := "wsc: the service answered " + string(e.Status.Code)
	for _, sub := range e.Status.Sub {
		s += "/" + string(sub.Code)
	}
	return s
}

// DecodeItems reads a DST query's answer of svc: the items of every
// QueryItem by item type, in the order given. An error of the call, an
// answer that does not decode or a status other than OK is the error.
func DecodeItems(svc *dst.Service, o Outcome) (map[string][]dst.Item, error) {
	if o.Err != nil {
		return nil, o.Err
	}
	r, err := svc.DecodeQueryResponse(o.Result.Payload)
	if err != nil {
		return nil, err
	}
	if r.Status.Code != wsf.OK {
		return nil, &ServiceStatusError{Status: r.Status}
	}
	items := map[string][]dst.Item{}
	for _, d := range r.Data {
		for _, it := range d.Items {
			items[it.Type] = append(items[it.Type], it)
		}
	}
	return items, nil
}
