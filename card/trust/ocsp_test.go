package trust_test

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/card/trust"
	"github.com/renkei-idwsf/renkei/ra"
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
// good accepts a card whose CRL is missing or stale but never one a CRL
// signed by the issuer revokes, current or stale, nor a card whose CRL's
// signature fails; OCSP unknown or failed leaves the CRL to decide.
func TestVerifyOCSP(t *testing.T) {
	f := newFixture(t)
	down := fixedOCSP{err: errors.New("responder silent")}
	good := fixedOCSP{st: trust.OCSPGood}
	stale := f.now.AddDate(0, 0, 8)
	none := []*x509.RevocationList{}
	forged := []*x509.RevocationList{f.forgedCRL(t)}
	cases := []struct {
		name string
		ocsp fixedOCSP
		cert *x509.Certificate
		at   time.Time
		want error
		crls []*x509.RevocationList // nil: the RA's
	}{
		{"fail/ocsp-revoked-crl-good", fixedOCSP{st: trust.OCSPRevoked}, f.valid, f.now, trust.ErrRevoked, nil},
		{"ok/ocsp-good-crl-good", fixedOCSP{st: trust.OCSPGood}, f.valid, f.now, nil, nil},
		{"fail/ocsp-good-crl-revoked", fixedOCSP{st: trust.OCSPGood}, f.revoked, f.now, trust.ErrRevoked, nil},
		{"ok/ocsp-good-crl-stale", fixedOCSP{st: trust.OCSPGood}, f.valid, f.now.AddDate(0, 0, 8), nil, nil},
		{"fail/ocsp-down-crl-stale", down, f.valid, f.now.AddDate(0, 0, 8), trust.ErrNoCRL, nil},
		{"ok/ocsp-down-crl-good", down, f.valid, f.now, nil, nil},
		{"fail/ocsp-down-crl-revoked", down, f.revoked, f.now, trust.ErrRevoked, nil},
		{"fail/ocsp-unknown-crl-revoked", fixedOCSP{st: trust.OCSPUnknown}, f.revoked, f.now, trust.ErrRevoked, nil},
		{"fail/ocsp-good-crl-stale-revoked", good, f.revoked, stale, trust.ErrRevoked, nil},
		{"fail/ocsp-good-crl-stale-superseded", good, f.old, stale, trust.ErrRevoked, nil},
		{"fail/ocsp-down-crl-stale-revoked", down, f.revoked, stale, trust.ErrRevoked, nil},
		{"ok/ocsp-good-crl-missing", good, f.valid, f.now, nil, none},
		{"fail/ocsp-down-crl-missing", down, f.valid, f.now, trust.ErrNoCRL, none},
		{"fail/ocsp-good-crl-bad-signature", good, f.valid, f.now, trust.ErrBadCRL, forged},
		{"fail/ocsp-good-crl-stale-bad-signature", good, f.valid, stale, trust.ErrBadCRL, forged},
		{"fail/ocsp-down-crl-bad-signature", down, f.valid, f.now, trust.ErrBadCRL, forged},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := f.verifier(t, c.at)
			v.OCSP = c.ocsp
			if c.crls != nil {
				v.CRLs = c.crls
			}
			_, err := v.VerifyContext(context.Background(), c.cert)
			if (c.want == nil) != (err == nil) || (c.want != nil && !errors.Is(err, c.want)) {
				t.Fatalf("Verify = %v, want %v", err, c.want)
			}
		})
	}
}

// forgedCRL is a CRL naming the card CA as its issuer, current at f.now and
// listing no card, but signed by another key.
func (f *fixture) forgedCRL(t *testing.T) *x509.RevocationList {
	t.Helper()
	key, _ := ra.NewKey("p256", nil)
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(99),
		ThisUpdate: f.now.Add(-time.Hour), NextUpdate: f.now.AddDate(0, 0, 7)}, f.auth.CardCA(), key)
	if err != nil {
		t.Fatal(err)
	}
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		t.Fatal(err)
	}
	if crl.CheckSignatureFrom(f.auth.CardCA()) == nil {
		t.Fatal("the forged CRL verifies")
	}
	return crl
}
