package dst

import (
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/xmlsec/wire"
)

// Action returns the wsa:Action of an operation of svc (IDWSF2 §5: the
// service namespace, ':' and the element name).
func (s *Service) Action(op string) string { return s.NS + ":" + op }

// Limits of one request.
const (
	MaxItems = 32
)

// Query is svc:Query: tests and the queries that may depend on them.
type Query struct {
	ItemID string
	Tests  []TestItem
	Items  []QueryItem
}

// TestItem is svc:TestItem: a TestOp (a Select) whose result is whether
// it selects anything.
type TestItem struct {
	ID, ItemID string
	ObjectType string
	Op         string
	// Sel is Op parsed; SelErr why it is outside the subset (nil Sel and
	// nil SelErr: no TestOp).
	Sel    *Select
	SelErr error
}

// QueryItem is svc:QueryItem (and svc:ResultQuery).
type QueryItem struct {
	ItemID     string
	ItemIDRef  string
	ObjectType string
	Predefined string
	Select     string
	Sel        *Select
	SelErr     error
	// HasSelect reports that a Select element was sent.
	HasSelect     bool
	Sort          string
	HasSort       bool
	ChangeFormats []string
	ChangedSince  time.Time
	// Count is the page size, -1 when absent.
	Count  int
	Offset int
	SetID  string
	SetReq string
}

// TestResult is dst:TestResult: the outcome of the TestItem ItemIDRef.
type TestResult struct {
	ItemIDRef string
	Value     bool
}

// Data is svc:Data: the items one QueryItem selected, one page.
type Data struct {
	ItemIDRef    string
	ChangeFormat string
	Items        []Item
	// Remaining is how many items follow this page, -1 when unknown or
	// unsaid; NextOffset the offset of the next page (0: none).
	Remaining  int
	NextOffset int
}

// QueryResponse is svc:QueryResponse.
type QueryResponse struct {
	Status      wsf.Status
	TimeStamp   time.Time
	TestResults []TestResult
	Data        []Data
}

// Create is svc:Create.
type Create struct {
	ItemID  string
	Items   []CreateItem
	Results []QueryItem
}

// CreateItem is svc:CreateItem: the new item in NewData.
type CreateItem struct {
	ItemID, ID string
	ObjectType string
	NewData    []Item
	HasNewData bool
}

// Modify is svc:Modify.
type Modify struct {
	ItemID  string
	Items   []ModifyItem
	Results []QueryItem
}

// ModifyItem is svc:ModifyItem: the item Select names, replaced by the
// fields of NewData.
type ModifyItem struct {
	ItemID, ID      string
	ObjectType      string
	Select          string
	Sel             *Select
	SelErr          error
	HasSelect       bool
	NewData         []Item
	HasNewData      bool
	NotChangedSince time.Time
	OverrideAllowed bool
}

// Delete is svc:Delete.
type Delete struct {
	ItemID string
	Items  []DeleteItem
}

// DeleteItem is svc:DeleteItem: the item Select names.
type DeleteItem struct {
	ItemID, ID      string
	ObjectType      string
	Select          string
	Sel             *Select
	SelErr          error
	HasSelect       bool
	NotChangedSince time.Time
}

// ItemData is svc:ItemData: the items a write left, for its item.
type ItemData struct {
	ItemIDRef string
	Items     []Item
}

// WriteResponse is svc:CreateResponse or svc:ModifyResponse (Op says
// which).
type WriteResponse struct {
	Op        string
	Status    wsf.Status
	TimeStamp time.Time
	ItemData  []ItemData
}

// DeleteResponse is svc:DeleteResponse.
type DeleteResponse struct {
	Status wsf.Status
}

// Messages bound to their service, to render and decode.

// QueryOf returns the Encoder of q in svc.
func (s *Service) root(local string) *etree.Element {
	el := etree.NewElement(s.Prefix + ":" + local)
	el.CreateAttr("xmlns:"+s.Prefix, s.NS)
	return el
}

// QueryElement renders q as svc:Query.
func (s *Service) QueryElement(q *Query) *etree.Element {
	el := s.root("Query")
	wire.SetAttr(el, "itemID", q.ItemID)
	for _, t := range q.Tests {
		c := el.CreateElement(s.Prefix + ":TestItem")
		wire.SetAttr(c, "objectType", t.ObjectType)
		wire.SetAttr(c, "id", t.ID)
		wire.SetAttr(c, "itemID", t.ItemID)
		if t.Op != "" {
			wire.TextElement(c, s.Prefix+":TestOp", t.Op)
		}
	}
	for _, it := range q.Items {
		s.resultQuery(el, "QueryItem", &it, true)
	}
	return el
}

