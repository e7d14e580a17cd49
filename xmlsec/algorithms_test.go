package xmlsec

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"testing"

	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
)

func TestPolicy(t *testing.T) {
	strict, sha1 := Policy{}, Policy{AllowSHA1: true}
	cases := []struct {
		name string
		pol  Policy
		uri  string
		sig  bool
		want error
	}{
		{"ok/rsa-sha256", strict, RSASHA256, true, nil},
		{"ok/ecdsa-sha384", strict, ECDSASHA384, true, nil},
		{"ok/sha512-digest", strict, DigestSHA512, false, nil},
		{"fail/rsa-sha1-strict", strict, RSASHA1, true, ErrAlgorithm},
		{"fail/ecdsa-sha1-strict", strict, ECDSASHA1, true, ErrAlgorithm},
		{"fail/sha1-digest-strict", strict, DigestSHA1, false, ErrAlgorithm},
		{"ok/rsa-sha1-allowed", sha1, RSASHA1, true, nil},
		{"ok/sha1-digest-allowed", sha1, DigestSHA1, false, nil},
		{"fail/hmac", sha1, "http://www.w3.org/2000/09/xmldsig#hmac-sha1", true, ErrAlgorithm},
		{"fail/md5-digest", sha1, "http://www.w3.org/2001/04/xmldsig-more#md5", false, ErrAlgorithm},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var err error
			if c.sig {
				_, err = c.pol.SignatureMethod(c.uri)
			} else {
				_, err = c.pol.DigestMethod(c.uri)
			}
			if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}

func TestSignVerifyBytes(t *testing.T) {
	p := pki.MustGet()
	data := []byte("<ds:SignedInfo>...</ds:SignedInfo>")
	for _, c := range []struct {
		name string
		key  crypto.Signer
		uri  string
		size int
	}{
		{"ok/rsa-sha256", p.RSA.Key, RSASHA256, 256},
		{"ok/rsa-sha512", p.RSA.Key, RSASHA512, 256},
		{"ok/p256-sha256", p.P256.Key, ECDSASHA256, 64},
		{"ok/p384-sha384", p.P384.Key, ECDSASHA384, 96},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, _ := Policy{}.SignatureMethod(c.uri)
			sig, err := SignBytes(nil, c.key, m, data)
			if err != nil {
				t.Fatal(err)
			}
			if len(sig) != c.size {
				t.Fatalf("SignatureValue of %d octets, want %d", len(sig), c.size)
			}
			if err := (Policy{}).VerifyBytes(c.key.Public(), m, data, sig); err != nil {
				t.Fatal(err)
			}
			bad := append([]byte(nil), data...)
			bad[0] ^= 1
			if err := (Policy{}).VerifyBytes(c.key.Public(), m, bad, sig); !errors.Is(err, ErrSignature) {
				t.Fatalf("tampered data: got %v, want ErrSignature", err)
			}
		})
	}
}

func TestVerifyBytesKeyChecks(t *testing.T) {
	p := pki.MustGet()
	rsaM, _ := Policy{}.SignatureMethod(RSASHA256)
	ecM, _ := Policy{}.SignatureMethod(ECDSASHA256)
	sig, _ := SignBytes(nil, p.P256.Key, ecM, []byte("x"))
	t.Run("fail/family-mismatch", func(t *testing.T) {
		if err := (Policy{}).VerifyBytes(p.RSA.Key.Public(), ecM, []byte("x"), sig); !errors.Is(err, ErrAlgorithm) {
			t.Fatalf("got %v, want ErrAlgorithm", err)
		}
	})
	t.Run("fail/rsa-too-small", func(t *testing.T) {
		if err := (Policy{MinRSABits: 4096}).VerifyBytes(p.RSA.Key.Public(), rsaM, []byte("x"), sig); !errors.Is(err, ErrAlgorithm) {
			t.Fatalf("got %v, want ErrAlgorithm", err)
		}
	})
	t.Run("fail/ecdsa-der-not-raw", func(t *testing.T) {
		der, _ := ECDSARawToDER(sig)
		if err := (Policy{}).VerifyBytes(p.P256.Key.Public(), ecM, []byte("x"), der); !errors.Is(err, ErrSignature) {
			t.Fatalf("got %v, want ErrSignature", err)
		}
	})
}

// TestECDSAConversion round-trips r||s and ASN.1 both ways, including
// integers with leading zero octets, and checks against crypto/ecdsa.
func TestECDSAConversion(t *testing.T) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	sum := make([]byte, 32)
	for i := 0; i < 64; i++ {
		sum[0] = byte(i)
		der, err := ecdsa.SignASN1(rand.Reader, k, sum)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := ECDSADERToRaw(der, 32)
		if err != nil || len(raw) != 64 {
			t.Fatalf("raw %d octets, %v", len(raw), err)
		}
		back, err := ECDSARawToDER(raw)
		if err != nil || !bytes.Equal(back, der) {
			t.Fatalf("round trip changed the signature: %v", err)
		}
		if !ecdsa.VerifyASN1(&k.PublicKey, sum, back) {
			t.Fatal("converted signature does not verify")
		}
	}
	if _, err := ECDSADERToRaw([]byte{0x30, 0x00}, 32); !errors.Is(err, ErrSignature) {
		t.Fatalf("empty sequence: got %v", err)
	}
	if _, err := ECDSARawToDER([]byte{1, 2, 3}); !errors.Is(err, ErrSignature) {
		t.Fatalf("odd length: got %v", err)
	}
}
