package wsp_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/audit"
	"github.com/renkei-idwsf/renkei/wsf/dst"
	"github.com/renkei-idwsf/renkei/wsp"
)

// newAppointment is a CreateItem booking slot.
func newAppointment(itemID, slot string) string {
	return `<ap:CreateItem itemID="` + itemID + `" objectType="Appointment"><ap:NewData><ap:Appointment><ap:Slot>` + slot +
		`</ap:Slot></ap:Appointment></ap:NewData></ap:CreateItem>`
}

// unchanged checks that the back office holds what it held before the
// request: its appointments and the places left in each slot.
func unchanged(t *testing.T, f *fixture) {
	t.Helper()
	fresh := newBackend()
	if got, want := f.be.records(dst.Appointment, "Appointment", ""), fresh.records(dst.Appointment, "Appointment", ""); !reflect.DeepEqual(got, want) {
		t.Errorf("appointments are now %+v, were %+v", got, want)
	}
	for _, s := range []string{"s1", "s2", "s3"} {
		if got, want := f.be.slotRemaining(s), fresh.slotRemaining(s); got != want {
			t.Errorf("slot %s has %d places, had %d", s, got, want)
		}
	}
	if f.be.writes != 0 {
		t.Errorf("%d writes reached the back office", f.be.writes)
	}
}

func TestCreate(t *testing.T) {
	f := newFixture(t)
	inv := invoker()
	before := f.audit.count()
	r := f.create(t, inv, newAppointment("c1", "s3"))
	wantStatus(t, r.Status, "OK")
	e := f.audited(t, before, inv, patient, wsp.AuditCreate, dst.Appointment, r.Status)
	if items := itemsOf(t, e); !reflect.DeepEqual(items, []string{"Appointment"}) {
		t.Errorf("the audit says %v were written", items)
	}
	want := []dst.ItemData{{ItemIDRef: "c1", Items: []dst.Item{{Type: "Appointment", ID: "apt-3", Modified: f.now, Values: []dst.Value{
		{Name: "Slot", Text: "s3"}, {Name: "Department", Text: "循環器内科"}, {Name: "Doctor", Text: "高橋"},
		{Name: "Start", Text: "2026-12-11T09:00:00+09:00"}, {Name: "End", Text: "2026-12-11T09:30:00+09:00"},
		{Name: "Status", Text: "booked"}}}}}}
	if !reflect.DeepEqual(r.ItemData, want) || !r.TimeStamp.Equal(f.now) {
		t.Errorf("ItemData %+v at %v, want %+v", r.ItemData, r.TimeStamp, want)
	}
	if n := f.be.slotRemaining("s3"); n != 2 {
		t.Errorf("s3 has %d places after a booking, want 2", n)
	}
	if got := f.be.records(dst.Appointment, "Appointment", patient); len(got) != 2 || got[0].ID != "apt-3" {
		t.Errorf("the patient's appointments are %+v", got)
	}
}

type writeCase struct {
	name string
	op   string // Create, Modify or Delete
	ns   string // dst.Appointment when empty
	inv  func(*wsp.Invoker)
	// setup changes the back office before the request.
	setup  func(*memBackend)
	body   string
	status string
	// principal whom the audit files the request under (the patient when
	// empty).
	principal string
	check     func(*testing.T, *fixture, wsf.Status)
}

