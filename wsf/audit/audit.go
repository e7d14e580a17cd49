// Package audit holds the wire types of Renkei's audit service,
// urn:renkei:svc:audit:1.0 (ARCHITECTURE "Audit"): a read-only Data
// Services Template 2.1 service (IDWSF2 §5) whose data is the events of
// one principal, newest first. The Discovery Service serves its tokens
// and refusals with it, each WSP its accesses; My Portal reads them. The
// schema is xmlsec/xsd's renkei-svc-audit-1.0.xsd.
//
// Select is a restricted XPath with one form: "/P:Event" where P is bound
// to NS, every event of the principal. A decoder resolves the prefix in
// the Select element's scope and reports the path in Clark notation
// (SelectEvents); the service answers InvalidSelect for anything else.
package audit

import (
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/wire"
)

// NS is the service's namespace and service type.
const NS = "urn:renkei:svc:audit:1.0"

// Action returns the wsa:Action of an operation of the service (IDWSF2 §5:
// the service namespace, ':' and the element name).
func Action(op string) string { return NS + ":" + op }

// SelectEvents is the one Select the service answers, resolved: every
// event of the principal.
const SelectEvents = "/{" + NS + "}Event"

// The DST status codes the service answers (IDWSF2 §5.2): top-level OK,
// Partial or Failed, the second level nested with ref = the item.
const (
	InvalidSelect       wsf.Code = "InvalidSelect"
	ActionNotAuthorized wsf.Code = "ActionNotAuthorized"
	Partial             wsf.Code = "Partial"
)

// Limits of one request.
const (
	MaxItems     = 16
	MaxSelectLen = 256
)

// Query is au:Query: one or more QueryItems (none asks for nothing).
type Query struct {
	ItemID string
	Items  []QueryItem
}

// QueryItem is au:QueryItem: a Select and the page wanted.
type QueryItem struct {
	ItemID string
	// Select is the Select's text as sent; SelectPath its path with each
	// prefix resolved, "/{ns}local" per step ("" when there is no Select
	// or a prefix is unbound).
	Select     string
	SelectPath string
	// Count is the page size, -1 when absent; Offset the first event.
	Count  int
	Offset int
}

// QueryResponse is au:QueryResponse: the status and one Data per item.
type QueryResponse struct {
	Status    wsf.Status
	TimeStamp time.Time
	Data      []Data
}

// Data is au:Data: one page of events for the item ItemIDRef.
type Data struct {
	ItemIDRef string
	Events    []Event
	// Remaining is how many events follow this page, -1 when unknown;
	// NextOffset the offset of the next page.
	Remaining  int
	NextOffset int
}

// Event is one audit event: identifiers, times and codes only.
type Event struct {
	ID          string
	Time        time.Time
	Actor       string
	Provider    string
	Action      string
	ServiceType string
	Purpose     string
	Basis       string
	Status      string
}

// Element renders the request as au:Query.
func (q *Query) Element() *etree.Element {
	el := root("Query")
	wire.SetAttr(el, "itemID", q.ItemID)
	for _, it := range q.Items {
		c := el.CreateElement("au:QueryItem")
		wire.SetAttr(c, "itemID", it.ItemID)
		if it.Count >= 0 {
			c.CreateAttr("count", strconv.Itoa(it.Count))
		}
		if it.Offset > 0 {
			c.CreateAttr("offset", strconv.Itoa(it.Offset))
		}
		if it.Select != "" {
			wire.TextElement(c, "au:Select", it.Select)
		}
	}
	return el
}

// Element renders the response as au:QueryResponse.
func (r *QueryResponse) Element() *etree.Element {
	el := root("QueryResponse")
	if !r.TimeStamp.IsZero() {
		wire.SetTimeAttr(el, "timeStamp", r.TimeStamp)
	}
	el.AddChild(r.Status.Element())
	for _, d := range r.Data {
		c := el.CreateElement("au:Data")
		wire.SetAttr(c, "itemIDRef", d.ItemIDRef)
		if d.Remaining >= 0 {
			c.CreateAttr("remaining", strconv.Itoa(d.Remaining))
		}
		if d.NextOffset > 0 {
			c.CreateAttr("nextOffset", strconv.Itoa(d.NextOffset))
		}
		for _, e := range d.Events {
			e.appendTo(c)
		}
	}
	return el
}

