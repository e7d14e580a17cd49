package wsp_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/dst"
	"github.com/renkei-idwsf/renkei/wsp"
)

func ids(d dst.Data) []string {
	var out []string
	for _, it := range d.Items {
		out = append(out, it.ID)
	}
	return out
}

// data checks the Data of a response: one per QueryItem answered, each
// with the items and paging wanted.
func data(t *testing.T, r *dst.QueryResponse, want ...dst.Data) {
	t.Helper()
	if len(r.Data) != len(want) {
		t.Fatalf("%d Data, want %d: %+v", len(r.Data), len(want), r.Data)
	}
	for i, w := range want {
		d := r.Data[i]
		if d.ItemIDRef != w.ItemIDRef || d.ChangeFormat != w.ChangeFormat || d.Remaining != w.Remaining ||
			d.NextOffset != w.NextOffset || !slices.Equal(ids(d), ids(w)) {
			t.Errorf("Data %s: items %v, changeFormat %q, remaining %d, nextOffset %d; want %s: %v, %q, %d, %d",
				d.ItemIDRef, ids(d), d.ChangeFormat, d.Remaining, d.NextOffset,
				w.ItemIDRef, ids(w), w.ChangeFormat, w.Remaining, w.NextOffset)
		}
	}
}

// page is the Data wanted: the items by id.
func page(ref string, remaining, next int, items ...string) dst.Data {
	d := dst.Data{ItemIDRef: ref, Remaining: remaining, NextOffset: next}
	for _, id := range items {
		d.Items = append(d.Items, dst.Item{ID: id})
	}
	return d
}

const (
	selectAll = `<cl:QueryItem itemID="q1"><cl:Select>/cl:LabResult</cl:Select></cl:QueryItem>`
	selectR5  = `<cl:QueryItem itemID="q1"><cl:Select>/cl:LabResult[@id='r5']</cl:Select></cl:QueryItem>`
)

type queryCase struct {
	name  string
	ns    string // dst.Clinical when empty
	inv   func(*wsp.Invoker)
	setup func(*memBackend)
	body  string
	// status is what the client reads (show); principal whom the audit
	// event is filed under (the patient when empty).
	status    string
	principal string
	items     []string // the item types the audit says were read
	check     func(*testing.T, *fixture, *dst.QueryResponse)
}

