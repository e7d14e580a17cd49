package idp

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/internal/keyfile"
	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/ra"
	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/samlp"
)

// startCardLogin serves the card login on 127.0.0.1 with the listener's
// tls.Config; a success answers "principal class card".
func startCardLogin(t *testing.T, f *fixture, p *IdP) *httptest.Server {
	t.Helper()
	h := CardLogin{IdP: p, OnSuccess: func(w http.ResponseWriter, _ *http.Request, a Authn) {
		fmt.Fprintf(w, "%s %s %s", a.PrincipalID, a.ClassRef, a.CardNumber)
	}}
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = CardLoginTLSConfig(f.server)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// login makes one request as a browser presenting holder's certificate
// (none when holder is nil) and returns the status and body.
func login(t *testing.T, f *fixture, srv *httptest.Server, holder *cardHolder) (int, string) {
	t.Helper()
	roots := x509.NewCertPool()
	roots.AddCert(f.ra.ServiceCA())
	cfg := &tls.Config{RootCAs: roots, ServerName: "localhost", MinVersion: tls.VersionTLS12}
	if holder != nil {
		cfg.Certificates = []tls.Certificate{holder.tls()}
	}
	tr := &http.Transport{TLSClientConfig: cfg}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 30 * time.Second}).Get(srv.URL + "/login")
	must(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	must(t, err)
	return resp.StatusCode, string(b)
}

// TestCardLoginTLS runs real TLS handshakes on loopback against the
// card-login listener: a card from the RA, the soft PKCS#12, and every
// refusal, each rendered as a page that says what to do.
func TestCardLoginTLS(t *testing.T) {
	f := newFixture(t)
	srv := startCardLogin(t, f, f.idp)
	foreign := pki.MustGet().ForeignRSA
	cases := []struct {
		name   string
		holder *cardHolder
		status int
		body   string
	}{
		{"ok/card-smartcardpki", &f.Alice, 200, "p-alice " + saml.ACSmartcardPKI + " HIC-0001"},
		{"ok/soft-x509", &f.Soft, 200, "p-alice " + saml.ACX509 + " SOFT-0001"},
		{"fail/no-certificate", nil, 403, "Insert your card"},
		{"fail/revoked-on-crl", &f.Revoked, 403, "contact the card issuer"},
		{"fail/revoked-in-registry", &f.RegRevoked, 403, "contact the card issuer"},
		{"fail/expired", &f.Expired, 403, "Your card has expired"},
		{"fail/foreign-issuer", &cardHolder{Cert: foreign.Cert, Key: foreign.Key}, 403, "not issued by an accepted card issuer"},
		{"fail/unregistered-card", &f.Unregistered, 403, "not registered"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, body := login(t, f, srv, c.holder)
			if status != c.status || !strings.Contains(body, c.body) {
				t.Fatalf("got %d %q, want %d containing %q", status, body, c.status, c.body)
			}
			if status != 200 && !strings.Contains(body, "<h1>Card login failed</h1>") {
				t.Fatalf("refusal is not the login page: %q", body)
			}
		})
	}
}

// TestCardLoginPageHidesCause: the page shows the table's public text and
// advice, never the private detail (serial numbers, DNs).
func TestCardLoginPageHidesCause(t *testing.T) {
	f := newFixture(t)
	srv := startCardLogin(t, f, f.idp)
	_, body := login(t, f, srv, &f.Unregistered)
	if strings.Contains(body, f.Unregistered.Number) || strings.Contains(body, f.Unregistered.Cert.SerialNumber.String()) {
		t.Fatalf("page leaks the private cause: %q", body)
	}
}

// TestAuthenticateCertificate checks the engine function without TLS:
// the typed error of each refusal and the Authn of each success.
func TestAuthenticateCertificate(t *testing.T) {
	f := newFixture(t)
	noCRL := f.withConfig(func(c *Config) { c.CardTrust.CRLs = nil })
	noSoft := f.withConfig(func(c *Config) { c.SoftCAs = nil })
	cases := []struct {
		name  string
		p     *IdP
		certs []*x509.Certificate
		now   time.Time
		err   error
		class string
	}{
		{"ok/card", f.idp, []*x509.Certificate{f.Alice.Cert}, f.now, nil, saml.ACSmartcardPKI},
		{"ok/soft", f.idp, []*x509.Certificate{f.Soft.Cert}, f.now, nil, saml.ACX509},
		{"fail/no-certificate", f.idp, nil, f.now, ErrNoCertificate, ""},
		{"fail/soft-without-soft-ca", noSoft, []*x509.Certificate{f.Soft.Cert}, f.now, ErrForeignIssuer, ""},
		{"fail/no-crl", noCRL, []*x509.Certificate{f.Alice.Cert}, f.now, ErrRevocationUnavailable, ""},
		{"fail/crl-out-of-date", f.idp, []*x509.Certificate{f.Alice.Cert}, f.now.AddDate(0, 0, 8), ErrRevocationUnavailable, ""},
		{"fail/not-yet-valid", f.idp, []*x509.Certificate{f.Alice.Cert}, f.now.Add(-time.Hour), ErrCertNotYetValid, ""},
		{"fail/expired", f.idp, []*x509.Certificate{f.Expired.Cert}, f.now, ErrCertExpired, ""},
		{"fail/revoked", f.idp, []*x509.Certificate{f.Revoked.Cert}, f.now, ErrCertRevoked, ""},
		{"fail/revoked-in-registry", f.idp, []*x509.Certificate{f.RegRevoked.Cert}, f.now, ErrCertRevoked, ""},
		{"fail/unregistered", f.idp, []*x509.Certificate{f.Unregistered.Cert}, f.now, ErrUnknownCard, ""},
		{"fail/server-cert-not-client", f.idp, []*x509.Certificate{f.server.Leaf}, f.now, ErrUnknownCard, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, err := c.p.AuthenticateCertificate(ctx, c.certs, c.now)
			if c.err != nil {
				wantErr(t, err, c.err)
				if st := StatusFor(err); st.Second != samlp.StatusAuthnFailed {
					t.Fatalf("status %+v, want AuthnFailed", st)
				}
				return
			}
			must(t, err)
			if a.ClassRef != c.class || a.PrincipalID != "p-alice" || !a.Instant.Equal(c.now) || a.Certificate != c.certs[0] {
				t.Fatalf("authn = %+v", a)
			}
		})
	}
}

