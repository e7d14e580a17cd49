package sample

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
	"time"
)

// pensionOffice serves the generated pension data on loopback.
func pensionOffice(t *testing.T) (*httptest.Server, *PensionRecords, *Manifest) {
	t.Helper()
	dir, m := generated(t)
	d, err := LoadPensionRecords(filepath.Join(dir, PensionData))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(NewPensionOffice(d))
	t.Cleanup(srv.Close)
	return srv, d, m
}

// get GETs path and decodes the JSON answer into v, returning the status.
func get(t *testing.T, srv *httptest.Server, path string, v any) int {
	t.Helper()
	resp, err := srv.Client().Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("GET %s: Content-Type %q", path, ct)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return resp.StatusCode
}

func TestPensionOfficePerson(t *testing.T) {
	srv, d, m := pensionOffice(t)
	number := m.Person("p01").Local[Pension]
	var p personView
	if st := get(t, srv, "/persons/"+url.PathEscape(number), &p); st != http.StatusOK {
		t.Fatalf("status %d", st)
	}
	want := d.Person(number)
	if p.Number != number || p.Name != "佐藤 健一" || p.Summary != want.Summary || p.Summary.PensionAge != 65 {
		t.Fatalf("person %+v", p)
	}
	s := p.Summary
	if s.Months != s.PaidMonths+s.ExemptMonths || s.PaidMonths == 0 || s.ExpectedAnnual < 500000 {
		t.Errorf("summary %+v", s)
	}
	var e map[string]string
	if st := get(t, srv, "/persons/0000-000000", &e); st != http.StatusNotFound || e["error"] == "" {
		t.Errorf("unknown person: %d %v", st, e)
	}
	if st := get(t, srv, "/persons/"+number+"?x=1", &e); st != http.StatusBadRequest {
		t.Errorf("a parameter on the person: %d", st)
	}
}

// TestPensionOfficePaging walks a long record page by page: newest month
// first, every page's total the same, and the pages together the record.
func TestPensionOfficePaging(t *testing.T) {
	srv, d, m := pensionOffice(t)
	number := m.Person("p06").Local[Pension] // 38 years employed
	want := d.Person(number).Contributions
	if len(want) <= MaxLimit {
		t.Fatalf("a record of %d months does not need paging", len(want))
	}
	var all []Contribution
	for offset := 0; ; offset += MaxLimit {
		var p page
		if st := get(t, srv, "/persons/"+number+"/contributions?limit=200&offset="+strconv.Itoa(offset), &p); st != http.StatusOK {
			t.Fatalf("status %d", st)
		}
		if p.Total != len(want) {
			t.Fatalf("total %d, want %d", p.Total, len(want))
		}
		all = append(all, p.Items...)
		if len(p.Items) < MaxLimit {
			break
		}
	}
	if !reflect.DeepEqual(all, want) {
		t.Fatal("the pages are not the record")
	}
	for i := 1; i < len(all); i++ {
		if all[i].Month > all[i-1].Month {
			t.Fatalf("%s after %s", all[i].Month, all[i-1].Month)
		}
	}
	var p page
	get(t, srv, "/persons/"+number+"/contributions", &p)
	if len(p.Items) != DefaultLimit {
		t.Errorf("default page of %d", len(p.Items))
	}
}

func TestPensionOfficeFilters(t *testing.T) {
	srv, d, m := pensionOffice(t)
	number := m.Person("p11").Local[Pension] // employed, then exempt, some of it paid back
	rec := d.Person(number).Contributions
	count := func(keep func(Contribution) bool) int {
		n := 0
		for _, c := range rec {
			if keep(c) {
				n++
			}
		}
		return n
	}
	since := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		query string
		keep  func(Contribution) bool
	}{
		{"kind=employee", func(c Contribution) bool { return c.Kind == employee }},
		{"status=exempt", func(c Contribution) bool { return c.Status == statusExempt }},
		{"kind=national&status=paid", func(c Contribution) bool { return c.Kind == national && c.Status == statusPaid }},
		{"changed_since=" + url.QueryEscape(since.Format(time.RFC3339)), func(c Contribution) bool {
			u, _ := time.Parse(time.RFC3339, c.UpdatedAt)
			return u.After(since)
		}},
	} {
		var p page
		if st := get(t, srv, "/persons/"+number+"/contributions?limit=200&"+c.query, &p); st != http.StatusOK {
			t.Fatalf("%s: status %d", c.query, st)
		}
		want := count(c.keep)
		if p.Total != want || want == 0 || p.Total == len(rec) {
			t.Errorf("%s: total %d, want %d of %d", c.query, p.Total, want, len(rec))
		}
		for _, it := range p.Items {
			if !c.keep(it) {
				t.Errorf("%s: %+v", c.query, it)
			}
		}
	}
	var one Contribution
	if st := get(t, srv, "/persons/"+number+"/contributions/"+rec[3].ID, &one); st != http.StatusOK || !reflect.DeepEqual(one, rec[3]) {
		t.Errorf("contribution %s: %d %+v", rec[3].ID, st, one)
	}
	var e map[string]string
	if st := get(t, srv, "/persons/"+number+"/contributions/1999-01-national", &e); st != http.StatusNotFound {
		t.Errorf("unknown contribution: %d", st)
	}
}

func TestPensionOfficeRefusesBadParameters(t *testing.T) {
	srv, _, m := pensionOffice(t)
	base := "/persons/" + m.Person("p01").Local[Pension] + "/contributions?"
	for _, q := range []string{"limit=0", "limit=201", "limit=x", "offset=-1", "kind=welfare", "status=late",
		"changed_since=2026-06-01", "sort=month", "limit=10&limit=20"} {
		var e map[string]string
		if st := get(t, srv, base+q, &e); st != http.StatusBadRequest || e["error"] == "" {
			t.Errorf("%s: %d %v", q, st, e)
		}
	}
	resp, err := srv.Client().Post(srv.URL+base, "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", resp.StatusCode)
	}
}