func TestQuery(t *testing.T) {
	for _, tc := range []queryCase{
		{name: "ok/all-lab-results", body: selectAll, status: "OK", items: []string{"LabResult"},
			check: func(t *testing.T, f *fixture, r *dst.QueryResponse) {
				// Newest first, the other patient's r9 never.
				data(t, r, page("q1", 0, 0, "r5", "r4", "r3", "r2", "r1"))
				want := dst.Item{Type: "LabResult", ID: "r5", Modified: day(12, 1).Add(time.Hour), Values: []dst.Value{
					{Name: "Date", Text: "2026-12-01T09:00:00+09:00"}, {Name: "Code", Text: hba1c}, {Name: "Name", Text: "HbA1c"}, {Name: "Value", Text: "5.9"},
					{Name: "Unit", Text: "%"}, {Name: "Low", Text: "4.6"}, {Name: "High", Text: "6.2"}, {Name: "Department", Text: "内科"}}}
				if got := r.Data[0].Items[0]; !reflect.DeepEqual(got, want) {
					t.Errorf("r5 is %+v, want %+v", got, want)
				}
				if r2 := r.Data[0].Items[3]; r2.Has("Low") || r2.Get("Value") != "(-)" {
					t.Errorf("r2, qualitative without a range, is %+v", r2)
				}
				if len(r.TestResults) != 0 || !r.TimeStamp.Equal(f.now) {
					t.Errorf("test results %v, timeStamp %v", r.TestResults, r.TimeStamp)
				}
			}},
		{name: "ok/by-id", body: `<cl:QueryItem><cl:Select>/cl:LabResult[@id="r3"]</cl:Select></cl:QueryItem>`,
			status: "OK", items: []string{"LabResult"},
			check: func(t *testing.T, f *fixture, r *dst.QueryResponse) { data(t, r, page("", 0, 0, "r3")) }},
		{name: "ok/by-id-of-another-patient", body: `<cl:QueryItem itemID="q1"><cl:Select>/cl:LabResult[@id='r9']</cl:Select></cl:QueryItem>`,
			status: "OK", items: []string{"LabResult"},
			check: func(t *testing.T, f *fixture, r *dst.QueryResponse) { data(t, r, page("q1", 0, 0)) }},
		{name: "ok/by-code", body: `<cl:QueryItem itemID="q1"><cl:Select>/cl:LabResult[cl:Code='` + hba1c + `']</cl:Select></cl:QueryItem>`,
			status: "OK", items: []string{"LabResult"},
			check: func(t *testing.T, f *fixture, r *dst.QueryResponse) { data(t, r, page("q1", 0, 0, "r5", "r3", "r1")) }},
		{name: "ok/paging", status: "OK", items: []string{"LabResult"},
			body: `<cl:QueryItem itemID="p1" count="2"><cl:Select>/cl:LabResult</cl:Select></cl:QueryItem>` +
				`<cl:QueryItem itemID="p2" count="2" offset="2"><cl:Select>/cl:LabResult</cl:Select></cl:QueryItem>` +
				`<cl:QueryItem itemID="p3" count="2" offset="4"><cl:Select>/cl:LabResult</cl:Select></cl:QueryItem>` +
				`<cl:QueryItem itemID="p4" count="2" offset="6"><cl:Select>/cl:LabResult</cl:Select></cl:QueryItem>`,
			check: func(t *testing.T, f *fixture, r *dst.QueryResponse) {
				// More follow: remaining unsaid (-1) and the next offset;
				// the last page: none remaining.
				data(t, r, page("p1", -1, 2, "r5", "r4"), page("p2", -1, 4, "r3", "r2"), page("p3", 0, 0, "r1"), page("p4", 0, 0))
			}},
		{name: "ok/changed-since", status: "OK", items: []string{"LabResult"},
			body: `<cl:QueryItem itemID="q1" changedSince="2026-10-15T00:00:00Z"><cl:Select>/cl:LabResult</cl:Select></cl:QueryItem>`,
			check: func(t *testing.T, f *fixture, r *dst.QueryResponse) {
				d := page("q1", 0, 0, "r5", "r4")
				d.ChangeFormat = "CurrentElements"
				data(t, r, d)
			}},
		{name: "ok/changed-since-asking-current-elements", status: "OK", items: []string{"LabResult"},
			body: `<cl:QueryItem itemID="q1" changedSince="2026-11-15T00:00:00Z"><dst:ChangeFormat>CurrentElements</dst:ChangeFormat>` +
				`<cl:Select>/cl:LabResult</cl:Select></cl:QueryItem>`,
			check: func(t *testing.T, f *fixture, r *dst.QueryResponse) {
				d := page("q1", 0, 0, "r5")
				d.ChangeFormat = "CurrentElements"
				data(t, r, d)
			}},
		{name: "ok/changed-since-without-history", ns: dst.Checkup, status: "OK(ChangedSinceReturnsAll@k)", items: []string{"Checkup"},
			body: `<ck:QueryItem itemID="k" changedSince="2026-10-15T00:00:00Z"><ck:Select>/ck:Checkup</ck:Select></ck:QueryItem>`,
			check: func(t *testing.T, f *fixture, r *dst.QueryResponse) {
				d := page("k", 0, 0, "k2", "k1")
				d.ChangeFormat = "All"
				data(t, r, d)
			}},
		{name: "ok/conditional", status: "OK", items: []string{"LabResult"},
			body: `<cl:TestItem itemID="t1"><cl:TestOp>/cl:LabResult[cl:Code='` + hba1c + `']</cl:TestOp></cl:TestItem>` +
				`<cl:TestItem id="t2"><cl:TestOp>/cl:LabResult[@id='r9']</cl:TestOp></cl:TestItem>` +
				`<cl:QueryItem itemID="q1" itemIDRef="t1"><cl:Select>/cl:LabResult[cl:Code='` + hba1c + `']</cl:Select></cl:QueryItem>` +
				`<cl:QueryItem itemID="q2" itemIDRef="t2"><cl:Select>/cl:LabResult</cl:Select></cl:QueryItem>`,
			check: func(t *testing.T, f *fixture, r *dst.QueryResponse) {
				want := []dst.TestResult{{ItemIDRef: "t1", Value: true}, {ItemIDRef: "t2", Value: false}}
				if !reflect.DeepEqual(r.TestResults, want) {
					t.Errorf("test results %+v, want %+v", r.TestResults, want)
				}
				data(t, r, page("q1", 0, 0, "r5", "r3", "r1")) // q2's test did not hold
			}},
		{name: "ok/tests-only", status: "OK", items: []string{"Prescription"}, // a test's answer tells of the data
			body: `<cl:TestItem itemID="t1"><cl:TestOp>/cl:Prescription</cl:TestOp></cl:TestItem>`,
			check: func(t *testing.T, f *fixture, r *dst.QueryResponse) {
				if !reflect.DeepEqual(r.TestResults, []dst.TestResult{{ItemIDRef: "t1", Value: true}}) || len(r.Data) != 0 {
					t.Errorf("test results %+v, data %+v", r.TestResults, r.Data)
				}
			}},
		{name: "ok/purpose-treatment", inv: func(inv *wsp.Invoker) { inv.Provider, inv.Purpose = terminal, wsf.PurposeTreatment },
			body: selectAll, status: "OK", items: []string{"LabResult"}},
		{name: "ok/no-purpose-stated", inv: func(inv *wsp.Invoker) { inv.Purpose = "" },
			body: selectAll, status: "OK", items: []string{"LabResult"}},

		{name: "fail/missing-select", body: `<cl:QueryItem itemID="q1" objectType="LabResult"/>`, status: "Failed(MissingSelect@q1)"},
		{name: "fail/invalid-select", body: `<cl:QueryItem itemID="q1"><cl:Select>//cl:LabResult</cl:Select></cl:QueryItem>`,
			status: "Failed(InvalidSelect@q1)"},
		{name: "fail/invalid-select-empty-id", body: `<cl:QueryItem itemID="q1"><cl:Select>/cl:LabResult[@id='']</cl:Select></cl:QueryItem>`,
			status: "Failed(InvalidSelect@q1)"},
		{name: "fail/invalid-select-offset", body: `<cl:QueryItem itemID="q1" offset="100001"><cl:Select>/cl:LabResult</cl:Select></cl:QueryItem>`,
			status: "Failed(InvalidSelect@q1)"},
		{name: "fail/object-type-mismatch", status: "Failed(ObjectTypeMismatch@q1)",
			body: `<cl:QueryItem itemID="q1" objectType="Prescription"><cl:Select>/cl:LabResult</cl:Select></cl:QueryItem>`},
		{name: "fail/unsupported-object-type", ns: dst.Pension, status: "Failed(UnsupportedObjectType@q1)",
			body: `<pn:QueryItem itemID="q1"><pn:Select>/pn:Summary</pn:Select></pn:QueryItem>`},
		{name: "fail/sort", status: "Failed(SortNotSupported@q1)",
			body: `<cl:QueryItem itemID="q1"><cl:Select>/cl:LabResult</cl:Select><cl:Sort>Date</cl:Sort></cl:QueryItem>`},
		{name: "fail/static", status: "Failed(StaticNotSupported@q1)",
			body: `<cl:QueryItem itemID="q1" setReq="Static"><cl:Select>/cl:LabResult</cl:Select></cl:QueryItem>`},
		{name: "fail/predefined", status: "Failed(UnsupportedPredefined@q1)",
			body: `<cl:QueryItem itemID="q1" predefined="recent"/>`},
		{name: "fail/changed-elements", status: "Failed(FormatNotSupported@q1)",
			body: `<cl:QueryItem itemID="q1"><dst:ChangeFormat>ChangedElements</dst:ChangeFormat><cl:Select>/cl:LabResult</cl:Select></cl:QueryItem>`},
		{name: "fail/no-such-test", status: "Failed(NoSuchTest@q1)",
			body: `<cl:QueryItem itemID="q1" itemIDRef="t9"><cl:Select>/cl:LabResult</cl:Select></cl:QueryItem>`},
		{name: "fail/invalid-test", status: "Failed(InvalidSelect@t1 NoSuchTest@q1)",
			body: `<cl:TestItem itemID="t1"><cl:TestOp>count(/cl:LabResult)</cl:TestOp></cl:TestItem>` +
				`<cl:QueryItem itemID="q1" itemIDRef="t1"><cl:Select>/cl:LabResult</cl:Select></cl:QueryItem>`},
		{name: "fail/item-id-duplicated", status: "Failed(ItemIDDuplicated@q1)", body: selectAll + selectAll},
		{name: "fail/item-id-duplicated-with-test", status: "Failed(ItemIDDuplicated@q1)",
			body: `<cl:TestItem itemID="q1"><cl:TestOp>/cl:LabResult</cl:TestOp></cl:TestItem>` + selectAll},
		{name: "fail/missing-item-id", status: "Failed(MissingItemID)",
			body: selectAll + `<cl:QueryItem><cl:Select>/cl:LabResult</cl:Select></cl:QueryItem>`},
		{name: "partial/one-of-two-fails", status: "Partial(InvalidSelect@q2)", items: []string{"LabResult"},
			body: `<cl:QueryItem itemID="q1"><cl:Select>/cl:LabResult[@id='r4']</cl:Select></cl:QueryItem>` +
				`<cl:QueryItem itemID="q2"><cl:Select>/cl:LabResult/cl:Code</cl:Select></cl:QueryItem>`,
			check: func(t *testing.T, f *fixture, r *dst.QueryResponse) { data(t, r, page("q1", 0, 0, "r4")) }},
		{name: "partial/record-missing-a-required-field", status: "Partial(UnexpectedError@q2)", items: []string{"LabResult"},
			body: selectR5 + `<cl:QueryItem itemID="q2"><cl:Select>/cl:Prescription</cl:Select></cl:QueryItem>`,
			check: func(t *testing.T, f *fixture, r *dst.QueryResponse) {
				data(t, r, page("q1", 0, 0, "r5"))
				if !strings.Contains(strings.Join(f.logs, "\n"), "p1 lacks the required field Drug") {
					t.Errorf("the mapping error is not logged: %q", f.logs)
				}
			}},

		{name: "fail/token-without-local-id", inv: func(inv *wsp.Invoker) { inv.Subject.SPProvidedID = "" },
			body: selectAll, status: "Failed(ActionNotAuthorized)", principal: "nameid:pairwise"},
		{name: "fail/not-proven", inv: func(inv *wsp.Invoker) { inv.Proven = false },
			body: selectAll, status: "Failed(ActionNotAuthorized)", principal: "nameid:pairwise"},
		{name: "fail/token-for-another-service", inv: func(inv *wsp.Invoker) { inv.TokenServices = []string{dst.Appointment} },
			body: selectAll, status: "Failed(ActionNotAuthorized)"},
		{name: "ok/token-for-this-service", inv: func(inv *wsp.Invoker) { inv.TokenServices = []string{dst.Appointment, dst.Clinical} },
			body: selectAll, status: "OK", items: []string{"LabResult"}},
		{name: "fail/unknown-local-id", inv: func(inv *wsp.Invoker) { inv.Subject.SPProvidedID = "Z-9999" },
			body: selectAll, status: "Failed(DoesNotExist)", principal: "Z-9999"},
		{name: "fail/back-office-error", setup: func(b *memBackend) {
			b.fail = errors.New("dial tcp 10.1.2.3:5432: connect: connection refused")
		}, body: selectAll, status: "Failed(UnexpectedError@q1)",
			check: func(t *testing.T, f *fixture, r *dst.QueryResponse) {
				if c := r.Status.Sub[0].Comment; strings.Contains(c, "10.1.2.3") || strings.Contains(c, "refused") {
					t.Errorf("the comment %q tells the requester the back office's error", c)
				}
				if !strings.Contains(strings.Join(f.logs, "\n"), "10.1.2.3:5432") {
					t.Errorf("the back office's error is not logged: %q", f.logs)
				}
			}},
		{name: "fail/back-office-refuses", setup: func(b *memBackend) {
			b.fail = &wsp.Refusal{Code: wsp.ActionNotAuthorized, Detail: "sealed record"}
		}, body: selectAll, status: "Failed(ActionNotAuthorized@q1)"},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.run(t) })
	}
}

