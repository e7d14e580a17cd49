package sqlmap_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/wsp"
	"github.com/renkei-idwsf/renkei/wsp/sqlmap"
)

// booking returns a write of an appointment of patient.
func booking(op wsp.WriteOp, id, slot string, now time.Time) wsp.Write {
	w := wsp.Write{Op: op, Service: appointment, Item: "Appointment", Subject: patient, ID: id, Now: now}
	if slot != "" {
		w.Values = map[string]string{"Slot": slot}
	}
	return w
}

// refusal checks that err is a refusal of write index with code and third.
func refusal(t *testing.T, what string, err error, index int, code, third string) {
	t.Helper()
	var r *wsp.Refusal
	if !errors.As(err, &r) || r.Index != index || r.Code != code || r.Third != third {
		t.Errorf("%s: %v, want a refusal of item %d with %s %s", what, err, index, code, third)
	}
}

// booked returns the booked places of slots 1, 2 and 3 and the number of
// bookings.
func booked(t *testing.T, d *database) string {
	t.Helper()
	return fmt.Sprintf("slots %d %d %d, %d bookings",
		d.int(t, "SELECT booked FROM slots WHERE slot_id = 1"), d.int(t, "SELECT booked FROM slots WHERE slot_id = 2"),
		d.int(t, "SELECT booked FROM slots WHERE slot_id = 3"), d.int(t, "SELECT count(*) FROM bookings"))
}

// TestAppointments: a booking is created, moved and cancelled through the
// mapping's statements; a write that fails part way leaves nothing changed.
func TestAppointments(t *testing.T) {
	eachDriver(t, func(t *testing.T, d *database) {
		ctx := context.Background()
		d.hospital(t)
		b := open(t, d.mapping(t, "hospital", nil))
		t0 := time.Date(2024, 6, 10, 8, 0, 0, 0, time.UTC)
		t1 := t0.Add(time.Hour)

		recs, err := b.Write(ctx, []wsp.Write{booking(wsp.Create, "", "1", t0)})
		if err != nil {
			t.Fatal(err)
		}
		r := recs[0]
		if r.ID == "" || r.Values["Slot"] != "1" || r.Values["Department"] != "Cardiology" ||
			r.Values["Status"] != "booked" || !r.Modified.Equal(t0) {
			t.Errorf("created %+v", r)
		}
		id := r.ID
		if got := booked(t, d); got != "slots 1 0 1, 1 bookings" {
			t.Errorf("after create: %s", got)
		}
		if p := query(t, b, wsp.Lookup{Service: appointment, Item: "Appointment", ID: id}); len(p.Records) != 1 ||
			normal(p.Records) != normal(recs) {
			t.Errorf("the booking as queried: %s; as created: %s", normal(p.Records), normal(recs))
		}

		// Move it to slot 2.
		recs, err = b.Write(ctx, []wsp.Write{booking(wsp.Modify, id, "2", t1)})
		if err != nil {
			t.Fatal(err)
		}
		if r := recs[0]; r.ID != id || r.Values["Slot"] != "2" || !r.Modified.Equal(t1) {
			t.Errorf("moved %+v", r)
		}
		if got := booked(t, d); got != "slots 0 1 1, 1 bookings" {
			t.Errorf("after modify: %s", got)
		}

		// Moving it to slot 3, which is full, fails in the second
		// statement, after the first gave slot 2's place back: nothing
		// changes.
		_, err = b.Write(ctx, []wsp.Write{booking(wsp.Modify, id, "3", t1.Add(time.Hour))})
		refusal(t, "move to a full slot", err, 0, wsp.InvalidData, wsp.SlotFull)
		if got := booked(t, d); got != "slots 0 1 1, 1 bookings" {
			t.Errorf("after a failed modify: %s", got)
		}

		// Two creates in one call, the second refused: neither happens.
		_, err = b.Write(ctx, []wsp.Write{booking(wsp.Create, "", "1", t1), booking(wsp.Create, "", "3", t1)})
		refusal(t, "two creates, the second full", err, 1, wsp.InvalidData, wsp.SlotFull)
		if got := booked(t, d); got != "slots 0 1 1, 1 bookings" {
			t.Errorf("after a failed pair of creates: %s", got)
		}

		// Optimistic concurrency: the booking changed at t1.
		w := booking(wsp.Modify, id, "1", t1.Add(2*time.Hour))
		w.NotChangedSince = t1.Add(-time.Second)
		_, err = b.Write(ctx, []wsp.Write{w})
		refusal(t, "modify of a booking changed since", err, 0, wsp.ModifiedSince, "")
		w.NotChangedSince = t1
		if _, err := b.Write(ctx, []wsp.Write{w}); err != nil {
			t.Errorf("modify of a booking not changed since: %v", err)
		}
		if got := booked(t, d); got != "slots 1 0 1, 1 bookings" {
			t.Errorf("after the second modify: %s", got)
		}

		// Another subject can neither move nor cancel it.
		for _, op := range []wsp.WriteOp{wsp.Modify, wsp.Delete} {
			w := booking(op, id, "2", t1)
			w.Subject = other
			_, err = b.Write(ctx, []wsp.Write{w})
			refusal(t, "another subject's "+op.String(), err, 0, wsp.DoesNotExist, "")
		}

		// Cancel it, twice.
		recs, err = b.Write(ctx, []wsp.Write{booking(wsp.Delete, id, "", t1)})
		if err != nil || len(recs) != 1 || recs[0].ID != id {
			t.Errorf("delete: %v %+v", err, recs)
		}
		if got := booked(t, d); got != "slots 0 0 1, 0 bookings" {
			t.Errorf("after delete: %s", got)
		}
		_, err = b.Write(ctx, []wsp.Write{booking(wsp.Delete, id, "", t1)})
		refusal(t, "second delete", err, 0, wsp.DoesNotExist, "")

		// What the mapping does not offer.
		for _, w := range []wsp.Write{
			{Op: wsp.Create, Service: clinical, Item: "LabResult", Subject: patient},
			{Op: wsp.Delete, Service: appointment, Item: "Slot", Subject: patient, ID: "1"},
			{Op: wsp.Create, Service: "urn:renkei:svc:pension:1.0", Item: "Contribution", Subject: patient},
		} {
			_, err = b.Write(ctx, []wsp.Write{booking(wsp.Create, "", "1", t1), w})
			refusal(t, w.Op.String()+" "+w.Item, err, 1, wsp.ActionNotAuthorized, "")
		}
		if got := booked(t, d); got != "slots 0 0 1, 0 bookings" {
			t.Errorf("after refused writes: %s", got)
		}
	})
}

