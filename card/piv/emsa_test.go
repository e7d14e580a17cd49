package piv

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"math/big"
	"testing"

	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
)

// rawSign applies RSASP1 (RFC 8017 §5.2.1) in software, as the card does.
func rawSign(k *rsa.PrivateKey, em []byte) []byte {
	s := new(big.Int).Exp(new(big.Int).SetBytes(em), k.D, k.N)
	return s.FillBytes(make([]byte, k.Size()))
}

func TestEncodePKCS1v15VerifiesWithStdlib(t *testing.T) {
	key := pki.MustGet().RSA.Key.(*rsa.PrivateKey)
	for _, h := range []crypto.Hash{crypto.SHA1, crypto.SHA256, crypto.SHA384, crypto.SHA512} {
		t.Run("ok/"+h.String(), func(t *testing.T) {
			d := h.New()
			d.Write([]byte("challenge"))
			digest := d.Sum(nil)
			em, err := EncodePKCS1v15(h, digest, key.Size())
			if err != nil {
				t.Fatal(err)
			}
			if err := rsa.VerifyPKCS1v15(&key.PublicKey, h, digest, rawSign(key, em)); err != nil {
				t.Fatalf("rsa.VerifyPKCS1v15 rejects our encoding: %v", err)
			}
			want, _ := rsa.SignPKCS1v15(nil, key, h, digest)
			if string(rawSign(key, em)) != string(want) {
				t.Fatal("PKCS#1 v1.5 is deterministic: our signature differs from crypto/rsa's")
			}
		})
	}
}

func TestEncodePSSVerifiesWithStdlib(t *testing.T) {
	key := pki.MustGet().RSA.Key.(*rsa.PrivateKey)
	cases := []struct {
		name string
		h    crypto.Hash
		salt int
	}{
		{"ok/sha256-salt-equals-hash", crypto.SHA256, rsa.PSSSaltLengthEqualsHash},
		{"ok/sha384-salt-equals-hash", crypto.SHA384, rsa.PSSSaltLengthEqualsHash},
		{"ok/sha512-salt-auto", crypto.SHA512, rsa.PSSSaltLengthAuto},
		{"ok/sha256-salt-20", crypto.SHA256, 20},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := c.h.New()
			d.Write([]byte("challenge"))
			digest := d.Sum(nil)
			opts := &rsa.PSSOptions{Hash: c.h, SaltLength: c.salt}
			em, err := EncodePSS(rand.Reader, digest, key.N.BitLen(), opts)
			if err != nil {
				t.Fatal(err)
			}
			if err := rsa.VerifyPSS(&key.PublicKey, c.h, digest, rawSign(key, em), opts); err != nil {
				t.Fatalf("rsa.VerifyPSS rejects our encoding: %v", err)
			}
		})
	}
}

func TestEncodingErrors(t *testing.T) {
	sum := sha256.Sum256([]byte("x"))
	if _, err := EncodePKCS1v15(crypto.SHA256, sum[:20], 256); !errors.Is(err, ErrEncoding) {
		t.Errorf("fail/short-digest: err = %v", err)
	}
	if _, err := EncodePKCS1v15(crypto.SHA256, sum[:], 40); !errors.Is(err, ErrEncoding) {
		t.Errorf("fail/key-too-short: err = %v", err)
	}
	big := sha512.Sum512([]byte("x"))
	opts := &rsa.PSSOptions{Hash: crypto.SHA512, SaltLength: 64}
	if _, err := EncodePSS(rand.Reader, big[:], 512, opts); !errors.Is(err, ErrEncoding) {
		t.Errorf("fail/pss-key-too-short: err = %v", err)
	}
	if _, err := EncodePSS(rand.Reader, sum[:], 2048, &rsa.PSSOptions{Hash: crypto.SHA512}); !errors.Is(err, ErrEncoding) {
		t.Errorf("fail/pss-digest-mismatch: err = %v", err)
	}
}