func (s *Service) resultQuery(parent *etree.Element, local string, it *QueryItem, paged bool) {
	c := parent.CreateElement(s.Prefix + ":" + local)
	wire.SetAttr(c, "objectType", it.ObjectType)
	wire.SetAttr(c, "predefined", it.Predefined)
	wire.SetAttr(c, "itemIDRef", it.ItemIDRef)
	if !it.ChangedSince.IsZero() {
		wire.SetTimeAttr(c, "changedSince", it.ChangedSince)
	}
	wire.SetAttr(c, "itemID", it.ItemID)
	if paged {
		if it.Count >= 0 {
			c.CreateAttr("count", strconv.Itoa(it.Count))
		}
		if it.Offset > 0 {
			c.CreateAttr("offset", strconv.Itoa(it.Offset))
		}
		wire.SetAttr(c, "setID", it.SetID)
		wire.SetAttr(c, "setReq", it.SetReq)
	}
	for _, f := range it.ChangeFormats {
		wire.TextElement(c, "dst:ChangeFormat", f).CreateAttr("xmlns:dst", wsf.NSDST)
	}
	if it.Select != "" || it.HasSelect {
		wire.TextElement(c, s.Prefix+":Select", it.Select)
	}
	if it.Sort != "" || it.HasSort {
		wire.TextElement(c, s.Prefix+":Sort", it.Sort)
	}
}

// QueryResponseElement renders r as svc:QueryResponse.
func (s *Service) QueryResponseElement(r *QueryResponse) *etree.Element {
	el := s.root("QueryResponse")
	if !r.TimeStamp.IsZero() {
		wire.SetTimeAttr(el, "timeStamp", r.TimeStamp)
	}
	el.AddChild(r.Status.Element())
	for _, t := range r.TestResults {
		c := wire.TextElement(el, "dst:TestResult", strconv.FormatBool(t.Value))
		c.CreateAttr("xmlns:dst", wsf.NSDST)
		wire.SetAttr(c, "itemIDRef", t.ItemIDRef)
	}
	for _, d := range r.Data {
		c := el.CreateElement(s.Prefix + ":Data")
		wire.SetAttr(c, "itemIDRef", d.ItemIDRef)
		if d.ChangeFormat != "" {
			// dst:changeFormat is a global attribute of the DST schema
			// (ItemDataAttributeGroup refers to it), so it is qualified.
			c.CreateAttr("xmlns:dst", wsf.NSDST)
			c.CreateAttr("dst:changeFormat", d.ChangeFormat)
		}
		if d.Remaining >= 0 {
			c.CreateAttr("remaining", strconv.Itoa(d.Remaining))
		}
		if d.NextOffset > 0 {
			c.CreateAttr("nextOffset", strconv.Itoa(d.NextOffset))
		}
		for i := range d.Items {
			s.appendItem(c, &d.Items[i])
		}
	}
	return el
}

// CreateElement renders c as svc:Create.
func (s *Service) CreateElement(c *Create) *etree.Element {
	el := s.root("Create")
	wire.SetAttr(el, "itemID", c.ItemID)
	for _, it := range c.Items {
		x := el.CreateElement(s.Prefix + ":CreateItem")
		wire.SetAttr(x, "objectType", it.ObjectType)
		wire.SetAttr(x, "id", it.ID)
		wire.SetAttr(x, "itemID", it.ItemID)
		s.newData(x, it.NewData, it.HasNewData)
	}
	for _, r := range c.Results {
		s.resultQuery(el, "ResultQuery", &r, false)
	}
	return el
}

func (s *Service) newData(parent *etree.Element, items []Item, has bool) {
	if len(items) == 0 && !has {
		return
	}
	nd := parent.CreateElement(s.Prefix + ":NewData")
	for i := range items {
		s.appendItem(nd, &items[i])
	}
}