// TestBookingRace: 200 patients book the last place of a slot at once
// through two WSP nodes on one database; one gets it, the others hear
// SlotFull.
func TestBookingRace(t *testing.T) {
	eachDriver(t, func(t *testing.T, d *database) {
		const n = 200
		d.hospital(t)
		// Both nodes load the same mapping and are pointed at the shared
		// database.
		m := d.mapping(t, "hospital", func(m map[string]any) { m["dsn"] = "unused.db" })
		nodes := []*sqlmap.Backend{open(t, m, sqlmap.WithDSN(d.dsn)), open(t, m, sqlmap.WithDSN(d.dsn))}

		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		start := make(chan struct{})
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				<-start
				_, errs[i] = nodes[i%2].Write(ctx, []wsp.Write{booking(wsp.Create, "", "2", time.Now())})
			})
		}
		began := time.Now()
		close(start)
		wg.Wait()
		elapsed := time.Since(began)

		won, full := 0, 0
		for _, err := range errs {
			var r *wsp.Refusal
			switch {
			case err == nil:
				won++
			case errors.As(err, &r) && r.Code == wsp.InvalidData && r.Third == wsp.SlotFull:
				full++
			default:
				t.Errorf("booking: %v", err)
			}
		}
		if won != 1 || full != n-1 {
			t.Errorf("%d bookings and %d refusals, want 1 and %d", won, full, n-1)
		}
		if got := booked(t, d); got != "slots 0 1 1, 1 bookings" {
			t.Errorf("after the race: %s", got)
		}
		t.Logf("%d concurrent bookings on two nodes in %v", n, elapsed)
	})
}