func (tc queryCase) run(t *testing.T) {
	f := newFixture(t)
	inv := invoker()
	if tc.inv != nil {
		tc.inv(inv)
	}
	if tc.setup != nil {
		tc.setup(f.be)
	}
	ns := tc.ns
	if ns == "" {
		ns = dst.Clinical
	}
	before := f.audit.count()
	r := f.query(t, inv, ns, tc.body)
	wantStatus(t, r.Status, tc.status)
	principal := tc.principal
	if principal == "" {
		principal = inv.Subject.SPProvidedID
	}
	e := f.audited(t, before, inv, principal, wsp.AuditQuery, ns, r.Status)
	if got := itemsOf(t, e); !slices.Equal(got, tc.items) {
		t.Errorf("the audit says %v were read, want %v", got, tc.items)
	}
	if tc.check != nil {
		tc.check(t, f, r)
	}
}

// TestQueryTimeOut: a back office slower than Config.Timeout is answered
// TimeOut for the item, in about the timeout.
func TestQueryTimeOut(t *testing.T) {
	f := newFixture(t)
	f.be.delay = 20 * timeout
	before := f.audit.count()
	start := time.Now()
	r := f.query(t, invoker(), dst.Clinical, selectAll)
	if took := time.Since(start); took > 10*timeout { // far from the back office's 20, loose for a busy machine
		t.Errorf("answered after %v; the timeout is %v", took, timeout)
	}
	wantStatus(t, r.Status, "Failed(TimeOut@q1)")
	f.audited(t, before, invoker(), patient, wsp.AuditQuery, dst.Clinical, r.Status)
}

