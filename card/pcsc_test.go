//go:build cgo

package card_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/card"
	"github.com/renkei-idwsf/renkei/card/piv"
	"github.com/renkei-idwsf/renkei/card/trust"
	"github.com/renkei-idwsf/renkei/card/virtual"
	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/ra"
)

func TestReadCertVerifyPINAndSignRSA(t *testing.T) {
	id := pki.MustGet().RSA
	r := insert(t, 0, newCardFile(t, id), virtual.Options{})
	cert, err := r.client.Certificate()
	if err != nil || !cert.Equal(id.Cert) {
		t.Fatalf("ok/read-cert: %v (same cert: %v)", err, err == nil && cert.Equal(id.Cert))
	}
	var wrong *piv.WrongPINError
	if err := r.client.VerifyPIN("999999"); !errors.As(err, &wrong) || wrong.TriesLeft != 2 {
		t.Fatalf("fail/wrong-pin: %v, want 2 tries left", err)
	}
	s := r.login(t)
	digest := sha256.Sum256([]byte("reception desk challenge"))
	sig, err := s.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil || rsa.VerifyPKCS1v15(id.Cert.PublicKey.(*rsa.PublicKey), crypto.SHA256, digest[:], sig) != nil {
		t.Fatalf("ok/rsa-pkcs1v15: %v", err)
	}
	pss := &rsa.PSSOptions{Hash: crypto.SHA256, SaltLength: rsa.PSSSaltLengthEqualsHash}
	sig, err = s.Sign(rand.Reader, digest[:], pss)
	if err != nil || rsa.VerifyPSS(id.Cert.PublicKey.(*rsa.PublicKey), crypto.SHA256, digest[:], sig, pss) != nil {
		t.Fatalf("ok/rsa-pss: %v", err)
	}
}

func TestSignECC(t *testing.T) {
	id := pki.MustGet().P256
	r := insert(t, 0, newCardFile(t, id), virtual.Options{})
	s := r.login(t)
	digest := sha256.Sum256([]byte("login"))
	sig, err := s.Sign(nil, digest[:], crypto.SHA256)
	if err != nil || !ecdsa.VerifyASN1(id.Cert.PublicKey.(*ecdsa.PublicKey), digest[:], sig) {
		t.Fatalf("ok/ecdsa-p256: %v", err)
	}
}

func TestReaderErrors(t *testing.T) {
	ctx, err := card.Establish()
	if err != nil {
		t.Fatal(err)
	}
	defer ctx.Release()
	if _, err := ctx.Connect("Renkei vpcd 99 00 00"); !errors.Is(err, card.ErrNoReader) {
		t.Errorf("fail/no-reader: err = %v", err)
	}
	if _, err := ctx.Connect(slot.Readers[1]); !errors.Is(err, card.ErrNoCard) {
		t.Errorf("fail/no-card: err = %v", err)
	}
}

func TestCardRemovedMidSignature(t *testing.T) {
	var r *rig
	armed := false
	opts := virtual.Options{BeforeCommand: func(c piv.Command) {
		if armed && c.INS == piv.InsGeneralAuth && c.CLA == 0 {
			r.ins.Pull()
		}
	}}
	r = insert(t, 0, newCardFile(t, pki.MustGet().RSA), opts)
	s := r.login(t)
	armed = true
	digest := sha256.Sum256([]byte("x"))
	if _, err := s.Sign(nil, digest[:], crypto.SHA256); !errors.Is(err, card.ErrCardRemoved) {
		t.Fatalf("fail/removed-mid-signature: err = %v, want ErrCardRemoved", err)
	}
}

func TestPINBlocked(t *testing.T) {
	path := newCardFile(t, pki.MustGet().P256)
	r := insert(t, 0, path, virtual.Options{})
	for want := 2; want >= 1; want-- {
		var wrong *piv.WrongPINError
		if err := r.client.VerifyPIN("111111"); !errors.As(err, &wrong) || wrong.TriesLeft != want {
			t.Fatalf("fail/wrong-pin: %v, want %d tries left", err, want)
		}
	}
	if err := r.client.VerifyPIN("111111"); !errors.Is(err, piv.ErrPINBlocked) {
		t.Fatalf("fail/third-wrong-pin-blocks: %v", err)
	}
	if err := r.client.VerifyPIN(virtual.DefaultPIN); !errors.Is(err, piv.ErrPINBlocked) {
		t.Fatalf("fail/right-pin-after-block: %v", err)
	}
	if f, err := virtual.LoadFile(path); err != nil || f.TriesLeft != 0 {
		t.Fatalf("ok/counter-persisted: file says %v tries left (%v)", f, err)
	}
}

// TestCardCertificateChecks reads certificates through PC/SC and checks
// them as the IdP will: expired, revoked and foreign ones are refused.
func TestCardCertificateChecks(t *testing.T) {
	past := time.Now().Add(-72 * time.Hour)
	a, err := ra.Init(ra.Config{Dir: t.TempDir(), Now: func() time.Time { return past }, CardValidity: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	expired := cardIdentity(t, a, "2001")
	a2, err := ra.Init(ra.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	good, revoked := cardIdentity(t, a2, "3001"), cardIdentity(t, a2, "3002")
	if err := a2.Revoke("3002", 1); err != nil {
		t.Fatal(err)
	}
	crl, _ := a2.WriteCRL()
	crlOld, _ := a.WriteCRL()
	roots := x509.NewCertPool()
	roots.AddCert(a.CardCA())
	roots.AddCert(a2.CardCA())
	v := &trust.Verifier{Roots: roots, CRLs: []*x509.RevocationList{crl, crlOld}}
	cases := []struct {
		name string
		id   *pki.Identity
		want error
	}{
		{"ok/issued-card", good, nil},
		{"fail/expired", expired, trust.ErrExpired},
		{"fail/revoked", revoked, trust.ErrRevoked},
		{"fail/foreign-issuer", pki.MustGet().ForeignRSA, trust.ErrForeignIssuer},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := insert(t, 1, newCardFile(t, c.id), virtual.Options{})
			cert, err := r.client.Certificate()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := v.Verify(cert); !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
				t.Fatalf("Verify = %v, want %v", err, c.want)
			}
		})
	}
}

func cardIdentity(t *testing.T, a *ra.Authority, number string) *pki.Identity {
	t.Helper()
	key, err := ra.NewKey("p256", nil)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := a.IssueCard(number, key.Public())
	if err != nil {
		t.Fatal(err)
	}
	return &pki.Identity{Name: number, Key: key, Cert: cert}
}
