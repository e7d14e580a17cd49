package dst_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/wsf/dst"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// repeat returns n copies of s.
func repeat(s string, n int) string { return strings.Repeat(s, n) }

const (
	cl      = `xmlns:cl="urn:renkei:svc:clinical:1.0"`
	luNS    = `xmlns:lu="urn:liberty:util:2006-08"`
	dstNS   = `xmlns:dst="urn:liberty:dst:2006-08"`
	ok      = `<lu:Status code="OK"/>`
	labItem = `<cl:LabResult id="1"><cl:Date>2026-12-07T09:30:00Z</cl:Date><cl:Code>3D010</cl:Code><cl:Name>HbA1c</cl:Name><cl:Value>5.6</cl:Value></cl:LabResult>`
)

// TestDecodeRefuses: what no service sends is refused as malformed XML,
// whole, by every decoder that reads it.
func TestDecodeRefuses(t *testing.T) {
	s := dst.Lookup(dst.Clinical)
	decoders := map[string]func(*etree.Element) error{
		"Query":          func(el *etree.Element) error { _, err := s.DecodeQuery(el); return err },
		"QueryResponse":  func(el *etree.Element) error { _, err := s.DecodeQueryResponse(el); return err },
		"Create":         func(el *etree.Element) error { _, err := s.DecodeCreate(el); return err },
		"Modify":         func(el *etree.Element) error { _, err := s.DecodeModify(el); return err },
		"Delete":         func(el *etree.Element) error { _, err := s.DecodeDelete(el); return err },
		"WriteResponse":  func(el *etree.Element) error { _, err := s.DecodeWriteResponse(el); return err },
		"DeleteResponse": func(el *etree.Element) error { _, err := s.DecodeDeleteResponse(el); return err },
	}
	qi := func(n int) string {
		return repeat(`<cl:QueryItem><cl:Select>/cl:LabResult</cl:Select></cl:QueryItem>`, n)
	}
	for _, tc := range []struct {
		name, decoder, xml string
	}{
		// Wrong root: another operation, another service's, no namespace.
		{"fail/root-is-another-operation", "Query", `<cl:Create ` + cl + `/>`},
		{"fail/root-of-another-service", "Query", `<ck:Query xmlns:ck="urn:renkei:svc:checkup:1.0"/>`},
		{"fail/root-without-namespace", "Query", `<Query/>`},
		{"fail/response-root-is-request", "QueryResponse", `<cl:Query ` + cl + `/>`},
		{"fail/write-response-root-is-query-response", "WriteResponse", `<cl:QueryResponse ` + cl + ` ` + luNS + `>` + ok + `</cl:QueryResponse>`},
		{"fail/delete-root-is-delete-response", "Delete", `<cl:DeleteResponse ` + cl + ` ` + luNS + `>` + ok + `</cl:DeleteResponse>`},
		{"fail/delete-response-root-of-another-service", "DeleteResponse", `<ck:DeleteResponse xmlns:ck="urn:renkei:svc:checkup:1.0" ` + luNS + `>` + ok + `</ck:DeleteResponse>`},
		{"fail/create-root-is-modify", "Create", `<cl:Modify ` + cl + `/>`},
		{"fail/modify-root-is-create", "Modify", `<cl:Create ` + cl + `/>`},

		// An element of another namespace inside.
		{"fail/query-holds-foreign-item", "Query", `<cl:Query ` + cl + ` xmlns:ck="urn:renkei:svc:checkup:1.0"><ck:QueryItem/></cl:Query>`},
		{"fail/query-item-holds-foreign-select", "Query", `<cl:Query ` + cl + ` xmlns:x="urn:x"><cl:QueryItem><x:Select>/cl:LabResult</x:Select></cl:QueryItem></cl:Query>`},
		{"fail/test-item-holds-foreign-op", "Query", `<cl:Query ` + cl + ` xmlns:x="urn:x"><cl:TestItem><x:TestOp>/cl:LabResult</x:TestOp></cl:TestItem></cl:Query>`},
		{"fail/item-holds-foreign-field", "QueryResponse", `<cl:QueryResponse ` + cl + ` ` + luNS + `>` + ok +
			`<cl:Data><cl:LabResult><ck:Code xmlns:ck="urn:renkei:svc:checkup:1.0">x</ck:Code></cl:LabResult></cl:Data></cl:QueryResponse>`},
		{"fail/create-holds-foreign-item", "Create", `<cl:Create ` + cl + ` xmlns:x="urn:x"><x:CreateItem/></cl:Create>`},
		{"fail/modify-item-holds-foreign-newdata", "Modify", `<cl:Modify ` + cl + ` xmlns:x="urn:x"><cl:ModifyItem><x:NewData/></cl:ModifyItem></cl:Modify>`},
		{"fail/delete-item-holds-foreign-select", "Delete", `<cl:Delete ` + cl + ` xmlns:x="urn:x"><cl:DeleteItem><x:Select/></cl:DeleteItem></cl:Delete>`},
		{"fail/write-response-holds-foreign", "WriteResponse", `<cl:CreateResponse ` + cl + ` ` + luNS + `>` + ok + `<x:ItemData xmlns:x="urn:x"/></cl:CreateResponse>`},
		{"fail/delete-response-holds-data", "DeleteResponse", `<cl:DeleteResponse ` + cl + ` ` + luNS + `>` + ok + `<cl:ItemData/></cl:DeleteResponse>`},

		// More than MaxItems items, of each kind.
		{"fail/too-many-query-items", "Query", `<cl:Query ` + cl + `>` + qi(dst.MaxItems+1) + `</cl:Query>`},
		{"fail/too-many-tests-and-items", "Query", `<cl:Query ` + cl + `>` + repeat(`<cl:TestItem/>`, dst.MaxItems) + qi(1) + `</cl:Query>`},
		{"fail/too-many-create-items", "Create", `<cl:Create ` + cl + `>` + repeat(`<cl:CreateItem/>`, dst.MaxItems+1) + `</cl:Create>`},
		{"fail/too-many-modify-items", "Modify", `<cl:Modify ` + cl + `>` + repeat(`<cl:ModifyItem/>`, dst.MaxItems+1) + `</cl:Modify>`},
		{"fail/too-many-delete-items", "Delete", `<cl:Delete ` + cl + `>` + repeat(`<cl:DeleteItem/>`, dst.MaxItems+1) + `</cl:Delete>`},
		{"fail/too-many-data", "QueryResponse", `<cl:QueryResponse ` + cl + ` ` + luNS + `>` + ok + repeat(`<cl:Data/>`, dst.MaxItems+1) + `</cl:QueryResponse>`},
		{"fail/too-many-test-results", "QueryResponse", `<cl:QueryResponse ` + cl + ` ` + luNS + ` ` + dstNS + `>` + ok +
			repeat(`<dst:TestResult>true</dst:TestResult>`, dst.MaxItems+1) + `</cl:QueryResponse>`},
		{"fail/too-many-test-results-and-data", "QueryResponse", `<cl:QueryResponse ` + cl + ` ` + luNS + ` ` + dstNS + `>` + ok +
			repeat(`<dst:TestResult>true</dst:TestResult>`, dst.MaxItems) + `<cl:Data/></cl:QueryResponse>`},
		{"fail/too-many-item-data", "WriteResponse", `<cl:CreateResponse ` + cl + ` ` + luNS + `>` + ok + repeat(`<cl:ItemData/>`, dst.MaxItems+1) + `</cl:CreateResponse>`},
		{"fail/too-many-items-in-data", "QueryResponse", `<cl:QueryResponse ` + cl + ` ` + luNS + `>` + ok +
			`<cl:Data>` + repeat(`<cl:LabResult/>`, dst.MaxItemsPerData+1) + `</cl:Data></cl:QueryResponse>`},

		// Counts.
		{"fail/negative-count", "Query", `<cl:Query ` + cl + `><cl:QueryItem count="-1"/></cl:Query>`},
		{"fail/negative-offset", "Query", `<cl:Query ` + cl + `><cl:QueryItem offset="-20"/></cl:Query>`},
		{"fail/count-not-a-number", "Query", `<cl:Query ` + cl + `><cl:QueryItem count="ten"/></cl:Query>`},
		{"fail/huge-count", "Query", `<cl:Query ` + cl + `><cl:QueryItem count="99999999999999999999"/></cl:Query>`},
		{"fail/remaining-below-minus-one", "QueryResponse", `<cl:QueryResponse ` + cl + ` ` + luNS + `>` + ok + `<cl:Data remaining="-2"/></cl:QueryResponse>`},
		{"fail/negative-next-offset", "QueryResponse", `<cl:QueryResponse ` + cl + ` ` + luNS + `>` + ok + `<cl:Data nextOffset="-1"/></cl:QueryResponse>`},

		// Duplicates and order.
		{"fail/duplicate-newdata-create", "Create", `<cl:Create ` + cl + `><cl:CreateItem><cl:NewData/><cl:NewData/></cl:CreateItem></cl:Create>`},
		{"fail/duplicate-newdata-modify", "Modify", `<cl:Modify ` + cl + `><cl:ModifyItem><cl:NewData/><cl:NewData/></cl:ModifyItem></cl:Modify>`},
		{"fail/select-after-newdata", "Modify", `<cl:Modify ` + cl + `><cl:ModifyItem><cl:NewData/><cl:Select>/cl:LabResult</cl:Select></cl:ModifyItem></cl:Modify>`},
		{"fail/duplicate-select", "Query", `<cl:Query ` + cl + `><cl:QueryItem><cl:Select>/cl:LabResult</cl:Select><cl:Select>/cl:LabResult</cl:Select></cl:QueryItem></cl:Query>`},
		{"fail/duplicate-select-delete", "Delete", `<cl:Delete ` + cl + `><cl:DeleteItem><cl:Select>/cl:LabResult</cl:Select><cl:Select>/cl:LabResult</cl:Select></cl:DeleteItem></cl:Delete>`},
		{"fail/duplicate-test-op", "Query", `<cl:Query ` + cl + `><cl:TestItem><cl:TestOp>/cl:LabResult</cl:TestOp><cl:TestOp>/cl:Prescription</cl:TestOp></cl:TestItem></cl:Query>`},
		{"fail/duplicate-test-op-after-empty", "Query", `<cl:Query ` + cl + `><cl:TestItem><cl:TestOp/><cl:TestOp>/cl:Prescription</cl:TestOp></cl:TestItem></cl:Query>`},
		{"fail/three-change-formats", "Query", `<cl:Query ` + cl + ` ` + dstNS + `><cl:QueryItem>` +
			repeat(`<dst:ChangeFormat>CurrentElements</dst:ChangeFormat>`, 3) + `</cl:QueryItem></cl:Query>`},
		{"fail/test-after-query-item", "Query", `<cl:Query ` + cl + `>` + qi(1) + `<cl:TestItem/></cl:Query>`},
		{"fail/create-item-after-result-query", "Create", `<cl:Create ` + cl + `><cl:ResultQuery/><cl:CreateItem/></cl:Create>`},
		{"fail/test-result-after-data", "QueryResponse", `<cl:QueryResponse ` + cl + ` ` + luNS + ` ` + dstNS + `>` + ok +
			`<cl:Data/><dst:TestResult>true</dst:TestResult></cl:QueryResponse>`},
		{"fail/duplicate-field", "QueryResponse", `<cl:QueryResponse ` + cl + ` ` + luNS + `>` + ok +
			`<cl:Data><cl:LabResult><cl:Code>a</cl:Code><cl:Code>b</cl:Code></cl:LabResult></cl:Data></cl:QueryResponse>`},

		// Data, ItemData and NewData hold items, and items fields of text.
		{"fail/data-holds-non-item", "QueryResponse", `<cl:QueryResponse ` + cl + ` ` + luNS + `>` + ok + `<cl:Data><cl:Select/></cl:Data></cl:QueryResponse>`},
		{"fail/data-holds-item-of-another-service", "QueryResponse", `<cl:QueryResponse ` + cl + ` ` + luNS + `>` + ok +
			`<cl:Data><ck:Checkup xmlns:ck="urn:renkei:svc:checkup:1.0"/></cl:Data></cl:QueryResponse>`},
		{"fail/data-holds-unknown-item", "QueryResponse", `<cl:QueryResponse ` + cl + ` ` + luNS + `>` + ok + `<cl:Data><cl:Checkup/></cl:Data></cl:QueryResponse>`},
		{"fail/item-data-holds-non-item", "WriteResponse", `<cl:ModifyResponse ` + cl + ` ` + luNS + `>` + ok + `<cl:ItemData><cl:Data/></cl:ItemData></cl:ModifyResponse>`},
		{"fail/newdata-holds-non-item", "Create", `<cl:Create ` + cl + `><cl:CreateItem><cl:NewData><cl:NewData/></cl:NewData></cl:CreateItem></cl:Create>`},
		{"fail/item-holds-unknown-field", "Create", `<cl:Create ` + cl + `><cl:CreateItem><cl:NewData><cl:LabResult><cl:Drug>x</cl:Drug></cl:LabResult></cl:NewData></cl:CreateItem></cl:Create>`},
		{"fail/field-holds-element", "Create", `<cl:Create ` + cl + `><cl:CreateItem><cl:NewData><cl:LabResult><cl:Code><cl:Code/></cl:Code></cl:LabResult></cl:NewData></cl:CreateItem></cl:Create>`},
		{"fail/select-holds-element", "Delete", `<cl:Delete ` + cl + `><cl:DeleteItem><cl:Select><cl:Select/></cl:Select></cl:DeleteItem></cl:Delete>`},
		{"fail/modification-time-not-utc", "QueryResponse", `<cl:QueryResponse ` + cl + ` ` + luNS + `>` + ok +
			`<cl:Data><cl:LabResult modificationTime="2026-12-07T09:30:00+09:00"/></cl:Data></cl:QueryResponse>`},

		// Responses start with lu:Status.
		{"fail/response-without-status", "QueryResponse", `<cl:QueryResponse ` + cl + `/>`},
		{"fail/status-after-data", "QueryResponse", `<cl:QueryResponse ` + cl + ` ` + luNS + `><cl:Data/>` + ok + `</cl:QueryResponse>`},
		{"fail/status-without-code", "DeleteResponse", `<cl:DeleteResponse ` + cl + ` ` + luNS + `><lu:Status/></cl:DeleteResponse>`},
		{"fail/test-result-not-boolean", "QueryResponse", `<cl:QueryResponse ` + cl + ` ` + luNS + ` ` + dstNS + `>` + ok +
			`<dst:TestResult>yes</dst:TestResult></cl:QueryResponse>`},
		{"fail/bad-timestamp", "WriteResponse", `<cl:CreateResponse ` + cl + ` ` + luNS + ` timeStamp="yesterday">` + ok + `</cl:CreateResponse>`},
		{"fail/bad-not-changed-since", "Delete", `<cl:Delete ` + cl + `><cl:DeleteItem notChangedSince="2026-12-07"/></cl:Delete>`},
		{"fail/bad-override-allowed", "Modify", `<cl:Modify ` + cl + `><cl:ModifyItem overrideAllowed="yes"/></cl:Modify>`},
		{"fail/bad-changed-since", "Query", `<cl:Query ` + cl + `><cl:QueryItem changedSince="now"/></cl:Query>`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := decoders[tc.decoder](parse(t, tc.xml))
			if !errors.Is(err, xmlsec.ErrMalformed) {
				t.Fatalf("Decode%s: %v; want a malformed-XML error", tc.decoder, err)
			}
		})
	}
}