func TestWriteRefused(t *testing.T) {
	for _, tc := range []writeCase{
		{name: "fail/create-in-a-full-slot", op: "Create", body: newAppointment("c1", "s2"),
			status: "Failed(InvalidData@c1(urn:renkei:status:SlotFull))"},
		{name: "fail/create-in-a-full-slot-refusal-wrapped", op: "Create", setup: func(b *memBackend) { b.wrap = true },
			body: newAppointment("c1", "s2"), status: "Failed(InvalidData@c1(urn:renkei:status:SlotFull))"},
		{name: "fail/create-in-no-slot", op: "Create", body: newAppointment("c1", "s9"), status: "Failed(InvalidData@c1)"},
		{name: "fail/create-without-newdata", op: "Create", body: `<ap:CreateItem itemID="c1" objectType="Appointment"/>`,
			status: "Failed(MissingNewDataElement@c1)"},
		{name: "fail/create-with-empty-newdata", op: "Create", body: `<ap:CreateItem itemID="c1"><ap:NewData/></ap:CreateItem>`,
			status: "Failed(MissingNewDataElement@c1)"},
		{name: "fail/create-two-in-one-newdata", op: "Create", status: "Failed(NoMultipleAllowed@c1)",
			body: `<ap:CreateItem itemID="c1"><ap:NewData><ap:Appointment><ap:Slot>s1</ap:Slot></ap:Appointment>` +
				`<ap:Appointment><ap:Slot>s3</ap:Slot></ap:Appointment></ap:NewData></ap:CreateItem>`},
		{name: "fail/create-with-a-field-not-given-by-the-requester", op: "Create", status: "Failed(InvalidData@c1)",
			body: `<ap:CreateItem itemID="c1"><ap:NewData><ap:Appointment><ap:Slot>s3</ap:Slot><ap:Department>救急</ap:Department>` +
				`</ap:Appointment></ap:NewData></ap:CreateItem>`},
		{name: "fail/create-without-slot", op: "Create", status: "Failed(MissingDataElement@c1)",
			body: `<ap:CreateItem itemID="c1"><ap:NewData><ap:Appointment/></ap:NewData></ap:CreateItem>`},
		{name: "fail/create-with-empty-slot", op: "Create", status: "Failed(MissingDataElement@c1)", body: newAppointment("c1", "")},
		{name: "fail/create-object-type-mismatch", op: "Create", status: "Failed(ObjectTypeMismatch@c1)",
			body: `<ap:CreateItem itemID="c1" objectType="Slot"><ap:NewData><ap:Appointment><ap:Slot>s3</ap:Slot></ap:Appointment></ap:NewData></ap:CreateItem>`},
		{name: "fail/create-read-only-item-type", op: "Create", status: "Failed(ActionNotAuthorized@c1)",
			body: `<ap:CreateItem itemID="c1"><ap:NewData><ap:Slot><ap:Department>内科</ap:Department><ap:Doctor>佐藤</ap:Doctor>` +
				`<ap:Start>2026-12-12T09:00:00+09:00</ap:Start><ap:End>2026-12-12T09:30:00+09:00</ap:End><ap:Capacity>3</ap:Capacity>` +
				`<ap:Remaining>3</ap:Remaining></ap:Slot></ap:NewData></ap:CreateItem>`},
		{name: "fail/create-in-a-read-only-service", op: "Create", ns: dst.Clinical, status: "Failed(ActionNotAuthorized@c1)",
			body: `<cl:CreateItem itemID="c1"><cl:NewData><cl:LabResult><cl:Date>2026-12-07T09:00:00Z</cl:Date><cl:Code>x</cl:Code>` +
				`<cl:Name>x</cl:Name><cl:Value>1</cl:Value></cl:LabResult></cl:NewData></cl:CreateItem>`},
		{name: "fail/create-two-second-refused-by-the-engine", op: "Create", status: "Failed(InvalidData@c2)",
			body: newAppointment("c1", "s3") + `<ap:CreateItem itemID="c2"><ap:NewData><ap:Appointment><ap:Slot>s3</ap:Slot>` +
				`<ap:Status>vip</ap:Status></ap:Appointment></ap:NewData></ap:CreateItem>`},
		{name: "fail/create-two-second-refused-by-the-back-office", op: "Create", body: newAppointment("c1", "s3") + newAppointment("c2", "s2"),
			status: "Failed(InvalidData@c2(urn:renkei:status:SlotFull))"},
		{name: "fail/create-two-taking-the-last-place-twice", op: "Create", body: newAppointment("c1", "s1") + newAppointment("c2", "s1"),
			status: "Failed(InvalidData@c2(urn:renkei:status:SlotFull))"},
		{name: "fail/create-two-without-item-ids", op: "Create", status: "Failed(MissingItemID)",
			body: newAppointment("c1", "s3") + newAppointment("", "s3")},
		{name: "fail/create-item-id-duplicated", op: "Create", status: "Failed(ItemIDDuplicated@c1)",
			body: newAppointment("c1", "s3") + newAppointment("c1", "s3")},
		{name: "fail/create-with-result-query", op: "Create", status: "Failed(ResultQueryNotSupported)",
			body: newAppointment("c1", "s3") + `<ap:ResultQuery><ap:Select>/ap:Appointment</ap:Select></ap:ResultQuery>`},
		{name: "fail/create-back-office-slow", op: "Create", setup: func(b *memBackend) { b.delay = 20 * timeout },
			body: newAppointment("c1", "s3"), status: "Failed(TimeOut)"},
		{name: "fail/create-without-local-id", op: "Create", inv: func(inv *wsp.Invoker) { inv.Subject.SPProvidedID = "" },
			body: newAppointment("c1", "s3"), status: "Failed(ActionNotAuthorized)", principal: "nameid:pairwise"},

		{name: "fail/modify-without-id", op: "Modify", status: "Failed(InvalidSelect@m1)",
			body: `<ap:ModifyItem itemID="m1"><ap:Select>/ap:Appointment</ap:Select><ap:NewData><ap:Appointment><ap:Slot>s3</ap:Slot>` +
				`</ap:Appointment></ap:NewData></ap:ModifyItem>`},
		{name: "fail/modify-by-field", op: "Modify", status: "Failed(InvalidSelect@m1)",
			body: `<ap:ModifyItem itemID="m1"><ap:Select>/ap:Slot[ap:Doctor='佐藤']</ap:Select></ap:ModifyItem>`},
		{name: "fail/modify-without-select", op: "Modify", status: "Failed(MissingSelect@m1)",
			body: `<ap:ModifyItem itemID="m1"><ap:NewData><ap:Appointment><ap:Slot>s3</ap:Slot></ap:Appointment></ap:NewData></ap:ModifyItem>`},
		{name: "fail/modify-without-newdata", op: "Modify", status: "Failed(MissingNewDataElement@m1)",
			body: `<ap:ModifyItem itemID="m1"><ap:Select>/ap:Appointment[@id='apt-1']</ap:Select></ap:ModifyItem>`},
		{name: "fail/modify-changed-since", op: "Modify", status: "Failed(ModifiedSince@m1)",
			body: `<ap:ModifyItem itemID="m1" notChangedSince="2026-11-30T00:00:00Z"><ap:Select>/ap:Appointment[@id='apt-1']</ap:Select>` +
				`<ap:NewData><ap:Appointment><ap:Slot>s3</ap:Slot></ap:Appointment></ap:NewData></ap:ModifyItem>`},
		{name: "fail/modify-into-a-full-slot", op: "Modify", status: "Failed(InvalidData@m1(urn:renkei:status:SlotFull))",
			body: `<ap:ModifyItem itemID="m1"><ap:Select>/ap:Appointment[@id='apt-1']</ap:Select>` +
				`<ap:NewData><ap:Appointment><ap:Slot>s2</ap:Slot></ap:Appointment></ap:NewData></ap:ModifyItem>`},
		{name: "fail/modify-someone-elses", op: "Modify", status: "Failed(DoesNotExist@m1)",
			body: `<ap:ModifyItem itemID="m1"><ap:Select>/ap:Appointment[@id='apt-2']</ap:Select>` +
				`<ap:NewData><ap:Appointment><ap:Slot>s3</ap:Slot></ap:Appointment></ap:NewData></ap:ModifyItem>`},
		{name: "fail/modify-a-slot", op: "Modify", status: "Failed(ActionNotAuthorized@m1)",
			body: `<ap:ModifyItem itemID="m1"><ap:Select>/ap:Slot[@id='s1']</ap:Select><ap:NewData><ap:Slot/></ap:NewData></ap:ModifyItem>`},
		{name: "fail/modify-with-result-query", op: "Modify", status: "Failed(ResultQueryNotSupported)",
			body: `<ap:ModifyItem itemID="m1"><ap:Select>/ap:Appointment[@id='apt-1']</ap:Select>` +
				`<ap:NewData><ap:Appointment><ap:Slot>s3</ap:Slot></ap:Appointment></ap:NewData></ap:ModifyItem><ap:ResultQuery/>`},

		{name: "fail/delete-someone-elses", op: "Delete", status: "Failed(DoesNotExist@d1)",
			body: `<ap:DeleteItem itemID="d1"><ap:Select>/ap:Appointment[@id='apt-2']</ap:Select></ap:DeleteItem>`},
		{name: "fail/delete-unknown", op: "Delete", status: "Failed(DoesNotExist@d1)",
			body: `<ap:DeleteItem itemID="d1"><ap:Select>/ap:Appointment[@id='apt-99']</ap:Select></ap:DeleteItem>`},
		{name: "fail/delete-all", op: "Delete", status: "Failed(InvalidSelect@d1)",
			body: `<ap:DeleteItem itemID="d1"><ap:Select>/ap:Appointment</ap:Select></ap:DeleteItem>`},
		{name: "fail/delete-changed-since", op: "Delete", status: "Failed(ModifiedSince@d1)",
			body: `<ap:DeleteItem itemID="d1" notChangedSince="2026-11-30T00:00:00Z"><ap:Select>/ap:Appointment[@id='apt-1']</ap:Select></ap:DeleteItem>`},
		{name: "fail/delete-object-type-mismatch", op: "Delete", status: "Failed(ObjectTypeMismatch@d1)",
			body: `<ap:DeleteItem itemID="d1" objectType="Slot"><ap:Select>/ap:Appointment[@id='apt-1']</ap:Select></ap:DeleteItem>`},
		{name: "fail/delete-a-slot", op: "Delete", status: "Failed(ActionNotAuthorized@d1)",
			body: `<ap:DeleteItem itemID="d1"><ap:Select>/ap:Slot[@id='s1']</ap:Select></ap:DeleteItem>`},
		{name: "fail/delete-unmapped", op: "Delete", ns: dst.Pension, status: "Failed(UnsupportedObjectType@d1)",
			body: `<pn:DeleteItem itemID="d1"><pn:Select>/pn:Summary[@id='sum']</pn:Select></pn:DeleteItem>`},
		{name: "fail/delete-one-of-two", op: "Delete", status: "Failed(DoesNotExist@d2)",
			body: `<ap:DeleteItem itemID="d1"><ap:Select>/ap:Appointment[@id='apt-1']</ap:Select></ap:DeleteItem>` +
				`<ap:DeleteItem itemID="d2"><ap:Select>/ap:Appointment[@id='apt-2']</ap:Select></ap:DeleteItem>`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			st := tc.run(t, f)
			if tc.check != nil {
				tc.check(t, f, st)
			}
			unchanged(t, f)
		})
	}
}

