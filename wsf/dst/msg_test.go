package dst_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/dst"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// when is the fixed time of the samples, whole seconds in UTC so that
// it reads back equal.
var when = time.Date(2026, 12, 7, 0, 30, 0, 0, time.UTC)

// sampleItem is an item of it with every field, each of a valid value,
// in catalog order.
func sampleItem(t testing.TB, it *dst.ItemType, id string) dst.Item {
	out := dst.Item{Type: it.Name, ID: id, Modified: when}
	for _, f := range it.Fields {
		out.Values = append(out.Values, dst.Value{Name: f.Name, Text: sampleValue(t, f.Type)})
	}
	return out
}

func sampleValue(t testing.TB, ft dst.FieldType) string {
	switch ft {
	case dst.String:
		return "HbA1c (NGSP) 健診"
	case dst.Date:
		return "2026-12-07"
	case dst.DateTime:
		return "2026-12-07T09:30:00+09:00"
	case dst.Integer:
		return "120"
	case dst.Decimal:
		return "0.3"
	case dst.GYearMonth:
		return "2026-11"
	case dst.Boolean:
		return "true"
	}
	t.Fatalf("field type %d has no sample value: add one", ft)
	return ""
}

// filterOf returns a filter field of it, or nil.
func filterOf(it *dst.ItemType) *dst.Field {
	for i := range it.Fields {
		if it.Fields[i].Filter {
			return &it.Fields[i]
		}
	}
	return nil
}

// samples are one message of each kind for one item type, as the
// decoders return them: Selects parsed, absent counts -1.
type samples struct {
	query    *dst.Query
	response *dst.QueryResponse
	create   *dst.Create
	created  *dst.WriteResponse
	modify   *dst.Modify
	modified *dst.WriteResponse
	delete   *dst.Delete
	deleted  *dst.DeleteResponse
}