// TestAuthenticateReissuedCard: after the registry reissues a card, the
// new certificate logs the same principal in, and the old one (still
// certified, not yet on the CRL) is refused by the registry.
func TestAuthenticateReissuedCard(t *testing.T) {
	f := newFixture(t)
	next := f.card("HIC-0101", "", false)
	_, err := f.db.ReissueCard(ctx, f.Alice.Number, storeCard(next, f.now))
	must(t, err)
	a, err := f.idp.AuthenticateCertificate(ctx, []*x509.Certificate{next.Cert}, f.now)
	must(t, err)
	if a.PrincipalID != "p-alice" || a.CardNumber != "HIC-0101" {
		t.Fatalf("reissued card authn = %+v", a)
	}
	_, err = f.idp.AuthenticateCertificate(ctx, []*x509.Certificate{f.Alice.Cert}, f.now)
	wantErr(t, err, ErrCertRevoked)
}

// TestAuthenticateCardNumberMismatch: a card certificate registered under
// another card number than its subject carries is refused.
func TestAuthenticateCardNumberMismatch(t *testing.T) {
	f := newFixture(t)
	c := f.card("HIC-0200", "", false)
	c.Number = "HIC-OTHER"
	f.register(c, "p-bob")
	_, err := f.idp.AuthenticateCertificate(ctx, []*x509.Certificate{c.Cert}, f.now)
	wantErr(t, err, ErrUnknownCard)
}

// TestCardLoginTLSHints: the listener names the card-issuer and soft CAs
// in the handshake, so the client sees which certificates can log in.
func TestCardLoginTLSHints(t *testing.T) {
	f := newFixture(t)
	srv := httptest.NewUnstartedServer(CardLogin{IdP: f.idp, OnSuccess: func(w http.ResponseWriter, _ *http.Request, a Authn) {
		fmt.Fprint(w, a.PrincipalID)
	}})
	srv.TLS = CardLoginTLSConfig(f.server, f.ra.CardCA(), f.ra.ServiceCA())
	srv.StartTLS()
	t.Cleanup(srv.Close)
	roots := x509.NewCertPool()
	roots.AddCert(f.ra.ServiceCA())
	var seen [][]byte
	cfg := &tls.Config{RootCAs: roots, ServerName: "localhost", MinVersion: tls.VersionTLS12,
		GetClientCertificate: func(cri *tls.CertificateRequestInfo) (*tls.Certificate, error) {
			seen = cri.AcceptableCAs
			c := f.Alice.tls()
			return &c, nil
		}}
	tr := &http.Transport{TLSClientConfig: cfg}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 30 * time.Second}).Get(srv.URL)
	must(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "p-alice" {
		t.Fatalf("login with hints: %d %q", resp.StatusCode, body)
	}
	want := map[string]bool{string(f.ra.CardCA().RawSubject): true, string(f.ra.ServiceCA().RawSubject): true}
	if len(seen) != 2 || !want[string(seen[0])] || !want[string(seen[1])] {
		t.Fatalf("acceptable CAs %q", seen)
	}
}

// TestAuthenticateAsksForCurrentCRLs: with RevocationLists set, every login
// is judged on the CRL it returns then, so a CRL published after start
// revokes at once; none at all is "revocation unavailable", never a pass.
func TestAuthenticateAsksForCurrentCRLs(t *testing.T) {
	f := newFixture(t)
	current := []*x509.RevocationList{f.crl}
	p := f.withConfig(func(c *Config) {
		c.CardTrust.CRLs = nil
		c.RevocationLists = func() (card, soft []*x509.RevocationList) { return current, nil }
	})
	_, err := p.AuthenticateCertificate(ctx, []*x509.Certificate{f.Alice.Cert}, f.now)
	must(t, err)
	must(t, f.ra.Revoke(f.Alice.Number, 1))
	next, err := keyfile.ReadCRL(filepath.Join(f.dir, "ra", ra.CardCRL))
	must(t, err)
	current = []*x509.RevocationList{next}
	_, err = p.AuthenticateCertificate(ctx, []*x509.Certificate{f.Alice.Cert}, f.now)
	wantErr(t, err, ErrCertRevoked)
	current = nil
	_, err = p.AuthenticateCertificate(ctx, []*x509.Certificate{f.Alice.Cert}, f.now)
	wantErr(t, err, ErrRevocationUnavailable)
}