// run sends the request and checks its status and audit event.
func (tc writeCase) run(t *testing.T, f *fixture) wsf.Status {
	t.Helper()
	inv := invoker()
	if tc.inv != nil {
		tc.inv(inv)
	}
	if tc.setup != nil {
		tc.setup(f.be)
	}
	ns := tc.ns
	if ns == "" {
		ns = dst.Appointment
	}
	svc := dst.Lookup(ns)
	before := f.audit.count()
	el := message(t, svc, tc.op, tc.body)
	var st wsf.Status
	ctx := context.Background()
	switch tc.op {
	case "Create":
		c, err := svc.DecodeCreate(el)
		if err != nil {
			t.Fatal(err)
		}
		r, err := f.w.Create(ctx, inv, ns, c)
		if err != nil {
			t.Fatal(err)
		}
		valid(t, "CreateResponse", svc.WriteResponseElement(r))
		st = r.Status
	case "Modify":
		m, err := svc.DecodeModify(el)
		if err != nil {
			t.Fatal(err)
		}
		r, err := f.w.Modify(ctx, inv, ns, m)
		if err != nil {
			t.Fatal(err)
		}
		valid(t, "ModifyResponse", svc.WriteResponseElement(r))
		st = r.Status
	case "Delete":
		d, err := svc.DecodeDelete(el)
		if err != nil {
			t.Fatal(err)
		}
		r, err := f.w.Delete(ctx, inv, ns, d)
		if err != nil {
			t.Fatal(err)
		}
		valid(t, "DeleteResponse", svc.DeleteResponseElement(r))
		st = r.Status
	}
	wantStatus(t, st, tc.status)
	principal := tc.principal
	if principal == "" {
		principal = patient
	}
	e := f.audited(t, before, inv, principal, "dst:"+tc.op, ns, st)
	if items := itemsOf(t, e); st.Code != wsf.OK && len(items) > 0 {
		t.Errorf("the audit says %v were written by a request that failed", items)
	}
	return st
}

