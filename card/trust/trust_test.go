package trust_test

import (
	"crypto/x509"
	"errors"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/card/trust"
	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/ra"
)

// fixture is an RA with three cards: valid, revoked, and reissued.
type fixture struct {
	auth                  *ra.Authority
	valid, revoked, reiss *x509.Certificate
	old                   *x509.Certificate
	now                   time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Second) // the shared test PKI issues at the real time
	a, err := ra.Init(ra.Config{Dir: t.TempDir(), Now: func() time.Time { return now }, CardValidity: 365 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{auth: a, now: now}
	issue := func(n string) *x509.Certificate {
		k, _ := ra.NewKey("p256", nil)
		c, err := a.IssueCard(n, k.Public())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	f.valid, f.revoked, f.old = issue("1001"), issue("1002"), issue("1003")
	if err := a.Revoke("1002", 1); err != nil {
		t.Fatal(err)
	}
	k, _ := ra.NewKey("rsa2048", nil)
	if f.reiss, err = a.Reissue("1003", k.Public()); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) verifier(t *testing.T, at time.Time) *trust.Verifier {
	crl, err := f.auth.WriteCRL()
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(f.auth.CardCA())
	return &trust.Verifier{Roots: roots, CRLs: []*x509.RevocationList{crl}, Now: func() time.Time { return at }}
}

func TestVerify(t *testing.T) {
	f := newFixture(t)
	foreign := pki.MustGet().ForeignRSA.Cert
	soft, _, err := f.auth.IssueServer("portal", []string{"localhost"})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		cert *x509.Certificate
		at   time.Time
		want error
	}{
		{"ok/valid-card", f.valid, f.now, nil},
		{"ok/reissued-card", f.reiss, f.now, nil},
		{"fail/revoked", f.revoked, f.now, trust.ErrRevoked},
		{"fail/superseded-by-reissue", f.old, f.now, trust.ErrRevoked},
		{"fail/expired", f.valid, f.now.AddDate(1, 0, 1), trust.ErrExpired},
		{"fail/not-yet-valid", f.valid, f.now.Add(-time.Hour), trust.ErrNotYetValid},
		{"fail/foreign-issuer", foreign, f.now, trust.ErrForeignIssuer},
		{"fail/service-ca-is-not-card-issuer", soft, f.now, trust.ErrForeignIssuer},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := f.verifier(t, f.now)
			v.Now = func() time.Time { return c.at }
			_, err := v.Verify(c.cert)
			if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
				t.Fatalf("Verify = %v, want %v", err, c.want)
			}
		})
	}
}

func TestCRLMustBeCurrentAndPresent(t *testing.T) {
	f := newFixture(t)
	v := f.verifier(t, f.now.AddDate(0, 0, 8))
	if _, err := v.Verify(f.valid); !errors.Is(err, trust.ErrNoCRL) {
		t.Fatalf("fail/stale-crl: err = %v", err)
	}
	v = f.verifier(t, f.now)
	v.CRLs = nil
	if _, err := v.Verify(f.valid); !errors.Is(err, trust.ErrNoCRL) {
		t.Fatalf("fail/missing-crl: err = %v", err)
	}
	if trust.CardNumber(f.valid) != "1001" {
		t.Fatalf("ok/card-number: %q", trust.CardNumber(f.valid))
	}
}