func sampleMessages(t testing.TB, s *dst.Service, it *dst.ItemType) samples {
	all := &dst.Select{Item: it.Name}
	one := &dst.Select{Item: it.Name, ID: "123"}
	by := all
	if f := filterOf(it); f != nil {
		by = &dst.Select{Item: it.Name, Field: f.Name, Value: "it's"}
	}
	rq := dst.QueryItem{ItemID: "r1", ObjectType: it.Name, Select: all.String(s.Prefix), Sel: all, HasSelect: true,
		ChangedSince: when, ChangeFormats: []string{"CurrentElements"}, Count: -1}
	return samples{
		query: &dst.Query{ItemID: "req", Tests: []dst.TestItem{
			{ID: "ti1", ItemID: "t1", ObjectType: it.Name, Op: one.String(s.Prefix), Sel: one},
			{ID: "ti2", ItemID: "t2", Op: by.String(s.Prefix), Sel: by},
			{ItemID: "t3"},
		}, Items: []dst.QueryItem{
			{ItemID: "q1", ItemIDRef: "t1", ObjectType: it.Name, Select: one.String(s.Prefix), Sel: one, HasSelect: true,
				ChangedSince: when, ChangeFormats: []string{"CurrentElements", "ChangedElements"}, Count: 2, Offset: 4,
				Sort: "newest", HasSort: true},
			{ItemID: "q2", Select: by.String(s.Prefix), Sel: by, HasSelect: true, Count: 0, SetID: "set-1", SetReq: "Static"},
			{ItemID: "q3", Predefined: "recent", Count: -1},
		}},
		response: &dst.QueryResponse{TimeStamp: when,
			Status:      wsf.Status{Code: "Partial", Sub: []wsf.Status{{Code: "InvalidSelect", Ref: "q3", Comment: "outside the subset"}}},
			TestResults: []dst.TestResult{{ItemIDRef: "t1", Value: true}, {ItemIDRef: "t2", Value: false}},
			Data: []dst.Data{
				{ItemIDRef: "q1", ChangeFormat: "CurrentElements", Remaining: -1, NextOffset: 6,
					Items: []dst.Item{sampleItem(t, it, "123"), sampleItem(t, it, "124")}},
				{ItemIDRef: "q2", ChangeFormat: "All", Remaining: 0},
				{ItemIDRef: "q4", Remaining: 3, NextOffset: 1, Items: []dst.Item{{Type: it.Name, ID: "9", Values: sampleItem(t, it, "").Values}}},
			}},
		create: &dst.Create{ItemID: "req", Items: []dst.CreateItem{
			{ItemID: "c1", ID: "ci1", ObjectType: it.Name, NewData: []dst.Item{sampleItem(t, it, "")}, HasNewData: true},
			{ItemID: "c2", HasNewData: true},
			{ItemID: "c3"},
		}, Results: []dst.QueryItem{rq}},
		created: &dst.WriteResponse{Op: "CreateResponse", TimeStamp: when, Status: wsf.Status{Code: wsf.OK},
			ItemData: []dst.ItemData{{ItemIDRef: "c1", Items: []dst.Item{sampleItem(t, it, "125")}}, {ItemIDRef: "c2"}}},
		modify: &dst.Modify{ItemID: "req", Items: []dst.ModifyItem{
			{ItemID: "m1", ID: "mi1", ObjectType: it.Name, Select: one.String(s.Prefix), Sel: one, HasSelect: true,
				NewData: []dst.Item{sampleItem(t, it, "")}, HasNewData: true, NotChangedSince: when, OverrideAllowed: true},
			{ItemID: "m2", Select: one.String(s.Prefix), Sel: one, HasSelect: true},
		}, Results: []dst.QueryItem{rq}},
		modified: &dst.WriteResponse{Op: "ModifyResponse", TimeStamp: when,
			Status:   wsf.Status{Code: wsf.Failed, Sub: []wsf.Status{{Code: "InvalidData", Ref: "m1", Sub: []wsf.Status{{Code: "urn:renkei:status:SlotFull"}}}}},
			ItemData: []dst.ItemData{{ItemIDRef: "m2", Items: []dst.Item{sampleItem(t, it, "123")}}}},
		delete: &dst.Delete{ItemID: "req", Items: []dst.DeleteItem{
			{ItemID: "d1", ID: "di1", ObjectType: it.Name, Select: one.String(s.Prefix), Sel: one, HasSelect: true, NotChangedSince: when},
			{ItemID: "d2"},
		}},
		deleted: &dst.DeleteResponse{Status: wsf.Status{Code: wsf.Failed, Sub: []wsf.Status{{Code: "DoesNotExist", Ref: "d1"}}}},
	}
}

// wireTrip serializes el, checks the schemas take it and parses it back
// with the parser of network input.
func wireTrip(t *testing.T, what string, el *etree.Element) *etree.Element {
	t.Helper()
	b, err := xmlsec.Serialize(el)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if err := schema(t).Validate(b); err != nil {
		t.Errorf("%s is not schema-valid: %v\n%s", what, err, b)
	}
	out, err := xmlsec.ParseElement(b, xmlsec.DefaultLimits)
	if err != nil {
		t.Fatalf("%s does not parse back: %v\n%s", what, err, b)
	}
	return out
}

func same(t *testing.T, what string, got, want any, err error) {
	t.Helper()
	if err != nil {
		t.Errorf("%s does not decode: %v", what, err)
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s reads back as\n%+v\nwant\n%+v", what, got, want)
	}
}

