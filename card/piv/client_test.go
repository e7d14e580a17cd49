package piv_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"path/filepath"
	"testing"

	"github.com/renkei-idwsf/renkei/card/piv"
	"github.com/renkei-idwsf/renkei/card/virtual"
	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
)

// newCard makes an in-process virtual card holding id's key.
func newCard(t testing.TB, id *pki.Identity) *virtual.Card {
	t.Helper()
	path := filepath.Join(t.TempDir(), "card.json")
	if err := virtual.Create(path, "0123456789", id.Key, id.Cert, nil); err != nil {
		t.Fatal(err)
	}
	c, err := virtual.Open(path, virtual.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func selected(t *testing.T, c *virtual.Card) *piv.Client {
	t.Helper()
	cl := piv.NewClient(c)
	if _, err := cl.Select(); err != nil {
		t.Fatal(err)
	}
	return cl
}

func TestCertificateAndCHUID(t *testing.T) {
	id := pki.MustGet().RSA
	cl := selected(t, newCard(t, id))
	cert, err := cl.Certificate()
	if err != nil {
		t.Fatal(err)
	}
	if !cert.Equal(id.Cert) {
		t.Fatal("ok/read-cert: the card returned a different certificate")
	}
	chuid, err := cl.GetData(piv.TagCHUID)
	if err != nil {
		t.Fatal(err)
	}
	fascn, _ := piv.Find(chuid, 0x30)
	guid, _ := piv.Find(chuid, 0x34)
	if len(fascn) != 25 || len(guid) != 16 || fascn[0] != 0xD4 || fascn[1] != 0xE7 || fascn[2] != 0x39 {
		t.Fatalf("ok/chuid: FASC-N %X (want ;9999 prefix D4E739), GUID %X", fascn, guid)
	}
}

func TestStatusWords(t *testing.T) {
	c := newCard(t, pki.MustGet().P256)
	cases := []struct {
		name string
		apdu []byte
		sw   uint16
	}{
		{"fail/unknown-object-6A82", []byte{0x00, 0xCB, 0x3F, 0xFF, 0x05, 0x5C, 0x03, 0x5F, 0xC1, 0x0A, 0x00}, 0x6A82},
		{"fail/unknown-instruction-6D00", []byte{0x00, 0xB0, 0x00, 0x00, 0x00}, 0x6D00},
		{"fail/bad-p1p2-6A86", []byte{0x00, 0xCB, 0x3F, 0x00, 0x05, 0x5C, 0x03, 0x5F, 0xC1, 0x05, 0x00}, 0x6A86},
		{"fail/other-application-6A82", []byte{0x00, 0xA4, 0x04, 0x00, 0x09, 0xA0, 0x00, 0x00, 0x03, 0x97, 0x42, 0x54, 0x46, 0x59, 0x00}, 0x6A82},
		{"fail/sign-before-pin-6982", authAPDU(piv.AlgECCP256, 32), 0x6982},
		{"fail/wrong-algorithm-6A86", authAPDU(piv.AlgRSA2048, 32), 0x6A86},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := piv.ParseResponse(c.Process(tc.apdu))
			if err != nil || r.SW != tc.sw {
				t.Fatalf("SW = %04X (%v), want %04X", r.SW, err, tc.sw)
			}
		})
	}
}

func authAPDU(alg byte, n int) []byte {
	body := piv.AppendTLV(piv.AppendTLV(nil, 0x82, nil), 0x81, make([]byte, n))
	return piv.Command{INS: 0x87, P1: alg, P2: 0x9A, Data: piv.AppendTLV(nil, 0x7C, body), HasLe: true}.Bytes()
}

func TestPINRetryCounter(t *testing.T) {
	c := newCard(t, pki.MustGet().P256)
	cl := selected(t, c)
	var wrong *piv.WrongPINError
	if err := cl.VerifyPIN("654321"); !errors.As(err, &wrong) || wrong.TriesLeft != 2 {
		t.Fatalf("fail/wrong-pin: err = %v, want 2 tries left", err)
	}
	if n, err := cl.TriesLeft(); err != nil || n != 2 {
		t.Fatalf("TriesLeft = %d, %v; want 2", n, err)
	}
	if err := cl.VerifyPIN(virtual.DefaultPIN); err != nil {
		t.Fatalf("ok/right-pin: %v", err)
	}
	if n, _ := cl.TriesLeft(); n != -1 || c.TriesLeft() != 3 {
		t.Fatalf("ok/counter-reset: TriesLeft = %d, card counter %d", n, c.TriesLeft())
	}
	for i := 0; i < 3; i++ {
		_ = cl.VerifyPIN("000000")
	}
	if err := cl.VerifyPIN(virtual.DefaultPIN); !errors.Is(err, piv.ErrPINBlocked) {
		t.Fatalf("fail/pin-blocked: err = %v", err)
	}
}

func TestSignerOnCard(t *testing.T) {
	msg := sha256.Sum256([]byte("login challenge"))
	for _, id := range []*pki.Identity{pki.MustGet().RSA, pki.MustGet().P256} {
		cl := selected(t, newCard(t, id))
		if err := cl.VerifyPIN(virtual.DefaultPIN); err != nil {
			t.Fatal(err)
		}
		s, err := piv.NewSigner(cl)
		if err != nil {
			t.Fatal(err)
		}
		opts := []crypto.SignerOpts{crypto.SHA256}
		if _, ok := s.Public().(*rsa.PublicKey); ok {
			opts = append(opts, &rsa.PSSOptions{Hash: crypto.SHA256, SaltLength: rsa.PSSSaltLengthEqualsHash})
		}
		for _, o := range opts {
			sig, err := s.Sign(rand.Reader, msg[:], o)
			if err != nil {
				t.Fatalf("ok/sign %T: %v", o, err)
			}
			if err := verify(id.Cert.PublicKey, msg[:], sig, o); err != nil {
				t.Fatalf("ok/sign %T: signature does not verify: %v", o, err)
			}
		}
	}
}

func verify(pub crypto.PublicKey, digest, sig []byte, o crypto.SignerOpts) error {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if p, ok := o.(*rsa.PSSOptions); ok {
			return rsa.VerifyPSS(k, p.Hash, digest, sig, p)
		}
		return rsa.VerifyPKCS1v15(k, o.HashFunc(), digest, sig)
	case *ecdsa.PublicKey:
		if !ecdsa.VerifyASN1(k, digest, sig) {
			return errors.New("ECDSA verification failed")
		}
		return nil
	}
	return errors.New("unknown key")
}