// TestDecodeLimits: exactly MaxItems items, and MaxItemsPerData items in
// a Data, are read.
func TestDecodeLimits(t *testing.T) {
	s := dst.Lookup(dst.Clinical)
	q, err := s.DecodeQuery(parse(t, `<cl:Query `+cl+`>`+repeat(`<cl:TestItem/>`, dst.MaxItems/2)+
		repeat(`<cl:QueryItem/>`, dst.MaxItems-dst.MaxItems/2)+`</cl:Query>`))
	if err != nil || len(q.Tests)+len(q.Items) != dst.MaxItems {
		t.Errorf("Query of %d items: %v", dst.MaxItems, err)
	}
	r, err := s.DecodeQueryResponse(parse(t, `<cl:QueryResponse `+cl+` `+luNS+`>`+ok+
		`<cl:Data>`+repeat(labItem, dst.MaxItemsPerData)+`</cl:Data>`+repeat(`<cl:Data/>`, dst.MaxItems-1)+`</cl:QueryResponse>`))
	if err != nil || len(r.Data) != dst.MaxItems || len(r.Data[0].Items) != dst.MaxItemsPerData {
		t.Errorf("QueryResponse of %d Data: %v", dst.MaxItems, err)
	}
	r, err = s.DecodeQueryResponse(parse(t, `<cl:QueryResponse `+cl+` `+luNS+` `+dstNS+`>`+ok+
		repeat(`<dst:TestResult>true</dst:TestResult>`, dst.MaxItems/2)+repeat(`<cl:Data/>`, dst.MaxItems-dst.MaxItems/2)+`</cl:QueryResponse>`))
	if err != nil || len(r.TestResults)+len(r.Data) != dst.MaxItems {
		t.Errorf("QueryResponse of %d TestResults and Data: %v", dst.MaxItems, err)
	}
	for _, op := range []string{"Create", "Modify", "Delete"} {
		x := fmt.Sprintf(`<cl:%s %s>%s</cl:%s>`, op, cl, repeat(`<cl:`+op+`Item/>`, dst.MaxItems), op)
		var err error
		switch op {
		case "Create":
			_, err = s.DecodeCreate(parse(t, x))
		case "Modify":
			_, err = s.DecodeModify(parse(t, x))
		case "Delete":
			_, err = s.DecodeDelete(parse(t, x))
		}
		if err != nil {
			t.Errorf("%s of %d items: %v", op, dst.MaxItems, err)
		}
	}
}
