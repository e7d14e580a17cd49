package md

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

func operatorTrust() *xmlsec.TrustSet {
	return xmlsec.NewTrustSet([]*x509.Certificate{pki.MustGet().RSA.Cert})
}

// writeSigned signs g with the operator's key into a file of dir.
func writeSigned(t *testing.T, dir, name string, g *EntitiesDescriptor) string {
	t.Helper()
	el, err := Sign(g, signer(pki.MustGet().RSA))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, serialize(t, el), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func newSet(t *testing.T, cfg Config) *Set {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func sourceErr(t *testing.T, err error) *SourceError {
	t.Helper()
	var se *SourceError
	if !errors.As(err, &se) {
		t.Fatalf("error %v is not a *SourceError", err)
	}
	return se
}

// TestSetAggregate loads the operator's signed aggregate from a file and
// serves its entities until their inherited validUntil.
func TestSetAggregate(t *testing.T) {
	path := writeSigned(t, t.TempDir(), "agg.xml", sampleAggregate(t))
	s := newSet(t, Config{Sources: []Source{{Location: path, Trust: operatorTrust()}}, Interval: 3 * time.Hour, Schema: mdSchema(t)})
	ctx := context.Background()
	if err := s.Refresh(ctx, t0); err != nil {
		t.Fatalf("ok/aggregate: %v", err)
	}
	if n := len(s.Entries(t0)); n != 3 {
		t.Fatalf("%d entries, want 3", n)
	}
	e, err := s.Entity("https://portal.renkei.test/metadata", t0)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := e.SP()
	if err != nil || !sp.WantsDiscoveryBootstrap() {
		t.Fatalf("portal: %v", err)
	}
	if next := s.NextRefresh(); !next.Equal(t0.Add(time.Hour)) {
		t.Fatalf("next refresh %v, want cacheDuration 1h after load", next)
	}
	later := t0.Add(49 * time.Hour) // past the nested group's validUntil (48h)
	if _, err := s.Entity("https://ds.renkei.test/metadata", later); !isKind(err, KindExpired) {
		t.Fatalf("fail/nested-group-expired: %v", err)
	}
	if _, err := s.Entity("https://idp.renkei.test/metadata", later); err != nil {
		t.Fatalf("ok/outer-entity-still-valid: %v", err)
	}
	if err := s.Refresh(ctx, later); err != nil {
		t.Fatalf("reload with an expired nested group: %v", err)
	}
	if _, err := s.Entity("https://ds.renkei.test/metadata", later); !isKind(err, KindExpired) {
		t.Fatalf("fail/nested-group-expired-after-reload: %v", err)
	}
	if n := len(s.Entries(later)); n != 2 {
		t.Fatalf("%d entries after the group expired, want 2", n)
	}
	if _, err := s.Entity("https://unknown.example/", t0); !isKind(err, KindNotFound) {
		t.Fatalf("fail/unknown: %v", err)
	}
}

// TestSetRefused: every document that must not be trusted is refused with
// its typed error, wrapped in a *SourceError naming the source.
func TestSetRefused(t *testing.T) {
	dir := t.TempDir()
	good := writeSigned(t, dir, "good.xml", sampleAggregate(t))
	b, _ := os.ReadFile(good)
	tampered := filepath.Join(dir, "tampered.xml")
	os.WriteFile(tampered, []byte(strings.Replace(string(b), "https://portal.renkei.test/saml/acs\"", "https://evil.example/acs\"", 1)), 0o644)
	old := sampleAggregate(t)
	old.ValidUntil = t0.Add(-time.Second)
	expiredDoc := writeSigned(t, dir, "expired.xml", old)
	dupe := sampleAggregate(t)
	again := sampleIDP(t)
	again.ID = "" // a second "_idp" would be refused as a duplicate ID first
	dupe.Groups[0].Entities = append(dupe.Groups[0].Entities, again)
	dupPath := writeSigned(t, dir, "dup.xml", dupe)
	expEnt := sampleSP(t)
	expEnt.ValidUntil = t0
	unsignedExpired := filepath.Join(dir, "sp-expired.xml")
	os.WriteFile(unsignedExpired, serialize(t, expEnt.Element()), 0o644)
	foreign := xmlsec.NewTrustSet([]*x509.Certificate{pki.MustGet().ForeignRSA.Cert})
	invalid := filepath.Join(dir, "sp-invalid.xml")
	sp := string(serialize(t, sampleSP(t).Element()))
	os.WriteFile(invalid, []byte(strings.Replace(sp, "<md:SPSSODescriptor", "<md:Bogus/><md:SPSSODescriptor", 1)), 0o644)
	cases := []struct {
		name string
		src  Source
		max  int
		want error
	}{
		{"fail/schema-invalid", Source{Location: invalid, Unsigned: true}, 0, ErrInvalid},
		{"fail/tampered", Source{Location: tampered, Trust: operatorTrust()}, 0, xmlsec.ErrDigest},
		{"fail/untrusted-signer", Source{Location: good, Trust: foreign}, 0, xmlsec.ErrUntrustedKey},
		{"fail/expired-document", Source{Location: expiredDoc, Trust: operatorTrust()}, 0, ErrExpired},
		{"fail/expired-entity-file", Source{Location: unsignedExpired, Unsigned: true}, 0, ErrExpired},
		{"fail/duplicate-entity", Source{Location: dupPath, Trust: operatorTrust()}, 0, ErrDuplicate},
		{"fail/unsigned-where-signature-required", Source{Location: unsignedExpired, Trust: operatorTrust()}, 0, xmlsec.ErrNoSignature},
		{"fail/oversized-file", Source{Location: good, Trust: operatorTrust()}, 1024, xmlsec.ErrTooLarge},
		{"fail/missing-file", Source{Location: filepath.Join(dir, "none.xml"), Trust: operatorTrust()}, 0, ErrFetch},
		{"fail/plain-http", Source{Location: "http://127.0.0.1:1/md.xml", Trust: operatorTrust()}, 0, ErrFetch},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newSet(t, Config{Sources: []Source{c.src}, MaxBytes: c.max, Schema: mdSchema(t)})
			err := s.Refresh(context.Background(), t0)
			if se := sourceErr(t, err); se.Location != c.src.Location {
				t.Fatalf("source %q", se.Location)
			}
			wantErr(t, err, c.want)
			if n := len(s.Entries(t0)); n != 0 {
				t.Fatalf("%d entities served from a refused document", n)
			}
		})
	}
}

