package sqlmap_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/wsp"
	"github.com/renkei-idwsf/renkei/wsp/sqlmap"
)

// TestSameRecords: hospital A and clinic B keep the same results in
// differently shaped schemas; through their mappings the engine sees the
// same records, whole, one by id and filtered.
func TestSameRecords(t *testing.T) {
	eachDriver(t, func(t *testing.T, a *database) {
		a.hospital(t)
		b := newDatabase(t, a.driver)
		b.clinic(t)
		ba := open(t, a.mapping(t, "hospital", nil))
		bb := open(t, b.mapping(t, "clinic", nil))

		for _, l := range []wsp.Lookup{
			{Count: 100},
			{ID: "7"},
			{Field: "Code", Value: "3D045000001906202"},
			{Subject: other},
		} {
			pa, pb := query(t, ba, l), query(t, bb, l)
			if len(pa.Records) == 0 {
				t.Fatalf("%+v: no records", l)
			}
			if na, nb := normal(pa.Records), normal(pb.Records); na != nb {
				t.Errorf("%+v: hospital A gives\n%s\nclinic B gives\n%s", l, na, nb)
			}
		}

		// The values as the engine gets them: numbers as numbers, an
		// absent column absent.
		r := query(t, ba, wsp.Lookup{ID: "1"}).Records[0]
		if r.Values["Low"] != 4.6 || r.Values["Value"] != "41" || r.Values["Department"] != "Internal Medicine" {
			t.Errorf("record 1: %#v", r.Values)
		}
		if !r.Modified.Equal(old) {
			t.Errorf("record 1 modified %v, want %v", r.Modified, old)
		}
		r = query(t, ba, wsp.Lookup{ID: "5"}).Records[0]
		if r.Values["Low"] != nil || r.Values["Unit"] != nil {
			t.Errorf("record 5: %#v", r.Values)
		}
		if _, ok := r.Values["updated_at"]; ok || len(r.Values) != 8 {
			t.Errorf("record 5 has other values than the mapped fields: %#v", r.Values)
		}

		// Another subject's record is not found by id.
		if p := query(t, ba, wsp.Lookup{ID: "101"}); len(p.Records) != 0 {
			t.Errorf("patient sees the other's record: %v", ids(p.Records))
		}
		// Slots are the institution's: integers from an expression.
		s := query(t, ba, wsp.Lookup{Service: appointment, Item: "Slot"}).Records
		if len(s) != 3 || s[0].Values["Remaining"] != int64(3) || s[2].Values["Remaining"] != int64(0) {
			t.Errorf("slots: %s", normal(s))
		}
	})
}

// TestSubject: the subject query tells subjects from strangers, per
// service.
func TestSubject(t *testing.T) {
	eachDriver(t, func(t *testing.T, d *database) {
		d.hospital(t)
		b := open(t, d.mapping(t, "hospital", nil))
		for _, c := range []struct {
			service, local string
			want           bool
		}{
			{clinical, patient, true},
			{appointment, other, true},
			{clinical, "A-404", false},
			{clinical, "' OR 1=1 --", false},
			{"urn:renkei:svc:pension:1.0", patient, false},
		} {
			got, err := b.Subject(context.Background(), c.service, c.local)
			if err != nil || got != c.want {
				t.Errorf("Subject(%s, %q) = %v, %v; want %v", c.service, c.local, got, err, c.want)
			}
		}
	})
}

// TestPaging: pages follow the back office's order (newest first), More
// tells whether records follow, a count of 0 is the default page and a
// count above the maximum is the maximum.
func TestPaging(t *testing.T) {
	eachDriver(t, func(t *testing.T, d *database) {
		d.hospital(t)
		b := open(t, d.mapping(t, "hospital", nil))
		var want []string
		for i := nResults; i >= 1; i-- {
			want = append(want, strconv.Itoa(i))
		}
		for _, c := range []struct {
			offset, count int
			from, to      int
			more          bool
		}{
			{0, 10, 0, 10, true},
			{10, 10, 10, 20, true},
			{20, 10, 20, 25, false},
			{15, 10, 15, 25, false},
			{30, 10, 25, 25, false},
			{0, 0, 0, sqlmap.DefaultCount, true},
			{0, 1000, 0, 25, false},
			{-3, 25, 0, 25, false},
		} {
			p := query(t, b, wsp.Lookup{Offset: c.offset, Count: c.count})
			if got := ids(p.Records); !slices.Equal(got, want[c.from:c.to]) || p.More != c.more {
				t.Errorf("offset %d count %d: %v more %v; want %v more %v", c.offset, c.count, got, p.More,
					want[c.from:c.to], c.more)
			}
		}
	})
}