// TestRoundTrip: every message of every service, rendered by the
// service, is schema-valid and decodes to the values it was rendered from.
func TestRoundTrip(t *testing.T) {
	for _, s := range dst.Services() {
		for i := range s.Items {
			it := &s.Items[i]
			t.Run(s.Prefix+":"+it.Name, func(t *testing.T) {
				m := sampleMessages(t, s, it)
				q, err := s.DecodeQuery(wireTrip(t, "Query", s.QueryElement(m.query)))
				same(t, "Query", q, m.query, err)
				r, err := s.DecodeQueryResponse(wireTrip(t, "QueryResponse", s.QueryResponseElement(m.response)))
				same(t, "QueryResponse", r, m.response, err)
				c, err := s.DecodeCreate(wireTrip(t, "Create", s.CreateElement(m.create)))
				same(t, "Create", c, m.create, err)
				cr, err := s.DecodeWriteResponse(wireTrip(t, "CreateResponse", s.WriteResponseElement(m.created)))
				same(t, "CreateResponse", cr, m.created, err)
				mo, err := s.DecodeModify(wireTrip(t, "Modify", s.ModifyElement(m.modify)))
				same(t, "Modify", mo, m.modify, err)
				mr, err := s.DecodeWriteResponse(wireTrip(t, "ModifyResponse", s.WriteResponseElement(m.modified)))
				same(t, "ModifyResponse", mr, m.modified, err)
				d, err := s.DecodeDelete(wireTrip(t, "Delete", s.DeleteElement(m.delete)))
				same(t, "Delete", d, m.delete, err)
				dr, err := s.DecodeDeleteResponse(wireTrip(t, "DeleteResponse", s.DeleteResponseElement(m.deleted)))
				same(t, "DeleteResponse", dr, m.deleted, err)
			})
		}
	}
}

// TestRoundTripMinimal: the smallest message of each kind, every
// optional part absent, also survives.
func TestRoundTripMinimal(t *testing.T) {
	s := dst.Lookup(dst.Pension)
	q, err := s.DecodeQuery(wireTrip(t, "Query", s.QueryElement(&dst.Query{})))
	same(t, "Query", q, &dst.Query{}, err)
	r, err := s.DecodeQueryResponse(wireTrip(t, "QueryResponse", s.QueryResponseElement(&dst.QueryResponse{Status: wsf.Status{Code: wsf.OK}})))
	same(t, "QueryResponse", r, &dst.QueryResponse{Status: wsf.Status{Code: wsf.OK}}, err)
	w, err := s.DecodeWriteResponse(wireTrip(t, "CreateResponse", s.WriteResponseElement(&dst.WriteResponse{Op: "CreateResponse", Status: wsf.Status{Code: wsf.OK}})))
	same(t, "CreateResponse", w, &dst.WriteResponse{Op: "CreateResponse", Status: wsf.Status{Code: wsf.OK}}, err)
}

// TestDecodeKeepsInvalidSelect: a Select outside the subset does not fail
// the message; it is kept, with its error, for the service to answer
// InvalidSelect for that item alone.
func TestDecodeKeepsInvalidSelect(t *testing.T) {
	s := dst.Lookup(dst.Clinical)
	q, err := s.DecodeQuery(parse(t, `<cl:Query xmlns:cl="urn:renkei:svc:clinical:1.0">`+
		`<cl:TestItem itemID="t1"><cl:TestOp>//cl:LabResult</cl:TestOp></cl:TestItem>`+
		`<cl:QueryItem itemID="q1"><cl:Select>/cl:LabResult/cl:Code</cl:Select></cl:QueryItem>`+
		`<cl:QueryItem itemID="q2"><cl:Select/></cl:QueryItem></cl:Query>`))
	if err != nil {
		t.Fatal(err)
	}
	var se *dst.SelectError
	if !errors.As(q.Tests[0].SelErr, &se) || q.Tests[0].Sel != nil || q.Tests[0].Op != "//cl:LabResult" {
		t.Errorf("TestOp: %+v", q.Tests[0])
	}
	for _, it := range q.Items {
		if !errors.As(it.SelErr, &se) || it.Sel != nil || !it.HasSelect {
			t.Errorf("QueryItem %s: %+v", it.ItemID, it)
		}
	}
}

func parse(t testing.TB, s string) *etree.Element {
	t.Helper()
	el, err := xmlsec.ParseElement([]byte(s), xmlsec.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	return el
}