// TestSetKeepsLastGoodCopy: when a reload fails the Set keeps serving the
// last good copy until its validUntil, and retries at RetryInterval.
func TestSetKeepsLastGoodCopy(t *testing.T) {
	path := writeSigned(t, t.TempDir(), "agg.xml", sampleAggregate(t))
	s := newSet(t, Config{Sources: []Source{{Location: path, Trust: operatorTrust()}}, RetryInterval: 5 * time.Minute})
	ctx := context.Background()
	if err := s.Refresh(ctx, t0); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(path, []byte("<md:EntitiesDescriptor"), 0o644)
	now := t0.Add(2 * time.Hour)
	err := s.Refresh(ctx, now)
	wantErr(t, err, xmlsec.ErrMalformed)
	if _, err := s.Entity("https://idp.renkei.test/metadata", now); err != nil {
		t.Fatalf("ok/last-good-copy: %v", err)
	}
	st := s.Status()[0]
	if st.Err == nil || !st.Loaded.Equal(t0) || !st.Next.Equal(now.Add(5*time.Minute)) || st.Entities != 3 {
		t.Fatalf("status %+v", st)
	}
	if _, err := s.Entity("https://idp.renkei.test/metadata", t0.Add(7*24*time.Hour)); !isKind(err, KindExpired) {
		t.Fatalf("fail/last-good-copy-expired: %v", err)
	}
}