// ModifyElement renders m as svc:Modify.
func (s *Service) ModifyElement(m *Modify) *etree.Element {
	el := s.root("Modify")
	wire.SetAttr(el, "itemID", m.ItemID)
	for _, it := range m.Items {
		x := el.CreateElement(s.Prefix + ":ModifyItem")
		wire.SetAttr(x, "objectType", it.ObjectType)
		if !it.NotChangedSince.IsZero() {
			wire.SetTimeAttr(x, "notChangedSince", it.NotChangedSince)
		}
		if it.OverrideAllowed {
			x.CreateAttr("overrideAllowed", "true")
		}
		wire.SetAttr(x, "id", it.ID)
		wire.SetAttr(x, "itemID", it.ItemID)
		if it.Select != "" || it.HasSelect {
			wire.TextElement(x, s.Prefix+":Select", it.Select)
		}
		s.newData(x, it.NewData, it.HasNewData)
	}
	for _, r := range m.Results {
		s.resultQuery(el, "ResultQuery", &r, false)
	}
	return el
}

// DeleteElement renders d as svc:Delete.
func (s *Service) DeleteElement(d *Delete) *etree.Element {
	el := s.root("Delete")
	wire.SetAttr(el, "itemID", d.ItemID)
	for _, it := range d.Items {
		x := el.CreateElement(s.Prefix + ":DeleteItem")
		wire.SetAttr(x, "objectType", it.ObjectType)
		if !it.NotChangedSince.IsZero() {
			wire.SetTimeAttr(x, "notChangedSince", it.NotChangedSince)
		}
		wire.SetAttr(x, "id", it.ID)
		wire.SetAttr(x, "itemID", it.ItemID)
		if it.Select != "" || it.HasSelect {
			wire.TextElement(x, s.Prefix+":Select", it.Select)
		}
	}
	return el
}

// WriteResponseElement renders r as svc:CreateResponse or
// svc:ModifyResponse.
func (s *Service) WriteResponseElement(r *WriteResponse) *etree.Element {
	el := s.root(r.Op)
	if !r.TimeStamp.IsZero() {
		wire.SetTimeAttr(el, "timeStamp", r.TimeStamp)
	}
	el.AddChild(r.Status.Element())
	for _, d := range r.ItemData {
		c := el.CreateElement(s.Prefix + ":ItemData")
		wire.SetAttr(c, "itemIDRef", d.ItemIDRef)
		for i := range d.Items {
			s.appendItem(c, &d.Items[i])
		}
	}
	return el
}

// DeleteResponseElement renders r as svc:DeleteResponse.
func (s *Service) DeleteResponseElement(r *DeleteResponse) *etree.Element {
	el := s.root("DeleteResponse")
	el.AddChild(r.Status.Element())
	return el
}

// Decoding. Each decoder checks the element's name and reads what it
// holds; Selects outside the subset are kept with their error, for the
// service to answer InvalidSelect for that item alone.

// DecodeQuery reads svc:Query.
func (s *Service) DecodeQuery(el *etree.Element) (*Query, error) {
	if err := s.is(el, "Query"); err != nil {
		return nil, err
	}
	q := &Query{}
	q.ItemID, _ = wire.Attr(el, "itemID")
	for _, c := range el.ChildElements() {
		if len(q.Tests)+len(q.Items) == MaxItems {
			return nil, malformed("more than %d items", MaxItems)
		}
		switch {
		case wire.Is(c, wsf.NSLU, "Extension"):
		case wire.Is(c, s.NS, "TestItem") && len(q.Items) == 0:
			t, err := s.decodeTest(c)
			if err != nil {
				return nil, err
			}
			q.Tests = append(q.Tests, t)
		case wire.Is(c, s.NS, "QueryItem"):
			it, err := s.decodeResultQuery(c, true)
			if err != nil {
				return nil, err
			}
			q.Items = append(q.Items, it)
		default:
			return nil, malformed("%s:Query holds %s", s.Prefix, wire.Name(c))
		}
	}
	return q, nil
}

func (s *Service) decodeTest(el *etree.Element) (TestItem, error) {
	t := TestItem{}
	t.ID, _ = wire.Attr(el, "id")
	t.ItemID, _ = wire.Attr(el, "itemID")
	t.ObjectType, _ = wire.Attr(el, "objectType")
	hasOp := false
	for _, c := range el.ChildElements() {
		if !wire.Is(c, s.NS, "TestOp") || hasOp {
			return t, malformed("%s:TestItem holds %s", s.Prefix, wire.Name(c))
		}
		v, err := wire.Text(c)
		if err != nil {
			return t, err
		}
		t.Op, hasOp = v, true
		t.Sel, t.SelErr = ParseSelect(c, s, v)
		if t.Sel == nil && t.SelErr == nil {
			t.SelErr = &SelectError{Text: v, Why: "empty"}
		}
	}
	return t, nil
}

