package trust_test

import (
	"context"
	"crypto/x509"
	"errors"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/card/trust"
)

// fixedOCSP answers every check with one status or error.
type fixedOCSP struct {
	st  trust.OCSPStatus
	err error
}

func (o fixedOCSP) CheckOCSP(context.Context, *x509.Certificate, *x509.Certificate, time.Time) (trust.OCSPStatus, error) {
	return o.st, o.err
}

// TestVerifyOCSP: OCSP revoked refuses a card the CRL lists as good; OCSP
// good accepts a card whose CRL is stale but never one a current CRL
// revokes; OCSP unknown or failed leaves the CRL to decide.
func TestVerifyOCSP(t *testing.T) {
	f := newFixture(t)
	down := fixedOCSP{err: errors.New("responder silent")}
	cases := []struct {
		name string
		ocsp fixedOCSP
		cert *x509.Certificate
		at   time.Time
		want error
	}{
		{"fail/ocsp-revoked-crl-good", fixedOCSP{st: trust.OCSPRevoked}, f.valid, f.now, trust.ErrRevoked},
		{"ok/ocsp-good-crl-good", fixedOCSP{st: trust.OCSPGood}, f.valid, f.now, nil},
		{"fail/ocsp-good-crl-revoked", fixedOCSP{st: trust.OCSPGood}, f.revoked, f.now, trust.ErrRevoked},
		{"ok/ocsp-good-crl-stale", fixedOCSP{st: trust.OCSPGood}, f.valid, f.now.AddDate(0, 0, 8), nil},
		{"fail/ocsp-down-crl-stale", down, f.valid, f.now.AddDate(0, 0, 8), trust.ErrNoCRL},
		{"ok/ocsp-down-crl-good", down, f.valid, f.now, nil},
		{"fail/ocsp-down-crl-revoked", down, f.revoked, f.now, trust.ErrRevoked},
		{"fail/ocsp-unknown-crl-revoked", fixedOCSP{st: trust.OCSPUnknown}, f.revoked, f.now, trust.ErrRevoked},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := f.verifier(t, c.at)
			v.OCSP = c.ocsp
			_, err := v.VerifyContext(context.Background(), c.cert)
			if (c.want == nil) != (err == nil) || (c.want != nil && !errors.Is(err, c.want)) {
				t.Fatalf("Verify = %v, want %v", err, c.want)
			}
		})
	}
}