func (e *Event) appendTo(parent *etree.Element) {
	el := parent.CreateElement("au:Event")
	wire.SetAttr(el, "id", e.ID)
	wire.TextElement(el, "au:Time", wire.FormatTime(e.Time))
	wire.TextElement(el, "au:Actor", e.Actor)
	optional(el, "au:Provider", e.Provider)
	wire.TextElement(el, "au:Action", e.Action)
	optional(el, "au:ServiceType", e.ServiceType)
	optional(el, "au:Purpose", e.Purpose)
	optional(el, "au:Basis", e.Basis)
	optional(el, "au:Status", e.Status)
}

func optional(parent *etree.Element, tag, text string) {
	if text != "" {
		wire.TextElement(parent, tag, text)
	}
}

func root(local string) *etree.Element {
	el := etree.NewElement("au:" + local)
	el.CreateAttr("xmlns:au", NS)
	return el
}

// DecodeQuery reads an au:Query.
func DecodeQuery(el *etree.Element) (*Query, error) {
	if !wire.Is(el, NS, "Query") {
		return nil, malformed("%s is not au:Query", wire.Name(el))
	}
	q := &Query{}
	q.ItemID, _ = wire.Attr(el, "itemID")
	for _, c := range el.ChildElements() {
		switch {
		case wire.Is(c, wsf.NSLU, "Extension"):
			continue
		case !wire.Is(c, NS, "QueryItem"):
			return nil, malformed("au:Query holds %s", wire.Name(c))
		}
		if len(q.Items) == MaxItems {
			return nil, malformed("au:Query with more than %d items", MaxItems)
		}
		it, err := decodeItem(c)
		if err != nil {
			return nil, err
		}
		q.Items = append(q.Items, it)
	}
	return q, nil
}

func decodeItem(el *etree.Element) (QueryItem, error) {
	it := QueryItem{Count: -1}
	it.ItemID, _ = wire.Attr(el, "itemID")
	var err error
	if it.Count, err = intAttr(el, "count", -1); err != nil {
		return it, err
	}
	if it.Offset, err = intAttr(el, "offset", 0); err != nil {
		return it, err
	}
	for _, c := range el.ChildElements() {
		switch {
		case wire.Is(c, wsf.NSDST, "ChangeFormat"):
			continue
		case !wire.Is(c, NS, "Select") || it.Select != "":
			return it, malformed("au:QueryItem holds %s", wire.Name(c))
		}
		if it.Select, err = wire.Text(c); err != nil {
			return it, err
		}
		if len(it.Select) > MaxSelectLen {
			return it, malformed("au:Select longer than %d bytes", MaxSelectLen)
		}
		it.SelectPath = resolve(c, it.Select)
	}
	return it, nil
}

// resolve returns the path of a restricted XPath of child steps
// ("/p:a/q:b") with each prefix resolved in el's scope, or "" when a step
// is not a prefixed name or its prefix is unbound.
func resolve(el *etree.Element, path string) string {
	path = strings.TrimSpace(path)
	if !strings.HasPrefix(path, "/") {
		return ""
	}
	var b strings.Builder
	for _, step := range strings.Split(path[1:], "/") {
		prefix, local, ok := strings.Cut(step, ":")
		if !ok || prefix == "" || local == "" || strings.ContainsAny(local, "[]()@*:= ") {
			return ""
		}
		ns, found := wire.LookupPrefix(el, prefix)
		if !found {
			return ""
		}
		b.WriteString("/{" + ns + "}" + local)
	}
	return b.String()
}

