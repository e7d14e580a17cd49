package httpjson_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/wsf/dst"
	"github.com/renkei-idwsf/renkei/wsp"
	"github.com/renkei-idwsf/renkei/wsp/httpjson"
	"github.com/renkei-idwsf/renkei/wsp/sample"
)

var ctx = context.Background()

// env is the pension service's office from wsp/sample on loopback, over
// the generated data, behind the generated mapping.
type env struct {
	b   *httpjson.Backend
	man *sample.Manifest
	rec *sample.PensionRecords
}

// newEnv starts the office; edit, when set, changes the mapping first.
func newEnv(t *testing.T, edit func(*httpjson.Mapping)) *env {
	t.Helper()
	man, err := sample.ReadManifest(filepath.Join(sampleDir, sample.ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	rec, err := sample.LoadPensionRecords(filepath.Join(sampleDir, sample.PensionData))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sample.NewPensionOffice(rec))
	t.Cleanup(srv.Close)
	m, err := httpjson.Load(filepath.Join(sampleDir, sample.PensionMapping))
	if err != nil {
		t.Fatal(err)
	}
	m.Base = srv.URL
	if edit != nil {
		edit(m)
	}
	return &env{b: open(t, m, srv.Client()), man: man, rec: rec}
}

func open(t *testing.T, m *httpjson.Mapping, c *http.Client) *httpjson.Backend {
	t.Helper()
	b, err := httpjson.Open(m, c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// number is the basic pension number of the sample person key.
func (e *env) number(key string) string { return e.man.Person(key).Local[sample.Pension] }

func (e *env) query(t *testing.T, l wsp.Lookup) wsp.Page {
	t.Helper()
	l.Service = dst.Pension
	if l.Item == "" {
		l.Item = "Contribution"
	}
	p, err := e.b.Query(ctx, l)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestServicesAndItems(t *testing.T) {
	e := newEnv(t, nil)
	if got := e.b.Services(); !slices.Equal(got, []string{dst.Pension}) {
		t.Errorf("services %v", got)
	}
	if got := e.b.Items(dst.Pension); !slices.Equal(got, []string{"Contribution", "Summary"}) {
		t.Errorf("items %v", got)
	}
	if got := e.b.Items(dst.Clinical); got != nil {
		t.Errorf("items of an unmapped service: %v", got)
	}
}

func TestSubject(t *testing.T) {
	e := newEnv(t, nil)
	for _, c := range []struct {
		local string
		want  bool
	}{
		{e.number("p01"), true},
		{"0000-000000", false},
		{e.number("p01") + "/contributions", false}, // one escaped segment, not another route
		{"%zz", false},
	} {
		got, err := e.b.Subject(ctx, dst.Pension, c.local)
		if err != nil || got != c.want {
			t.Errorf("Subject(%q) = %v, %v; want %v", c.local, got, err, c.want)
		}
	}
	if _, err := e.b.Subject(ctx, dst.Clinical, e.number("p01")); err == nil {
		t.Error("a subject of an unmapped service")
	}
}

// TestQueryPages pages through a long record: newest month first, More
// on every page but the last, the pages together the record.
func TestQueryPages(t *testing.T) {
	e := newEnv(t, nil)
	number := e.number("p06")
	want := e.rec.Person(number).Contributions
	var got []wsp.Record
	for {
		p := e.query(t, wsp.Lookup{Subject: number, Offset: len(got), Count: 100})
		got = append(got, p.Records...)
		if p.More != (len(got) < len(want)) || p.NoHistory {
			t.Fatalf("after %d of %d: More %v NoHistory %v", len(got), len(want), p.More, p.NoHistory)
		}
		if !p.More {
			break
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%d records, want %d", len(got), len(want))
	}
	for i, r := range got {
		w := want[i]
		if r.ID != w.ID || r.Values["Month"] != w.Month || r.Values["Kind"] != w.Kind || r.Values["Status"] != w.Status ||
			r.Values["Amount"] != *w.Amount || r.Modified.Format(time.RFC3339) != w.UpdatedAt {
			t.Fatalf("record %d: %+v, want %+v", i, r, w)
		}
	}
	if p := e.query(t, wsp.Lookup{Subject: number}); len(p.Records) != 200 || !p.More {
		t.Errorf("no count: %d records, More %v", len(p.Records), p.More)
	}
	if p := e.query(t, wsp.Lookup{Subject: number, Count: 1000}); len(p.Records) != 200 || !p.More {
		t.Errorf("a count over the largest page: %d records, More %v", len(p.Records), p.More)
	}
	if p := e.query(t, wsp.Lookup{Subject: "0000-000000"}); len(p.Records) != 0 || p.More {
		t.Errorf("an unknown subject: %+v", p)
	}
}

// TestQueryWithoutTotal pages by asking for one record more.
func TestQueryWithoutTotal(t *testing.T) {
	e := newEnv(t, func(m *httpjson.Mapping) { m.Services[dst.Pension].Items["Contribution"].Total = "" })
	number := e.number("p01")
	n := len(e.rec.Person(number).Contributions)
	for _, c := range []struct {
		offset, count int
		want          int
		more          bool
	}{{0, 10, 10, true}, {n - 10, 10, 10, false}, {n - 10, 11, 10, false}, {n - 11, 10, 10, true}, {0, 200, 199, true}} {
		p := e.query(t, wsp.Lookup{Subject: number, Offset: c.offset, Count: c.count})
		if len(p.Records) != c.want || p.More != c.more {
			t.Errorf("offset %d count %d: %d records, More %v; want %d, %v", c.offset, c.count, len(p.Records), p.More, c.want, c.more)
		}
	}
}

func TestQueryFilter(t *testing.T) {
	e := newEnv(t, nil)
	number := e.number("p11") // employed, then exempt
	for _, c := range []struct{ field, value string }{{"Kind", "employee"}, {"Status", "exempt"}, {"Status", "unpaid"}} {
		want := 0
		for _, w := range e.rec.Person(number).Contributions {
			if (c.field == "Kind" && w.Kind == c.value) || (c.field == "Status" && w.Status == c.value) {
				want++
			}
		}
		p := e.query(t, wsp.Lookup{Subject: number, Field: c.field, Value: c.value, Count: 200})
		if len(p.Records) != want || p.More {
			t.Errorf("%s=%s: %d records, want %d", c.field, c.value, len(p.Records), want)
		}
		for _, r := range p.Records {
			if r.Values[c.field] != c.value || (c.value == "exempt" && r.Values["Amount"] != nil) {
				t.Errorf("%s=%s: %+v", c.field, c.value, r)
			}
		}
	}
	if _, err := e.b.Query(ctx, wsp.Lookup{Service: dst.Pension, Item: "Contribution", Subject: number,
		Field: "Month", Value: "2025-04"}); err == nil {
		t.Error("a filter on a field the back office does not filter")
	}
}

func TestQueryChangedSince(t *testing.T) {
	e := newEnv(t, nil)
	number := e.number("p11") // paid back 2020's exempt months in June 2026
	since := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	p := e.query(t, wsp.Lookup{Subject: number, ChangedSince: since, Count: 200})
	repaid := 0
	for _, r := range p.Records {
		if !r.Modified.After(since) {
			t.Errorf("%s changed %v", r.ID, r.Modified)
		}
		if strings.HasPrefix(r.ID, "2020-") {
			repaid++
		}
	}
	if repaid != 8 || p.NoHistory || p.More {
		t.Errorf("%d records, %d of them paid back; NoHistory %v", len(p.Records), repaid, p.NoHistory)
	}
}

func TestQuerySummary(t *testing.T) {
	e := newEnv(t, nil)
	number := e.number("p09")
	want := e.rec.Person(number).Summary
	p := e.query(t, wsp.Lookup{Item: "Summary", Subject: number})
	if len(p.Records) != 1 {
		t.Fatalf("%+v", p)
	}
	r := p.Records[0]
	got := map[string]any{"Months": int64(want.Months), "PaidMonths": int64(want.PaidMonths),
		"ExemptMonths": int64(want.ExemptMonths), "ExpectedAnnual": int64(want.ExpectedAnnual), "PensionAge": int64(65)}
	for k, v := range got {
		if r.Values[k] != v {
			t.Errorf("%s = %#v, want %#v", k, r.Values[k], v)
		}
	}
	if r.ID != "Summary" || !r.Modified.IsZero() {
		t.Errorf("ID %q Modified %v", r.ID, r.Modified)
	}
	p = e.query(t, wsp.Lookup{Item: "Summary", Subject: number, ChangedSince: time.Now()})
	if !p.NoHistory || len(p.Records) != 1 {
		t.Errorf("ChangedSince on a summary without history: %+v", p)
	}
	if p := e.query(t, wsp.Lookup{Item: "Summary", Subject: "0000-000000"}); len(p.Records) != 0 {
		t.Errorf("a summary for an unknown subject: %+v", p)
	}
}

// TestQueryByID reads one record at the item path, and by walking the
// list when the mapping has none.
func TestQueryByID(t *testing.T) {
	for _, walk := range []bool{false, true} {
		e := newEnv(t, func(m *httpjson.Mapping) {
			if walk {
				m.Services[dst.Pension].Items["Contribution"].ItemPath = ""
			}
		})
		number := e.number("p06")
		rec := e.rec.Person(number).Contributions
		oldest := rec[len(rec)-1] // on the last page
		p := e.query(t, wsp.Lookup{Subject: number, ID: oldest.ID})
		if len(p.Records) != 1 || p.Records[0].ID != oldest.ID || p.Records[0].Values["Month"] != oldest.Month {
			t.Errorf("walk %v: %+v", walk, p)
		}
		for _, id := range []string{"1900-01-national", "../" + oldest.ID} {
			if p := e.query(t, wsp.Lookup{Subject: number, ID: id}); len(p.Records) != 0 {
				t.Errorf("walk %v: record %q: %+v", walk, id, p)
			}
		}
		if p := e.query(t, wsp.Lookup{Subject: number, ID: oldest.ID, ChangedSince: time.Now()}); len(p.Records) != 0 {
			t.Errorf("walk %v: an old record changed since now: %+v", walk, p)
		}
	}
}

// TestSlowBackOffice: a back office slower than the mapping's timeout
// fails the call with the context's deadline, at the timeout.
func TestSlowBackOffice(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(10 * time.Second):
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	b := open(t, pensionMapping(t, srv.URL, 200*time.Millisecond), nil)
	start := time.Now()
	_, err := b.Subject(ctx, dst.Pension, "1234-567890")
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, wsp.ErrUnavailable) {
		t.Fatalf("err = %v, want the deadline", err)
	}
	if d := time.Since(start); d > 5*time.Second { // far from the server's 10 s, loose for a busy machine
		t.Errorf("took %v", d)
	}
}

// TestBackOfficeUnavailable: a closed listener, a server error, a refused
// request, an unreadable answer and an answer over MaxBody all wrap
// wsp.ErrUnavailable, and none of their errors names the subject.
func TestBackOfficeUnavailable(t *testing.T) {
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	cases := map[string]string{"down": down.URL}
	for name, h := range map[string]http.HandlerFunc{
		"503": func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down for maintenance", 503) },
		"400": func(w http.ResponseWriter, r *http.Request) { http.Error(w, `{"error":"bad"}`, 400) },
		"malformed": func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"items": 5, "total": 1}`))
		},
		"10MiB": func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(strings.Repeat(" ", 10<<20) + `{"items": [], "total": 0}`))
		},
	} {
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		cases[name] = srv.URL
	}
	const subject = "1234-567890"
	for name, base := range cases {
		b := open(t, pensionMapping(t, base, 2*time.Second), nil)
		_, err := b.Query(ctx, wsp.Lookup{Service: dst.Pension, Item: "Contribution", Subject: subject, Count: 10})
		if !errors.Is(err, wsp.ErrUnavailable) || strings.Contains(err.Error(), subject) {
			t.Errorf("%s: %v", name, err)
		}
		if name == "10MiB" && err != nil && !strings.Contains(err.Error(), "over") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestOpenChecksTheBase(t *testing.T) {
	if _, err := httpjson.Open(&httpjson.Mapping{Base: "127.0.0.1:8090", Timeout: time.Second}, nil); err == nil {
		t.Error("opened a base without a scheme")
	}
}

func TestWriteRefused(t *testing.T) {
	e := newEnv(t, nil)
	_, err := e.b.Write(ctx, []wsp.Write{{Op: wsp.Create, Service: dst.Pension, Item: "Contribution",
		Subject: e.number("p01"), Values: map[string]string{"Month": "2026-11"}}})
	var r *wsp.Refusal
	if !errors.As(err, &r) || r.Code != wsp.ActionNotAuthorized || r.Index != 0 {
		t.Fatalf("err = %v", err)
	}
}

// pensionMapping is the sample's pension mapping pointed at base.
func pensionMapping(t *testing.T, base string, timeout time.Duration) *httpjson.Mapping {
	t.Helper()
	m, err := httpjson.Load(filepath.Join(sampleDir, sample.PensionMapping))
	if err != nil {
		t.Fatal(err)
	}
	m.Base, m.Timeout = base, timeout
	return m
}