func TestModify(t *testing.T) {
	f := newFixture(t)
	inv := invoker()
	before := f.audit.count()
	// notChangedSince at the appointment's modification time: unchanged
	// since.
	r := f.modify(t, inv, `<ap:ModifyItem itemID="m1" notChangedSince="2026-12-01T00:00:00Z">`+
		`<ap:Select>/ap:Appointment[@id='apt-1']</ap:Select><ap:NewData><ap:Appointment><ap:Slot>s3</ap:Slot></ap:Appointment></ap:NewData></ap:ModifyItem>`)
	wantStatus(t, r.Status, "OK")
	f.audited(t, before, inv, patient, wsp.AuditModify, dst.Appointment, r.Status)
	if len(r.ItemData) != 1 || r.ItemData[0].ItemIDRef != "m1" || len(r.ItemData[0].Items) != 1 {
		t.Fatalf("ItemData %+v", r.ItemData)
	}
	it := r.ItemData[0].Items[0]
	if it.ID != "apt-1" || it.Get("Slot") != "s3" || it.Get("Doctor") != "高橋" || it.Get("Start") != "2026-12-11T09:00:00+09:00" ||
		!it.Modified.Equal(f.now) {
		t.Errorf("the moved appointment is %+v", it)
	}
	if s1, s3 := f.be.slotRemaining("s1"), f.be.slotRemaining("s3"); s1 != 2 || s3 != 2 {
		t.Errorf("after the move s1 has %d places (want 2), s3 %d (want 2)", s1, s3)
	}
	if other := f.be.records(dst.Appointment, "Appointment", "B-0002"); other[0].Values["Slot"] != "s1" {
		t.Errorf("the other patient's appointment moved: %+v", other)
	}
}

