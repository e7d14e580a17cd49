package wsp_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/audit"
	"github.com/renkei-idwsf/renkei/wsf/dst"
	"github.com/renkei-idwsf/renkei/wsp"
)

func auditQuery(count, offset int) *audit.Query {
	return &audit.Query{Items: []audit.QueryItem{{ItemID: "a1", Select: "/au:Event", SelectPath: audit.SelectEvents,
		Count: count, Offset: offset}}}
}

// TestAuditQuery: the citizen reads, through a portal of AuditReaders,
// who accessed their data here, newest first, and only theirs; another
// provider may not read it; reading is itself audited.
func TestAuditQuery(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	start := f.now
	tick := func() { f.now = f.now.Add(time.Minute) }

	f.query(t, invoker(), dst.Clinical, selectAll)
	tick()
	reception := invoker()
	reception.Provider, reception.Purpose, reception.TokenID = terminal, wsf.PurposeTreatment, "_token-2"
	f.query(t, reception, dst.Clinical, selectR5)
	tick()
	other := invoker()
	other.Subject.SPProvidedID = "B-0002"
	f.query(t, other, dst.Clinical, selectAll)
	tick()
	f.create(t, invoker(), newAppointment("c1", "s2")) // refused: the slot is full
	tick()

	inv := invoker()
	before := f.audit.count()
	r, err := f.w.AuditQuery(ctx, inv, auditQuery(-1, 0))
	if err != nil {
		t.Fatal(err)
	}
	valid(t, "audit QueryResponse", r.Element())
	wantStatus(t, r.Status, "OK")
	f.audited(t, before, inv, patient, wsp.AuditRead, audit.NS, r.Status)
	if len(r.Data) != 1 || r.Data[0].ItemIDRef != "a1" || r.Data[0].Remaining != 0 {
		t.Fatalf("Data %+v", r.Data)
	}
	want := []audit.Event{
		{Time: start.Add(3 * time.Minute), Actor: portal, Provider: entityID, Action: wsp.AuditCreate, ServiceType: dst.Appointment,
			Purpose: wsf.PurposeSelf, Status: "Failed/InvalidData/urn:renkei:status:SlotFull"},
		{Time: start.Add(time.Minute), Actor: terminal, Provider: entityID, Action: wsp.AuditQuery, ServiceType: dst.Clinical,
			Purpose: wsf.PurposeTreatment, Status: "OK"},
		{Time: start, Actor: portal, Provider: entityID, Action: wsp.AuditQuery, ServiceType: dst.Clinical,
			Purpose: wsf.PurposeSelf, Status: "OK"},
	}
	events := r.Data[0].Events
	if len(events) != len(want) {
		t.Fatalf("%d events, want %d: %+v", len(events), len(want), events)
	}
	for i, e := range events {
		w := want[i]
		w.ID = e.ID
		if e.Time.Equal(w.Time) {
			w.Time = e.Time
		}
		if e != w || e.ID == "" {
			t.Errorf("event %d is %+v, want %+v", i, e, w)
		}
	}

	// The read is in the log too, newest; pages of two.
	r, err = f.w.AuditQuery(ctx, inv, auditQuery(2, 0))
	if err != nil {
		t.Fatal(err)
	}
	if d := r.Data[0]; len(d.Events) != 2 || d.Events[0].Action != wsp.AuditRead || d.Events[1].Action != wsp.AuditCreate ||
		d.Remaining != -1 || d.NextOffset != 2 {
		t.Errorf("first page %+v", d)
	}
	r, err = f.w.AuditQuery(ctx, inv, auditQuery(2, 4))
	if err != nil {
		t.Fatal(err)
	}
	if d := r.Data[0]; len(d.Events) != 1 || !d.Events[0].Time.Equal(start) || d.Remaining != 0 || d.NextOffset != 0 {
		t.Errorf("last page %+v", d)
	}
}

func TestAuditQueryRefused(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.query(t, invoker(), dst.Clinical, selectAll)

	// A provider that is not a portal of the citizen's.
	inv := invoker()
	inv.Provider = terminal
	before := f.audit.count()
	r, err := f.w.AuditQuery(ctx, inv, auditQuery(-1, 0))
	if err != nil {
		t.Fatal(err)
	}
	valid(t, "audit QueryResponse", r.Element())
	wantStatus(t, r.Status, "Failed(ActionNotAuthorized)")
	if len(r.Data) != 0 {
		t.Errorf("events shown to %s: %+v", terminal, r.Data)
	}
	f.audited(t, before, inv, patient, wsp.AuditRead, audit.NS, r.Status)

	// A token that names no local identifier.
	inv = invoker()
	inv.Subject.SPProvidedID = ""
	before = f.audit.count()
	if r, err = f.w.AuditQuery(ctx, inv, auditQuery(-1, 0)); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, r.Status, "Failed(ActionNotAuthorized)")
	f.audited(t, before, inv, "nameid:pairwise", wsp.AuditRead, audit.NS, r.Status)

	// A Select other than the events, or beyond the last page served.
	before = f.audit.count()
	r, err = f.w.AuditQuery(ctx, invoker(), &audit.Query{Items: []audit.QueryItem{
		{ItemID: "a1", Select: "/au:Event", SelectPath: audit.SelectEvents, Count: -1},
		{ItemID: "a2", Select: "/au:Other", SelectPath: "/{" + audit.NS + "}Other", Count: -1},
		{ItemID: "a3", Select: "/au:Event", SelectPath: audit.SelectEvents, Count: -1, Offset: wsp.MaxAuditOffset + 1}}})
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, r.Status, "Partial(InvalidSelect@a2 InvalidSelect@a3)")
	f.audited(t, before, invoker(), patient, wsp.AuditRead, audit.NS, r.Status)

	// The log is read for the citizen's own purpose only.
	for _, purpose := range []string{wsf.PurposeTreatment, "urn:example:marketing"} {
		inv := invoker()
		inv.Purpose = purpose
		_, err := f.w.AuditQuery(ctx, inv, auditQuery(-1, 0))
		var we *wsf.Error
		if !errors.As(err, &we) || we.Code != wsf.CannotHonourUsageDirective {
			t.Errorf("purpose %s: %v, want CannotHonourUsageDirective", purpose, err)
		}
	}
}