// TestFilter: a lookup by a Filter field selects on its column; a field
// the catalog does not let select is refused.
func TestFilter(t *testing.T) {
	eachDriver(t, func(t *testing.T, d *database) {
		d.hospital(t)
		b := open(t, d.mapping(t, "hospital", nil))
		p := query(t, b, wsp.Lookup{Field: "Code", Value: "3F015000002327101", Count: 100})
		if len(p.Records) != 9 {
			t.Errorf("Glucose: %d records, want 9", len(p.Records))
		}
		for _, r := range p.Records {
			if r.Values["Code"] != "3F015000002327101" {
				t.Errorf("record %s has code %v", r.ID, r.Values["Code"])
			}
		}
		if p := query(t, b, wsp.Lookup{Field: "Code", Value: "none"}); len(p.Records) != 0 || p.More {
			t.Errorf("unknown code: %v", ids(p.Records))
		}
		// Filter and id together.
		if p := query(t, b, wsp.Lookup{ID: "4", Field: "Code", Value: "3F015000002327101"}); len(p.Records) != 1 {
			t.Errorf("id 4 and Glucose: %v", ids(p.Records))
		}
		// Slots by department, not filtered by subject.
		p = query(t, b, wsp.Lookup{Service: appointment, Item: "Slot", Field: "Department", Value: "Cardiology"})
		if len(p.Records) != 3 {
			t.Errorf("Cardiology slots: %v", ids(p.Records))
		}
		for _, field := range []string{"Name", "Nonesuch"} {
			_, err := b.Query(context.Background(), wsp.Lookup{Service: clinical, Item: "LabResult",
				Subject: patient, Field: field, Value: "HbA1c"})
			var r *wsp.Refusal
			if !errors.As(err, &r) || r.Code != "InvalidSelect" {
				t.Errorf("select by %s: %v, want InvalidSelect", field, err)
			}
		}
		_, err := b.Query(context.Background(), wsp.Lookup{Service: clinical, Item: "Prescription", Subject: patient})
		var r *wsp.Refusal
		if !errors.As(err, &r) || r.Code != wsp.ActionNotAuthorized {
			t.Errorf("unmapped item type: %v, want ActionNotAuthorized", err)
		}
	})
}

// TestChangedSince: an item with a modified column returns what changed
// after the time; one without returns everything and says so.
func TestChangedSince(t *testing.T) {
	eachDriver(t, func(t *testing.T, a *database) {
		a.hospital(t)
		b := newDatabase(t, a.driver)
		b.clinic(t)
		ba := open(t, a.mapping(t, "hospital", nil))
		bb := open(t, b.mapping(t, "clinic", nil))

		for _, c := range []struct {
			since time.Time
			want  int
		}{
			{old.Add(-time.Second), nResults},
			{old, 5},
			{old.Add(time.Hour), 5},
			{recent, 0},
			{recent.Add(-time.Millisecond), 5},
		} {
			p := query(t, ba, wsp.Lookup{ChangedSince: c.since, Count: 100})
			if len(p.Records) != c.want || p.NoHistory {
				t.Errorf("hospital A since %v: %d records (no history %v), want %d", c.since, len(p.Records),
					p.NoHistory, c.want)
			}
			for _, r := range p.Records {
				if !r.Modified.After(c.since) {
					t.Errorf("record %s modified %v, not after %v", r.ID, r.Modified, c.since)
				}
			}
		}
		// With a zone other than UTC.
		jst := time.FixedZone("JST", 9*3600)
		if p := query(t, ba, wsp.Lookup{ChangedSince: old.Add(time.Minute).In(jst), Count: 100}); len(p.Records) != 5 {
			t.Errorf("since a JST time: %d records, want 5", len(p.Records))
		}

		p := query(t, bb, wsp.Lookup{ChangedSince: recent, Count: 100})
		if len(p.Records) != nResults || !p.NoHistory {
			t.Errorf("clinic B since %v: %d records, no history %v; want all and no history", recent,
				len(p.Records), p.NoHistory)
		}
		if p := query(t, bb, wsp.Lookup{Count: 100}); p.NoHistory {
			t.Error("clinic B reports no history for a lookup without changedSince")
		}
	})
}

// TestLoad: Load takes a relative SQLite path from the mapping file's
// directory, wherever the process runs.
func TestLoad(t *testing.T) {
	dir := t.TempDir()
	d := &database{driver: sqlmap.SQLite, dsn: filepath.Join(dir, "clinic.db")}
	d.db = openDB(t, d.driver, d.dsn)
	d.clinic(t)
	file := filepath.Join(dir, "clinic.json")
	if err := os.WriteFile(file, mappingJSON(t, "clinic", sqlmap.SQLite, "file:clinic.db", nil), 0o600); err != nil {
		t.Fatal(err)
	}
	m, err := sqlmap.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	b := open(t, m)
	if p := query(t, b, wsp.Lookup{Count: 100}); len(p.Records) != nResults {
		t.Errorf("%d records, want %d", len(p.Records), nResults)
	}
	if _, err := sqlmap.Load(filepath.Join(dir, "none.json")); err == nil {
		t.Error("Load of a missing file succeeded")
	}
}