// TestQueryPurpose: a purpose the service's policy names is served; any
// other, or one the receiver could not read, is a CannotHonourUsageDirective
// fault.
func TestQueryPurpose(t *testing.T) {
	f := newFixture(t)
	q, err := dst.Lookup(dst.Clinical).DecodeQuery(message(t, dst.Lookup(dst.Clinical), "Query", selectAll))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, ns, purpose string
		err               error
	}{
		{"ok/self", dst.Clinical, wsf.PurposeSelf, nil},
		{"ok/treatment", dst.Clinical, wsf.PurposeTreatment, nil},
		{"fail/eligibility-of-clinical-data", dst.Clinical, wsf.PurposeEligibility, nil},
		{"fail/treatment-of-pension", dst.Pension, wsf.PurposeTreatment, nil},
		{"fail/unknown-purpose", dst.Clinical, "urn:example:marketing", nil},
		{"fail/unreadable-purpose", dst.Clinical, "", wsf.Errorf(wsf.CannotHonourUsageDirective, "rk:Purpose is not an absolute URI")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inv := invoker()
			inv.Purpose, inv.PurposeErr = tc.purpose, tc.err
			before := f.audit.count()
			r, err := f.w.Query(context.Background(), inv, tc.ns, q)
			if strings.HasPrefix(tc.name, "ok/") {
				if err != nil || r.Status.Code != wsf.OK {
					t.Fatalf("%+v, %v", r, err)
				}
				return
			}
			var we *wsf.Error
			if !errors.As(err, &we) || we.Code != wsf.CannotHonourUsageDirective || r != nil {
				t.Fatalf("%+v, %v; want a CannotHonourUsageDirective *wsf.Error", r, err)
			}
			// The refusal is an answer too: in the citizen's access log.
			f.audited(t, before, inv, patient, wsp.AuditQuery, tc.ns, wsf.Status{Code: wsf.CannotHonourUsageDirective})
		})
	}
}

// TestQueryUnservedType: a service type the WSP does not serve is not
// understood.
func TestQueryUnservedType(t *testing.T) {
	f := newFixture(t)
	_, err := f.w.Query(context.Background(), invoker(), dst.Eligibility, &dst.Query{})
	if !errors.Is(err, wsf.ErrMsgNotUnderstood) {
		t.Fatalf("%v, want IDStarMsgNotUnderstood", err)
	}
}