func TestDelete(t *testing.T) {
	f := newFixture(t)
	inv := invoker()
	before := f.audit.count()
	r := f.delete(t, inv, `<ap:DeleteItem itemID="d1"><ap:Select>/ap:Appointment[@id='apt-1']</ap:Select></ap:DeleteItem>`)
	wantStatus(t, r.Status, "OK")
	e := f.audited(t, before, inv, patient, wsp.AuditDelete, dst.Appointment, r.Status)
	if items := itemsOf(t, e); !reflect.DeepEqual(items, []string{"Appointment"}) {
		t.Errorf("the audit says %v were written", items)
	}
	if got := f.be.records(dst.Appointment, "Appointment", patient); len(got) != 0 {
		t.Errorf("the patient still has %+v", got)
	}
	if got := f.be.records(dst.Appointment, "Appointment", "B-0002"); len(got) != 1 {
		t.Errorf("the other patient has %+v", got)
	}
	if n := f.be.slotRemaining("s1"); n != 2 {
		t.Errorf("s1 has %d places after a cancellation, want 2", n)
	}
	// What is gone is gone.
	before = f.audit.count()
	r = f.delete(t, inv, `<ap:DeleteItem itemID="d1"><ap:Select>/ap:Appointment[@id='apt-1']</ap:Select></ap:DeleteItem>`)
	wantStatus(t, r.Status, "Failed(DoesNotExist@d1)")
	f.audited(t, before, inv, patient, wsp.AuditDelete, dst.Appointment, r.Status)
}

// TestWriteThenRead: a booking shows in the next Query, and the slot's
// places with it.
func TestWriteThenRead(t *testing.T) {
	f := newFixture(t)
	inv := invoker()
	wantStatus(t, f.create(t, inv, newAppointment("c1", "s1")).Status, "OK")
	f.now = f.now.Add(time.Minute)
	r := f.query(t, inv, dst.Appointment, `<ap:QueryItem itemID="a"><ap:Select>/ap:Appointment</ap:Select></ap:QueryItem>`+
		`<ap:QueryItem itemID="s"><ap:Select>/ap:Slot[@id='s1']</ap:Select></ap:QueryItem>`)
	wantStatus(t, r.Status, "OK")
	data(t, r, page("a", 0, 0, "apt-3", "apt-1"), page("s", 0, 0, "s1"))
	if got := r.Data[1].Items[0].Get("Remaining"); got != "0" {
		t.Errorf("s1 has %s places left after its last was booked", got)
	}
	wantStatus(t, f.create(t, inv, newAppointment("c1", "s1")).Status, "Failed(InvalidData@c1(urn:renkei:status:SlotFull))")
}

// TestNew: a configuration is checked whole, every problem reported at
// once.
func TestNew(t *testing.T) {
	_, err := wsp.New(wsp.Config{Services: []wsp.ServiceConfig{
		{Type: "urn:example:svc"},
		{Type: dst.Clinical, Items: []string{"LabResult", "Nothing"}, Writable: []string{"LabResult"}},
		{Type: dst.Appointment, Items: []string{"Slot"}, Writable: []string{"Appointment"}},
		{Type: dst.Clinical},
	}})
	if err == nil {
		t.Fatal("New takes a configuration without an entityID, a back office, an audit log or valid services")
	}
	for _, want := range []string{"EntityID is required", "Backend is required", "Audit is required",
		`"urn:example:svc" is not a service type`, `has no item type "Nothing"`, `item type "LabResult" cannot be written`,
		`item type "Appointment" cannot be written`, "listed twice"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("New: %v\nwant a problem saying %q", err, want)
		}
	}
	f := newFixture(t)
	want := []string{dst.Clinical, dst.Checkup, dst.Appointment, dst.Pension, audit.NS}
	if got := f.w.ServiceTypes(); !reflect.DeepEqual(got, want) {
		t.Errorf("ServiceTypes() = %v, want %v", got, want)
	}
}
