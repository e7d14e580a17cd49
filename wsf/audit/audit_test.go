package audit_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/audit"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/xsd"
)

var when = time.Date(2026, 12, 7, 9, 30, 0, 0, time.UTC)

func sampleQuery() *audit.Query {
	return &audit.Query{ItemID: "q", Items: []audit.QueryItem{
		{ItemID: "a", Select: "/au:Event", SelectPath: audit.SelectEvents, Count: 20, Offset: 40},
		{ItemID: "b", Select: "/au:Event", SelectPath: audit.SelectEvents, Count: -1}}}
}

func sampleResponse() *audit.QueryResponse {
	return &audit.QueryResponse{Status: wsf.Status{Code: audit.Partial, Sub: []wsf.Status{{Code: audit.InvalidSelect, Ref: "b"}}},
		TimeStamp: when, Data: []audit.Data{{ItemIDRef: "a", Remaining: -1, NextOffset: 60, Events: []audit.Event{
			{ID: "7", Time: when, Actor: "https://portal.renkei.test/metadata", Provider: "https://insurer.renkei.test/metadata",
				Action: "disco:token", ServiceType: "urn:renkei:svc:eligibility:1.0", Purpose: wsf.PurposeSelf, Basis: "association"},
			{ID: "6", Time: when.Add(-time.Minute), Actor: "operator:alice", Action: "disco:link"}}}}}
}

// reparse serializes el and parses it back as a standalone element.
func reparse(t *testing.T, el *etree.Element) *etree.Element {
	t.Helper()
	b, err := xmlsec.Serialize(el)
	if err != nil {
		t.Fatal(err)
	}
	out, err := xmlsec.ParseElement(b, xmlsec.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRoundTrip: what the service and the portal send is schema-valid
// and reads back to the same values.
func TestRoundTrip(t *testing.T) {
	schema, err := xsd.Default()
	if err != nil {
		t.Fatal(err)
	}
	q := sampleQuery()
	qb, err := xmlsec.Serialize(q.Element())
	if err != nil {
		t.Fatal(err)
	}
	if err := schema.Validate(qb); err != nil {
		t.Fatalf("au:Query is not schema-valid: %v\n%s", err, qb)
	}
	el, err := xmlsec.ParseElement(qb, xmlsec.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	gotQ, err := audit.DecodeQuery(el)
	if err != nil || !reflect.DeepEqual(gotQ, q) {
		t.Fatalf("query read back as %+v, %v", gotQ, err)
	}
	r := sampleResponse()
	rb, err := xmlsec.Serialize(r.Element())
	if err != nil {
		t.Fatal(err)
	}
	if err := schema.Validate(rb); err != nil {
		t.Fatalf("au:QueryResponse is not schema-valid: %v\n%s", err, rb)
	}
	el, err = xmlsec.ParseElement(rb, xmlsec.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	gotR, err := audit.DecodeQueryResponse(el)
	if err != nil || !reflect.DeepEqual(gotR, r) {
		t.Fatalf("response read back as %+v, %v", gotR, err)
	}
}

// TestSelectResolved: the Select's prefix is resolved in its own scope, so
// any prefix bound to the namespace selects the events, and an unbound
// prefix, a predicate or a relative path selects nothing the service
// answers.
func TestSelectResolved(t *testing.T) {
	for _, tc := range []struct {
		xml, want string
	}{
		{`<x:Query xmlns:x="urn:renkei:svc:audit:1.0"><x:QueryItem><x:Select>/x:Event</x:Select></x:QueryItem></x:Query>`, audit.SelectEvents},
		{`<x:Query xmlns:x="urn:renkei:svc:audit:1.0"><x:QueryItem><x:Select xmlns:e="urn:renkei:svc:audit:1.0"> /e:Event </x:Select></x:QueryItem></x:Query>`, audit.SelectEvents},
		{`<x:Query xmlns:x="urn:renkei:svc:audit:1.0"><x:QueryItem><x:Select>/y:Event</x:Select></x:QueryItem></x:Query>`, ""},
		{`<x:Query xmlns:x="urn:renkei:svc:audit:1.0"><x:QueryItem><x:Select>/x:Event[1]</x:Select></x:QueryItem></x:Query>`, ""},
		{`<x:Query xmlns:x="urn:renkei:svc:audit:1.0"><x:QueryItem><x:Select>x:Event</x:Select></x:QueryItem></x:Query>`, ""},
		{`<x:Query xmlns:x="urn:renkei:svc:audit:1.0" xmlns:o="urn:other"><x:QueryItem><x:Select>/o:Event</x:Select></x:QueryItem></x:Query>`, "/{urn:other}Event"},
	} {
		el, err := xmlsec.ParseElement([]byte(tc.xml), xmlsec.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		q, err := audit.DecodeQuery(el)
		if err != nil || q.Items[0].SelectPath != tc.want {
			t.Errorf("%s: path %q, %v; want %q", tc.xml, q.Items[0].SelectPath, err, tc.want)
		}
	}
}

// TestDecodeRefuses: elements and values the schema does not allow are
// malformed, not ignored.
func TestDecodeRefuses(t *testing.T) {
	for _, x := range []string{
		`<au:Query xmlns:au="urn:renkei:svc:audit:1.0"><au:Other/></au:Query>`,
		`<au:Query xmlns:au="urn:renkei:svc:audit:1.0"><au:QueryItem count="-1"/></au:Query>`,
		`<au:Query xmlns:au="urn:renkei:svc:audit:1.0"><au:QueryItem offset="x"/></au:Query>`,
		`<au:Query xmlns:au="urn:renkei:svc:audit:1.0"><au:QueryItem><au:Select>/au:Event</au:Select><au:Select>/au:Event</au:Select></au:QueryItem></au:Query>`,
		`<au:Query xmlns:au="urn:renkei:svc:audit:1.0"><au:QueryItem><au:Select>` + strings.Repeat("/au:Event", 40) + `</au:Select></au:QueryItem></au:Query>`,
		`<au:Query xmlns:au="urn:renkei:svc:audit:1.0">` + strings.Repeat("<au:QueryItem/>", audit.MaxItems+1) + `</au:Query>`,
		`<au:QueryResponse xmlns:au="urn:renkei:svc:audit:1.0"><au:Data/></au:QueryResponse>`,
		`<au:QueryResponse xmlns:au="urn:renkei:svc:audit:1.0"><lu:Status xmlns:lu="urn:liberty:util:2006-08" code="OK"/><au:Data><au:Event><au:Actor>a</au:Actor><au:Action>b</au:Action></au:Event></au:Data></au:QueryResponse>`,
		`<au:QueryResponse xmlns:au="urn:renkei:svc:audit:1.0"><lu:Status xmlns:lu="urn:liberty:util:2006-08" code="OK"/><au:Data><au:Event><au:Time>2026-12-07T00:00:00Z</au:Time><au:Actor>a</au:Actor><au:Actor>c</au:Actor><au:Action>b</au:Action></au:Event></au:Data></au:QueryResponse>`,
	} {
		el, err := xmlsec.ParseElement([]byte(x), xmlsec.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if el.Tag == "Query" {
			_, err = audit.DecodeQuery(el)
		} else {
			_, err = audit.DecodeQueryResponse(el)
		}
		if !errors.Is(err, xmlsec.ErrMalformed) {
			t.Errorf("%s: %v, want malformed", x, err)
		}
	}
}