func intAttr(el *etree.Element, name string, def int) (int, error) {
	v, ok := wire.Attr(el, name)
	if !ok {
		return def, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 0 || n > 1<<30 {
		return 0, malformed("%s=%q is not a non-negative integer", name, v)
	}
	return n, nil
}

// DecodeQueryResponse reads an au:QueryResponse.
func DecodeQueryResponse(el *etree.Element) (*QueryResponse, error) {
	if !wire.Is(el, NS, "QueryResponse") {
		return nil, malformed("%s is not au:QueryResponse", wire.Name(el))
	}
	r := &QueryResponse{}
	if _, ok := wire.Attr(el, "timeStamp"); ok {
		t, err := wire.TimeAttr(el, "timeStamp")
		if err != nil {
			return nil, err
		}
		r.TimeStamp = t
	}
	cs := el.ChildElements()
	if len(cs) == 0 || !wire.Is(cs[0], wsf.NSLU, "Status") {
		return nil, malformed("au:QueryResponse does not start with lu:Status")
	}
	var err error
	if r.Status, err = wsf.DecodeStatus(cs[0]); err != nil {
		return nil, err
	}
	for _, c := range cs[1:] {
		switch {
		case wire.Is(c, wsf.NSLU, "Extension"):
			continue
		case !wire.Is(c, NS, "Data"):
			return nil, malformed("au:QueryResponse holds %s", wire.Name(c))
		}
		d, err := decodeData(c)
		if err != nil {
			return nil, err
		}
		r.Data = append(r.Data, d)
	}
	return r, nil
}

func decodeData(el *etree.Element) (Data, error) {
	d := Data{}
	d.ItemIDRef, _ = wire.Attr(el, "itemIDRef")
	var err error
	if d.Remaining, err = intAttr(el, "remaining", -1); err != nil {
		return d, err
	}
	if d.NextOffset, err = intAttr(el, "nextOffset", 0); err != nil {
		return d, err
	}
	for _, c := range el.ChildElements() {
		if !wire.Is(c, NS, "Event") {
			return d, malformed("au:Data holds %s", wire.Name(c))
		}
		e, err := decodeEvent(c)
		if err != nil {
			return d, err
		}
		d.Events = append(d.Events, e)
	}
	return d, nil
}

func decodeEvent(el *etree.Element) (Event, error) {
	e := Event{}
	e.ID, _ = wire.Attr(el, "id")
	fields := map[string]*string{"Actor": &e.Actor, "Provider": &e.Provider, "Action": &e.Action,
		"ServiceType": &e.ServiceType, "Purpose": &e.Purpose, "Basis": &e.Basis, "Status": &e.Status}
	for _, c := range el.ChildElements() {
		if c.NamespaceURI() != NS {
			return e, malformed("au:Event holds %s", wire.Name(c))
		}
		v, err := wire.Text(c)
		if err != nil {
			return e, err
		}
		if c.Tag == "Time" {
			if e.Time, err = wire.ParseTime(v); err != nil {
				return e, err
			}
			continue
		}
		p, ok := fields[c.Tag]
		if !ok || *p != "" {
			return e, malformed("au:Event holds %s", wire.Name(c))
		}
		*p = v
	}
	if e.Time.IsZero() || e.Actor == "" || e.Action == "" {
		return e, malformed("au:Event without Time, Actor or Action")
	}
	return e, nil
}

func malformed(format string, args ...any) error {
	return xmlsec.Errorf(xmlsec.KindMalformed, format, args...)
}

// Answer answers q at now: per QueryItem, Select "/au:Event" (anything
// else, or an offset past maxOffset, is InvalidSelect for that item) and
// the page page reads; the status is OK, Partial when some items failed,
// Failed when all did (IDWSF2 §5.2). The Discovery Service and each WSP
// serve their own events through it.
func Answer(q *Query, now time.Time, maxOffset int, page func(QueryItem) (Data, error)) (*QueryResponse, error) {
	resp := &QueryResponse{TimeStamp: now}
	var failed []wsf.Status
	for _, it := range q.Items {
		if it.SelectPath != SelectEvents || it.Offset > maxOffset {
			failed = append(failed, wsf.Status{Code: InvalidSelect, Ref: it.ItemID})
			continue
		}
		data, err := page(it)
		if err != nil {
			return nil, err
		}
		resp.Data = append(resp.Data, data)
	}
	switch {
	case len(failed) == 0:
		resp.Status = wsf.Status{Code: wsf.OK}
	case len(resp.Data) == 0:
		resp.Status = wsf.Status{Code: wsf.Failed, Sub: failed}
	default:
		resp.Status = wsf.Status{Code: Partial, Sub: failed}
	}
	return resp, nil
}
