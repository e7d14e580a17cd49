package storetest

import (
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/store"
)

var auditCases = []testCase{
	{"audit/ok/append-and-read-newest-first", testAuditRead},
	{"audit/ok/pages-cover-every-event-once", testAuditPaging},
	{"audit/ok/time-range-from-inclusive-to-exclusive", testAuditRange},
	{"audit/fail/bad-cursor-or-limit", testAuditInvalid},
	{"audit/ok/batch-in-order-with-increasing-ids", testAuditBatch},
	{"audit/fail/batch-with-an-invalid-event-stores-none", testAuditBatchInvalid},
}

// newEvent returns an access to principal's data at t0 plus minutes.
func newEvent(principal string, minutes int) store.AuditEvent {
	return store.AuditEvent{Time: at(time.Duration(minutes) * time.Minute), Actor: "https://portal.example.jp",
		PrincipalID: principal, ProviderID: provider(1), Action: "urn:renkei:svc:clinical:1.0:Query",
		Purpose: "urn:renkei:purpose:treatment", DetailType: "application/json",
		Detail: []byte(`{"select":"/clinical:LabResult"}`)}
}

// appendEvents appends events and returns them with their IDs.
func appendEvents(t *testing.T, s store.AuditLog, events ...store.AuditEvent) []store.AuditEvent {
	t.Helper()
	for i := range events {
		id, err := s.AppendAudit(ctx, events[i])
		must(t, err)
		events[i].ID = id
	}
	return events
}

func testAuditRead(t *testing.T, s store.Store) {
	e := appendEvents(t, s, newEvent("p-1", 1), newEvent("p-2", 2), newEvent("p-1", 3), newEvent("p-1", 3))
	if !(e[0].ID < e[1].ID && e[1].ID < e[2].ID && e[2].ID < e[3].ID) {
		t.Fatalf("IDs %d %d %d %d are not increasing", e[0].ID, e[1].ID, e[2].ID, e[3].ID)
	}
	page, err := s.AuditEvents(ctx, store.AuditQuery{PrincipalID: "p-1"})
	must(t, err)
	wantEqual(t, page, store.AuditPage{Events: []store.AuditEvent{e[3], e[2], e[0]}})
}

func testAuditPaging(t *testing.T, s store.Store) {
	var events []store.AuditEvent
	for i := range 25 {
		events = append(events, newEvent("p-1", i/2))
	}
	events = appendEvents(t, s, events...)
	q := store.AuditQuery{PrincipalID: "p-1", Limit: 10}
	var got []store.AuditEvent
	for pages := 1; ; pages++ {
		page, err := s.AuditEvents(ctx, q)
		must(t, err)
		got = append(got, page.Events...)
		if page.Next == "" {
			wantEqual(t, pages, 3)
			break
		}
		if pages == 3 {
			t.Fatalf("a fourth page after %d events", len(got))
		}
		appendEvents(t, s, newEvent("p-1", 30))
		q.Cursor = page.Next
	}
	wantEqual(t, len(got), len(events))
	for i, e := range got {
		wantEqual(t, e, events[len(events)-1-i])
	}
}

func testAuditRange(t *testing.T, s store.Store) {
	e := appendEvents(t, s, newEvent("p-1", 1), newEvent("p-1", 2), newEvent("p-1", 3), newEvent("p-1", 4))
	page, err := s.AuditEvents(ctx, store.AuditQuery{PrincipalID: "p-1", From: e[1].Time, To: e[3].Time})
	must(t, err)
	wantEqual(t, page.Events, []store.AuditEvent{e[2], e[1]})
	page, err = s.AuditEvents(ctx, store.AuditQuery{PrincipalID: "p-1", From: e[3].Time})
	must(t, err)
	wantEqual(t, page.Events, []store.AuditEvent{e[3]})
}

func testAuditInvalid(t *testing.T, s store.Store) {
	appendEvents(t, s, newEvent("p-1", 1))
	for _, c := range []string{"x", "1.", ".1", "01.1", "1.-1", "1.1.1", "99999999999999999999.1"} {
		_, err := s.AuditEvents(ctx, store.AuditQuery{PrincipalID: "p-1", Cursor: c})
		wantErr(t, err, store.ErrInvalid)
	}
	_, err := s.AuditEvents(ctx, store.AuditQuery{PrincipalID: "p-1", Limit: store.MaxAuditLimit + 1})
	wantErr(t, err, store.ErrInvalid)
	_, err = s.AuditEvents(ctx, store.AuditQuery{})
	wantErr(t, err, store.ErrInvalid)
	_, err = s.AppendAudit(ctx, store.AuditEvent{Time: t0})
	wantErr(t, err, store.ErrInvalid)
}

func testAuditBatch(t *testing.T, s store.Store) {
	first := appendEvents(t, s, newEvent("p-1", 1))
	batch := []store.AuditEvent{newEvent("p-1", 2), newEvent("p-2", 2), newEvent("p-1", 2)}
	ids, err := s.AppendAudits(ctx, batch)
	must(t, err)
	wantEqual(t, len(ids), len(batch))
	last := first[0].ID
	for i, id := range ids {
		if id <= last {
			t.Fatalf("ID %d of the batch is %d, not after %d", i, id, last)
		}
		last, batch[i].ID = id, id
	}
	page, err := s.AuditEvents(ctx, store.AuditQuery{PrincipalID: "p-1"})
	must(t, err)
	wantEqual(t, page.Events, []store.AuditEvent{batch[2], batch[0], first[0]})
	ids, err = s.AppendAudits(ctx, nil)
	must(t, err)
	wantEqual(t, len(ids), 0)
}

func testAuditBatchInvalid(t *testing.T, s store.Store) {
	_, err := s.AppendAudits(ctx, []store.AuditEvent{newEvent("p-1", 1), {Time: t0}, newEvent("p-1", 2)})
	wantErr(t, err, store.ErrInvalid)
	page, err := s.AuditEvents(ctx, store.AuditQuery{PrincipalID: "p-1"})
	must(t, err)
	wantEqual(t, len(page.Events), 0)
}
