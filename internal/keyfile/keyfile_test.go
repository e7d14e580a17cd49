package keyfile

import (
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func pemOf(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// fixture is a P-256 key with its self-signed certificate and a CRL it
// signed, as PEM.
type fixture struct {
	key  *ecdsa.PrivateKey
	cert []byte
	crl  []byte
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "keyfile test"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	must(t, err)
	ca, err := x509.ParseCertificate(der)
	must(t, err)
	crl, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(7),
		ThisUpdate: now, NextUpdate: now.Add(time.Hour)}, ca, key)
	must(t, err)
	return fixture{key: key, cert: pemOf(TypeCertificate, der), crl: pemOf(TypeCRL, crl)}
}

// write puts data into a new file of the test's directory.
func write(t *testing.T, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "f.pem")
	must(t, os.WriteFile(p, data, 0o600))
	return p
}

func TestReadKey(t *testing.T) {
	f := newFixture(t)
	pkcs8, err := x509.MarshalPKCS8PrivateKey(f.key)
	must(t, err)
	sec1, err := x509.MarshalECPrivateKey(f.key)
	must(t, err)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	must(t, err)
	x25519, err := ecdh.X25519().GenerateKey(rand.Reader)
	must(t, err)
	xder, err := x509.MarshalPKCS8PrivateKey(x25519)
	must(t, err)
	legacy := pem.EncodeToMemory(&pem.Block{Type: TypePKCS1, Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-256-CBC,00112233445566778899AABBCCDDEEFF"}, Bytes: []byte("ciphertext")})
	for _, c := range []struct {
		name string
		data []byte
		want crypto.PublicKey // nil: an error is wanted, saying fail
		fail string
	}{
		{"ok/pkcs8", pemOf(TypePKCS8, pkcs8), f.key.Public(), ""},
		{"ok/sec1", pemOf(TypeSEC1, sec1), f.key.Public(), ""},
		{"ok/pkcs1-rsa", pemOf(TypePKCS1, x509.MarshalPKCS1PrivateKey(rsaKey)), rsaKey.Public(), ""},
		{"fail/wrong-pem-type", f.cert, nil, `PEM type "CERTIFICATE" is not a private key`},
		{"fail/encrypted-pkcs8", pemOf(TypeEncryptedKey, []byte("ciphertext")), nil, "encrypted"},
		{"fail/encrypted-legacy", legacy, nil, "encrypted"},
		{"fail/cannot-sign", pemOf(TypePKCS8, xder), nil, "cannot sign"},
		{"fail/garbage", []byte("not a key at all\n"), nil, "no PEM block"},
		{"fail/corrupt-der", pemOf(TypePKCS8, []byte{0x30, 0x03, 1, 2, 3}), nil, "f.pem: "},
	} {
		t.Run(c.name, func(t *testing.T) {
			k, err := ReadKey(write(t, c.data))
			if c.want == nil {
				if err == nil || !strings.Contains(err.Error(), c.fail) {
					t.Fatalf("ReadKey = %v, want an error saying %q", err, c.fail)
				}
				return
			}
			must(t, err)
			if !k.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(c.want) {
				t.Fatal("another key was read")
			}
		})
	}
	if _, err := ReadKey(write(t, legacy)); !errors.Is(err, ErrEncrypted) {
		t.Errorf("fail/encrypted-legacy: %v is not ErrEncrypted", err)
	}
}

func TestReadCerts(t *testing.T) {
	f, g := newFixture(t), newFixture(t)
	pkcs8, err := x509.MarshalPKCS8PrivateKey(f.key)
	must(t, err)
	chain := append(append([]byte("Bag Attributes: ignored\n"), f.cert...), g.cert...)
	for _, c := range []struct {
		name  string
		data  []byte
		count int // certificates wanted; 0: an error saying fail
		fail  string
	}{
		{"ok/one", f.cert, 1, ""},
		{"ok/chain-leaf-first", chain, 2, ""},
		{"fail/key-in-cert-file", append(f.cert, pemOf(TypePKCS8, pkcs8)...), 0, `PEM type "PRIVATE KEY" is not a certificate`},
		{"fail/crl", f.crl, 0, "is not a certificate"},
		{"fail/garbage", []byte("-----BEGIN NOTHING"), 0, "no PEM certificate"},
		{"fail/corrupt-der", pemOf(TypeCertificate, []byte{0x30, 0x00}), 0, "certificate 1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			certs, err := ReadCerts(write(t, c.data))
			if c.count == 0 {
				if err == nil || !strings.Contains(err.Error(), c.fail) {
					t.Fatalf("ReadCerts = %v, want an error saying %q", err, c.fail)
				}
				return
			}
			must(t, err)
			if len(certs) != c.count || certs[0].Subject.CommonName != "keyfile test" {
				t.Fatalf("%d certificates", len(certs))
			}
		})
	}
}

func TestReadCert(t *testing.T) {
	f, g := newFixture(t), newFixture(t)
	c, err := ReadCert(write(t, f.cert))
	must(t, err)
	if !c.PublicKey.(*ecdsa.PublicKey).Equal(f.key.Public()) {
		t.Error("ok/one: another certificate was read")
	}
	if _, err := ReadCert(write(t, append(f.cert, g.cert...))); err == nil || !strings.Contains(err.Error(), "2 certificates, want one") {
		t.Errorf("fail/two-certificates: %v", err)
	}
}

func TestReadCRL(t *testing.T) {
	f := newFixture(t)
	crl, err := ReadCRL(write(t, f.crl))
	must(t, err)
	if crl.Number.Int64() != 7 {
		t.Errorf("ok/crl: number %v", crl.Number)
	}
	for _, c := range []struct{ name, data, fail string }{
		{"fail/wrong-pem-type", string(f.cert), `PEM type "CERTIFICATE" is not a CRL`},
		{"fail/garbage", "not a CRL", "no PEM block"},
		{"fail/corrupt-der", string(pemOf(TypeCRL, []byte{0x30, 0x00})), "f.pem: x509"},
	} {
		if _, err := ReadCRL(write(t, []byte(c.data))); err == nil || !strings.Contains(err.Error(), c.fail) {
			t.Errorf("%s: ReadCRL = %v, want an error saying %q", c.name, err, c.fail)
		}
	}
}

// TestMissingFile: every reader reports a missing file as os.ErrNotExist,
// naming it.
func TestMissingFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "absent.pem")
	for name, read := range map[string]func(string) error{
		"ReadKey":   func(p string) error { _, err := ReadKey(p); return err },
		"ReadCert":  func(p string) error { _, err := ReadCert(p); return err },
		"ReadCerts": func(p string) error { _, err := ReadCerts(p); return err },
		"ReadCRL":   func(p string) error { _, err := ReadCRL(p); return err },
	} {
		if err := read(p); !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "absent.pem") {
			t.Errorf("fail/missing-file: %s = %v", name, err)
		}
	}
}