func (s *Service) decodeResultQuery(el *etree.Element, paged bool) (QueryItem, error) {
	it := QueryItem{Count: -1}
	it.ItemID, _ = wire.Attr(el, "itemID")
	it.ItemIDRef, _ = wire.Attr(el, "itemIDRef")
	it.ObjectType, _ = wire.Attr(el, "objectType")
	it.Predefined, _ = wire.Attr(el, "predefined")
	var err error
	if _, ok := wire.Attr(el, "changedSince"); ok {
		if it.ChangedSince, err = wire.TimeAttr(el, "changedSince"); err != nil {
			return it, err
		}
	}
	if paged {
		if it.Count, err = intAttr(el, "count", -1); err != nil {
			return it, err
		}
		if it.Offset, err = intAttr(el, "offset", 0); err != nil {
			return it, err
		}
		it.SetID, _ = wire.Attr(el, "setID")
		it.SetReq, _ = wire.Attr(el, "setReq")
	}
	for _, c := range el.ChildElements() {
		switch {
		case wire.Is(c, wsf.NSDST, "ChangeFormat") && len(it.ChangeFormats) < 2 && !it.HasSelect:
			v, err := wire.Text(c)
			if err != nil {
				return it, err
			}
			it.ChangeFormats = append(it.ChangeFormats, v)
		case wire.Is(c, s.NS, "Select") && !it.HasSelect && !it.HasSort:
			if it.Select, it.Sel, it.SelErr, err = s.readSelect(c); err != nil {
				return it, err
			}
			it.HasSelect = true
		case wire.Is(c, s.NS, "Sort") && !it.HasSort:
			if it.Sort, err = wire.Text(c); err != nil {
				return it, err
			}
			it.HasSort = true
		default:
			return it, malformed("%s holds %s", wire.Name(el), wire.Name(c))
		}
	}
	return it, nil
}

// DecodeQueryResponse reads svc:QueryResponse.
func (s *Service) DecodeQueryResponse(el *etree.Element) (*QueryResponse, error) {
	if err := s.is(el, "QueryResponse"); err != nil {
		return nil, err
	}
	r := &QueryResponse{}
	var rest []*etree.Element
	var err error
	if r.Status, r.TimeStamp, rest, err = responseHead(el); err != nil {
		return nil, err
	}
	for _, c := range rest {
		// One TestResult per TestItem and one Data per QueryItem: no more
		// than a Query holds.
		if (wire.Is(c, wsf.NSDST, "TestResult") || wire.Is(c, s.NS, "Data")) && len(r.TestResults)+len(r.Data) == MaxItems {
			return nil, malformed("more than %d TestResult and Data", MaxItems)
		}
		switch {
		case wire.Is(c, wsf.NSLU, "Extension"):
		case wire.Is(c, wsf.NSDST, "TestResult") && len(r.Data) == 0:
			v, err := wire.Text(c)
			if err != nil {
				return nil, err
			}
			b, err := wire.ParseBool(v)
			if err != nil {
				return nil, err
			}
			ref, _ := wire.Attr(c, "itemIDRef")
			r.TestResults = append(r.TestResults, TestResult{ItemIDRef: ref, Value: b})
		case wire.Is(c, s.NS, "Data"):
			d := Data{}
			d.ItemIDRef, _ = wire.Attr(c, "itemIDRef")
			d.ChangeFormat, _ = wire.AttrNS(c, wsf.NSDST, "changeFormat")
			if d.Remaining, err = signedAttr(c, "remaining", -1); err != nil {
				return nil, err
			}
			if d.NextOffset, err = intAttr(c, "nextOffset", 0); err != nil {
				return nil, err
			}
			if d.Items, err = s.decodeItems(c); err != nil {
				return nil, err
			}
			r.Data = append(r.Data, d)
		default:
			return nil, malformed("%s:QueryResponse holds %s", s.Prefix, wire.Name(c))
		}
	}
	return r, nil
}

