package sqlmap_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/wsp"
	"github.com/renkei-idwsf/renkei/wsp/sqlmap"
)

// slowQuery is a LabResult query that takes far longer than a call may.
var slowQuery = map[string]string{
	sqlmap.Postgres: "SELECT r.* FROM lab_results r, (SELECT pg_sleep(5)) z WHERE r.patient_no = :subject",
	sqlmap.SQLite: "SELECT r.* FROM lab_results r WHERE r.patient_no = :subject AND (WITH RECURSIVE c(x) AS " +
		"(SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000000000) SELECT count(*) FROM c) > 0",
}

// TestTimeout: a call is bounded by the mapping's timeout and by its
// caller's context, and the back office serves the next call.
func TestTimeout(t *testing.T) {
	eachDriver(t, func(t *testing.T, d *database) {
		d.hospital(t)
		m := d.mapping(t, "hospital", func(m map[string]any) {
			m["timeout"] = "200ms"
			itemOf(m, clinical, "LabResult")["query"] = slowQuery[d.driver]
		})
		b := open(t, m)

		began := time.Now()
		_, err := b.Query(context.Background(), wsp.Lookup{Service: clinical, Item: "LabResult", Subject: patient})
		if elapsed := time.Since(began); !errors.Is(err, context.DeadlineExceeded) || elapsed > 3*time.Second { // the query sleeps 5 s
			t.Errorf("slow query: %v after %v, want a deadline error after about 200ms", err, elapsed)
		} else {
			t.Logf("slow query: %v after %v", err, elapsed)
		}
		if errors.Is(err, wsp.ErrUnavailable) {
			t.Errorf("a timeout is reported as the back office's failure: %v", err)
		}

		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		_, err = b.Query(ctx, wsp.Lookup{Service: clinical, Item: "LabResult", Subject: patient})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("query whose caller gives up: %v, want context.Canceled", err)
		}

		if ok, err := b.Subject(context.Background(), clinical, patient); !ok || err != nil {
			t.Errorf("after the timeouts, Subject: %v %v", ok, err)
		}
	})
}

// TestUnavailable: a database that cannot be reached, or that fails a
// statement, is wsp.ErrUnavailable.
func TestUnavailable(t *testing.T) {
	ctx := context.Background()
	for driver, dsn := range map[string]string{
		sqlmap.Postgres: "postgres://renkei@127.0.0.1:1/none?connect_timeout=2&sslmode=disable",
		sqlmap.SQLite:   "/nonexistent/dir/hospital.db",
	} {
		m, err := sqlmap.Parse(mappingJSON(t, "clinic", driver, dsn, nil), "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sqlmap.Open(ctx, m); !errors.Is(err, wsp.ErrUnavailable) {
			t.Errorf("%s: Open of an unreachable database: %v, want ErrUnavailable", driver, err)
		}
	}

	eachDriver(t, func(t *testing.T, d *database) {
		d.hospital(t)
		b := open(t, d.mapping(t, "hospital", nil))
		d.exec(t, "DROP TABLE lab_results")
		_, err := b.Query(ctx, wsp.Lookup{Service: clinical, Item: "LabResult", Subject: patient})
		if !errors.Is(err, wsp.ErrUnavailable) {
			t.Errorf("query of a dropped table: %v, want ErrUnavailable", err)
		}
		t.Logf("query of a dropped table: %v", err)
		d.exec(t, "DROP TABLE bookings")
		_, err = b.Write(ctx, []wsp.Write{booking(wsp.Create, "", "1", time.Now())})
		if !errors.Is(err, wsp.ErrUnavailable) {
			t.Errorf("write to a dropped table: %v, want ErrUnavailable", err)
		}
		if got := d.int(t, "SELECT booked FROM slots WHERE slot_id = 1"); got != 0 {
			t.Errorf("a failed write left slot 1 with %d booked", got)
		}
	})
}

// TestOpenChecks: Open reports every statement the database does not
// take and every mapped column an item query does not return.
func TestOpenChecks(t *testing.T) {
	eachDriver(t, func(t *testing.T, d *database) {
		d.hospital(t)
		m := d.mapping(t, "hospital", func(m map[string]any) {
			itemOf(m, clinical, "LabResult")["columns"].(map[string]any)["Unit"] = "units"
			itemOf(m, appointment, "Slot")["modified"] = "changed_at"
			appt := itemOf(m, appointment, "Appointment")
			appt["delete"].([]any)[1].(map[string]any)["sql"] = "DELETE FROM booking WHERE booking_id = :id"
		})
		_, err := sqlmap.Open(context.Background(), m)
		if err == nil {
			t.Fatal("Open accepted a mapping the database does not fit")
		}
		t.Logf("Open: %v", err)
		for _, want := range []string{
			"item LabResult: query: ", "units",
			"item Slot: query: ", "changed_at",
			"item Appointment: delete[1]: ", "booking",
		} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("the error does not say %q:\n%v", want, err)
			}
		}
	})
}