// TestSetRefreshTiming: with a fake clock, the next load is due after the
// shorter of cacheDuration and Interval, and RefreshDue loads nothing early.
func TestSetRefreshTiming(t *testing.T) {
	dir := t.TempDir()
	g := sampleAggregate(t)
	g.CacheDuration = 10 * time.Minute
	path := writeSigned(t, dir, "agg.xml", g)
	s := newSet(t, Config{Sources: []Source{{Location: path, Trust: operatorTrust()}}, Interval: time.Hour})
	ctx := context.Background()
	if err := s.Refresh(ctx, t0); err != nil {
		t.Fatal(err)
	}
	if !s.NextRefresh().Equal(t0.Add(10 * time.Minute)) {
		t.Fatalf("next %v, want cacheDuration 10m", s.NextRefresh())
	}
	g.Entities[0].IDPSSO[0].SingleSignOn[0].Location = "https://idp.renkei.test/saml/sso-v2"
	writeSigned(t, dir, "agg.xml", g)
	sso := func(now time.Time) string {
		e, err := s.Entity("https://idp.renkei.test/metadata", now)
		if err != nil {
			t.Fatal(err)
		}
		return e.IDPSSO[0].SingleSignOn[0].Location
	}
	if err := s.RefreshDue(ctx, t0.Add(9*time.Minute)); err != nil || sso(t0) != "https://idp.renkei.test/saml/sso" {
		t.Fatalf("fail/early-reload: %v %s", err, sso(t0))
	}
	if err := s.RefreshDue(ctx, t0.Add(10*time.Minute)); err != nil || sso(t0) != "https://idp.renkei.test/saml/sso-v2" {
		t.Fatalf("ok/due-reload: %v %s", err, sso(t0))
	}
	s2 := newSet(t, Config{Sources: []Source{{Location: path, Trust: operatorTrust()}}, Interval: 5 * time.Minute})
	if err := s2.Refresh(ctx, t0); err != nil || !s2.NextRefresh().Equal(t0.Add(5*time.Minute)) {
		t.Fatalf("ok/interval-shorter-than-cache: %v %v", err, s2.NextRefresh())
	}
}

// TestSetHTTPS fetches the aggregate from an httptest TLS server on
// 127.0.0.1 with the caller's client, and refuses an oversized body, an
// error status and a server the client does not trust.
func TestSetHTTPS(t *testing.T) {
	agg, err := os.ReadFile(writeSigned(t, t.TempDir(), "agg.xml", sampleAggregate(t)))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/md.xml":
			w.Write(agg)
		case "/redirect-http":
			http.Redirect(w, r, "http://127.0.0.1:1/md.xml", http.StatusFound)
		case "/chunked.xml": // no Content-Length: the limit applies while reading
			w.(http.Flusher).Flush()
			w.Write(agg)
		default:
			http.NotFound(w, r)
		}
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the untrusted-TLS case makes the server log
	srv.StartTLS()
	defer srv.Close()
	if !strings.HasPrefix(srv.URL, "https://127.0.0.1:") {
		t.Fatalf("test server not on loopback: %s", srv.URL)
	}
	ctx := context.Background()
	src := Source{Location: srv.URL + "/md.xml", Trust: operatorTrust()}
	s := newSet(t, Config{Sources: []Source{src}, Client: srv.Client()})
	if err := s.Refresh(ctx, t0); err != nil {
		t.Fatalf("ok/https: %v", err)
	}
	if _, err := s.Entity("https://idp.renkei.test/metadata", t0); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		cfg  Config
		want error
	}{
		{"fail/oversized-content-length", Config{Sources: []Source{src}, Client: srv.Client(), MaxBytes: 2048}, xmlsec.ErrTooLarge},
		{"fail/oversized-chunked", Config{Sources: []Source{{Location: srv.URL + "/chunked.xml", Trust: operatorTrust()}}, Client: srv.Client(), MaxBytes: 2048}, xmlsec.ErrTooLarge},
		{"fail/not-found", Config{Sources: []Source{{Location: srv.URL + "/none.xml", Trust: operatorTrust()}}, Client: srv.Client()}, ErrFetch},
		{"fail/untrusted-tls", Config{Sources: []Source{src}}, ErrFetch},
		{"fail/redirect-to-http", Config{Sources: []Source{{Location: srv.URL + "/redirect-http", Trust: operatorTrust()}}, Client: srv.Client()}, ErrFetch},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := newSet(t, c.cfg).Refresh(ctx, t0)
			wantErr(t, err, c.want)
			if c.name == "fail/redirect-to-http" && !strings.Contains(err.Error(), "https only") {
				t.Fatalf("refused for another reason: %v", err)
			}
		})
	}
}