func responseHead(el *etree.Element) (wsf.Status, time.Time, []*etree.Element, error) {
	var ts time.Time
	if _, ok := wire.Attr(el, "timeStamp"); ok {
		t, err := wire.TimeAttr(el, "timeStamp")
		if err != nil {
			return wsf.Status{}, ts, nil, err
		}
		ts = t
	}
	cs := el.ChildElements()
	if len(cs) == 0 || !wire.Is(cs[0], wsf.NSLU, "Status") {
		return wsf.Status{}, ts, nil, malformed("%s does not start with lu:Status", wire.Name(el))
	}
	st, err := wsf.DecodeStatus(cs[0])
	return st, ts, cs[1:], err
}

// DecodeCreate reads svc:Create.
func (s *Service) DecodeCreate(el *etree.Element) (*Create, error) {
	c := &Create{}
	var err error
	c.ItemID, err = s.decodeWrite(el, "Create", "CreateItem", &c.Results, func(x *etree.Element) error {
		it := CreateItem{}
		it.ItemID, it.ID, it.ObjectType = itemHead(x)
		w, err := s.writeItemBody(x, false, true)
		it.NewData, it.HasNewData = w.NewData, w.HasNewData
		c.Items = append(c.Items, it)
		return err
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// DecodeModify reads svc:Modify.
func (s *Service) DecodeModify(el *etree.Element) (*Modify, error) {
	m := &Modify{}
	var err error
	m.ItemID, err = s.decodeWrite(el, "Modify", "ModifyItem", &m.Results, func(x *etree.Element) error {
		it := ModifyItem{}
		it.ItemID, it.ID, it.ObjectType = itemHead(x)
		var err error
		if it.NotChangedSince, err = optTime(x, "notChangedSince"); err != nil {
			return err
		}
		if v, ok := wire.Attr(x, "overrideAllowed"); ok {
			if it.OverrideAllowed, err = wire.ParseBool(v); err != nil {
				return err
			}
		}
		w, err := s.writeItemBody(x, true, true)
		it.Select, it.Sel, it.SelErr, it.HasSelect = w.Select, w.Sel, w.SelErr, w.HasSelect
		it.NewData, it.HasNewData = w.NewData, w.HasNewData
		m.Items = append(m.Items, it)
		return err
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// DecodeDelete reads svc:Delete.
func (s *Service) DecodeDelete(el *etree.Element) (*Delete, error) {
	d := &Delete{}
	var err error
	d.ItemID, err = s.decodeWrite(el, "Delete", "DeleteItem", nil, func(x *etree.Element) error {
		it := DeleteItem{}
		it.ItemID, it.ID, it.ObjectType = itemHead(x)
		var err error
		if it.NotChangedSince, err = optTime(x, "notChangedSince"); err != nil {
			return err
		}
		w, err := s.writeItemBody(x, true, false)
		it.Select, it.Sel, it.SelErr, it.HasSelect = w.Select, w.Sel, w.SelErr, w.HasSelect
		d.Items = append(d.Items, it)
		return err
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// decodeWrite reads the frame every write request shares: the element
// op, its itemID, lu:Extensions skipped, at most MaxItems items named
// itemTag (each read by item) and, when results is not nil, the
// ResultQuerys that follow them.
func (s *Service) decodeWrite(el *etree.Element, op, itemTag string, results *[]QueryItem, item func(*etree.Element) error) (string, error) {
	if err := s.is(el, op); err != nil {
		return "", err
	}
	itemID, _ := wire.Attr(el, "itemID")
	n := 0
	for _, x := range el.ChildElements() {
		if n == MaxItems {
			return "", malformed("more than %d items", MaxItems)
		}
		switch {
		case wire.Is(x, wsf.NSLU, "Extension"):
		case wire.Is(x, s.NS, itemTag) && (results == nil || len(*results) == 0):
			if err := item(x); err != nil {
				return "", err
			}
			n++
		case results != nil && wire.Is(x, s.NS, "ResultQuery"):
			r, err := s.decodeResultQuery(x, false)
			if err != nil {
				return "", err
			}
			*results = append(*results, r)
			n++
		default:
			return "", malformed("%s:%s holds %s", s.Prefix, op, wire.Name(x))
		}
	}
	return itemID, nil
}

// writeBody is what a write item holds: a Select, then NewData.
type writeBody struct {
	Select     string
	Sel        *Select
	SelErr     error
	HasSelect  bool
	NewData    []Item
	HasNewData bool
}

// writeItemBody reads a write item's children: a Select when withSelect,
// NewData when withData, each at most once and in that order.
func (s *Service) writeItemBody(x *etree.Element, withSelect, withData bool) (writeBody, error) {
	var w writeBody
	for _, c := range x.ChildElements() {
		var err error
		switch {
		case withSelect && wire.Is(c, s.NS, "Select") && !w.HasSelect && !w.HasNewData:
			if w.Select, w.Sel, w.SelErr, err = s.readSelect(c); err != nil {
				return w, err
			}
			w.HasSelect = true
		case withData && wire.Is(c, s.NS, "NewData") && !w.HasNewData:
			if w.NewData, err = s.decodeItems(c); err != nil {
				return w, err
			}
			w.HasNewData = true
		default:
			return w, malformed("%s:%s holds %s", s.Prefix, x.Tag, wire.Name(c))
		}
	}
	return w, nil
}

// DecodeWriteResponse reads svc:CreateResponse or svc:ModifyResponse.
func (s *Service) DecodeWriteResponse(el *etree.Element) (*WriteResponse, error) {
	if el.NamespaceURI() != s.NS || (el.Tag != "CreateResponse" && el.Tag != "ModifyResponse") {
		return nil, malformed("%s is not a %s:CreateResponse or ModifyResponse", wire.Name(el), s.Prefix)
	}
	r := &WriteResponse{Op: el.Tag}
	var rest []*etree.Element
	var err error
	if r.Status, r.TimeStamp, rest, err = responseHead(el); err != nil {
		return nil, err
	}
	for _, c := range rest {
		switch {
		case wire.Is(c, wsf.NSLU, "Extension"):
		case wire.Is(c, s.NS, "ItemData"):
			if len(r.ItemData) == MaxItems {
				return nil, malformed("more than %d ItemData", MaxItems)
			}
			d := ItemData{}
			d.ItemIDRef, _ = wire.Attr(c, "itemIDRef")
			if d.Items, err = s.decodeItems(c); err != nil {
				return nil, err
			}
			r.ItemData = append(r.ItemData, d)
		default:
			return nil, malformed("%s holds %s", wire.Name(el), wire.Name(c))
		}
	}
	return r, nil
}

// DecodeDeleteResponse reads svc:DeleteResponse.
func (s *Service) DecodeDeleteResponse(el *etree.Element) (*DeleteResponse, error) {
	if err := s.is(el, "DeleteResponse"); err != nil {
		return nil, err
	}
	st, _, rest, err := responseHead(el)
	if err != nil {
		return nil, err
	}
	for _, c := range rest {
		if !wire.Is(c, wsf.NSLU, "Extension") {
			return nil, malformed("%s:DeleteResponse holds %s", s.Prefix, wire.Name(c))
		}
	}
	return &DeleteResponse{Status: st}, nil
}

// readSelect reads a Select element: its text, and the text parsed (or
// why it is outside the subset, for the service to answer InvalidSelect).
func (s *Service) readSelect(c *etree.Element) (string, *Select, error, error) {
	text, err := wire.Text(c)
	if err != nil {
		return "", nil, nil, err
	}
	sel, selErr := ParseSelect(c, s, text)
	return text, sel, selErr, nil
}

// itemHead reads the attributes every write item has: itemID, id and
// objectType.
func itemHead(x *etree.Element) (itemID, id, objectType string) {
	itemID, _ = wire.Attr(x, "itemID")
	id, _ = wire.Attr(x, "id")
	objectType, _ = wire.Attr(x, "objectType")
	return itemID, id, objectType
}

func (s *Service) is(el *etree.Element, local string) error {
	if !wire.Is(el, s.NS, local) {
		return malformed("%s is not {%s}%s", wire.Name(el), s.NS, local)
	}
	return nil
}

func optTime(el *etree.Element, name string) (time.Time, error) {
	if _, ok := wire.Attr(el, name); !ok {
		return time.Time{}, nil
	}
	return wire.TimeAttr(el, name)
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

func signedAttr(el *etree.Element, name string, def int) (int, error) {
	v, ok := wire.Attr(el, name)
	if !ok {
		return def, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < -1 || n > 1<<30 {
		return 0, malformed("%s=%q is not an integer of at least -1", name, v)
	}
	return n, nil
}