// TestSetSources: an unsigned local entity file is accepted when marked
// so; an entityID in two sources is taken from the first; the
// configuration refuses an unsigned URL and a source without trust.
func TestSetSources(t *testing.T) {
	dir := t.TempDir()
	agg := writeSigned(t, dir, "agg.xml", sampleAggregate(t))
	sp := sampleSP(t)
	sp.SPSSO[0].AssertionConsumer[0].Location = "https://portal.renkei.test/local-acs"
	local := filepath.Join(dir, "sp.xml")
	os.WriteFile(local, serialize(t, sp.Element()), 0o644)
	s := newSet(t, Config{Sources: []Source{{Location: local, Unsigned: true}, {Location: agg, Trust: operatorTrust()}}})
	if err := s.Refresh(context.Background(), t0); err != nil {
		t.Fatalf("ok/unsigned-local: %v", err)
	}
	e, err := s.Entity("https://portal.renkei.test/metadata", t0)
	if err != nil || e.SPSSO[0].AssertionConsumer[0].Location != "https://portal.renkei.test/local-acs" {
		t.Fatalf("ok/first-source-wins: %v", err)
	}
	_, err = New(Config{Sources: []Source{{Location: "https://md.example/agg.xml", Unsigned: true}, {Location: agg}, {}}})
	wantErr(t, err, ErrConfig)
	for _, want := range []string{"only a local file", "no trust set", "no location"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("fail/config: %q lacks %q", err, want)
		}
	}
}

// TestSetRun: Run loads the sources at its clock's time, serves readers
// meanwhile, and returns when its context ends.
func TestSetRun(t *testing.T) {
	path := writeSigned(t, t.TempDir(), "agg.xml", sampleAggregate(t))
	s := newSet(t, Config{Sources: []Source{{Location: path, Trust: operatorTrust()}}, Now: func() time.Time { return t0 }})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				s.Entity("https://idp.renkei.test/metadata", t0)
			}
		}()
	}
	deadline := time.Now().Add(10 * time.Second)
	for s.Status()[0].Loaded.IsZero() && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	wg.Wait()
	if _, err := s.Entity("https://idp.renkei.test/metadata", t0); err != nil {
		t.Fatalf("ok/run-loaded: %v", err)
	}
	cancel()
	select {
	case err := <-done:
		wantErr(t, err, context.Canceled)
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

// TestSetRoleValidity: a role descriptor past its own validUntil is left
// out of the entity, and a role's cacheDuration shortens the refresh.
func TestSetRoleValidity(t *testing.T) {
	g := sampleAggregate(t)
	g.Entities[1].SPSSO[0].ValidUntil = t0.Add(time.Hour)
	g.Entities[0].IDPSSO[0].CacheDuration = 20 * time.Minute
	path := writeSigned(t, t.TempDir(), "agg.xml", g)
	s := newSet(t, Config{Sources: []Source{{Location: path, Trust: operatorTrust()}}})
	if err := s.Refresh(context.Background(), t0); err != nil {
		t.Fatal(err)
	}
	if !s.NextRefresh().Equal(t0.Add(20 * time.Minute)) {
		t.Fatalf("next %v, want the IdP role's cacheDuration", s.NextRefresh())
	}
	e, err := s.Entity("https://portal.renkei.test/metadata", t0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.SP(); err != nil {
		t.Fatalf("ok/role-valid: %v", err)
	}
	e, err = s.Entity("https://portal.renkei.test/metadata", t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.SP(); !isKind(err, KindNotFound) {
		t.Fatalf("fail/role-expired: %v", err)
	}
	if again, _ := s.Entity("https://portal.renkei.test/metadata", t0); len(again.SPSSO) != 1 {
		t.Fatal("Live changed the shared descriptor")
	}
}
