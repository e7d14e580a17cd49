// Package pki makes throwaway certificate authorities and leaf identities for
// tests: RSA-2048, P-256 and P-384 keys, with PEM files for external tools
// such as xmlsec1 and openssl. Nothing here is for production use.
package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// KeyType names the kind of key an identity holds.
type KeyType string

// The key types the project signs and encrypts with.
const (
	RSA2048 KeyType = "rsa2048"
	P256    KeyType = "p256"
	P384    KeyType = "p384"
)

// Identity is a key with its certificate.
type Identity struct {
	Name string
	Key  crypto.Signer
	Cert *x509.Certificate
}

// CertPEM returns the certificate in PEM.
func (id *Identity) CertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: id.Cert.Raw})
}

// KeyPEM returns the private key as PKCS#8 PEM.
func (id *Identity) KeyPEM() []byte {
	der, err := x509.MarshalPKCS8PrivateKey(id.Key)
	if err != nil {
		panic(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// WriteFiles writes NAME.crt and NAME.key into dir and returns their paths.
func (id *Identity) WriteFiles(dir string) (certPath, keyPath string, err error) {
	certPath = filepath.Join(dir, id.Name+".crt")
	keyPath = filepath.Join(dir, id.Name+".key")
	if err = os.WriteFile(certPath, id.CertPEM(), 0o600); err != nil {
		return "", "", err
	}
	return certPath, keyPath, os.WriteFile(keyPath, id.KeyPEM(), 0o600)
}

// CA is a certificate authority that issues leaf identities.
type CA struct {
	Identity
	mu     sync.Mutex
	serial int64
	// Now is the issuing time; certificates are valid from an hour before it
	// for ten years. Zero means time.Now().
	Now time.Time
}

// NewCA makes a self-signed CA with a key of type kt.
func NewCA(name string, kt KeyType) (*CA, error) {
	key, err := NewKey(kt)
	if err != nil {
		return nil, err
	}
	ca := &CA{Identity: Identity{Name: name, Key: key}}
	tmpl := ca.template(name)
	tmpl.IsCA = true
	tmpl.BasicConstraintsValid = true
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, err
	}
	ca.Cert, err = x509.ParseCertificate(der)
	return ca, err
}

func (ca *CA) template(cn string) *x509.Certificate {
	ca.mu.Lock()
	ca.serial++
	s := ca.serial
	ca.mu.Unlock()
	now := ca.Now
	if now.IsZero() {
		now = time.Now()
	}
	return &x509.Certificate{
		SerialNumber: big.NewInt(s),
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"Renkei test PKI"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(10, 0, 0),
	}
}

// Issue makes a leaf identity named name with a fresh key of type kt.
func (ca *CA) Issue(name string, kt KeyType) (*Identity, error) {
	key, err := NewKey(kt)
	if err != nil {
		return nil, err
	}
	return ca.IssueFor(name, key)
}

// IssueFor certifies an existing key, as a TLS server for localhost and
// the loopback addresses (a browser checks the address it was sent to).
func (ca *CA) IssueFor(name string, key crypto.Signer) (*Identity, error) {
	return ca.issue(name, key, []string{"localhost"})
}

// IssueHost makes a leaf identity named name, a TLS server for the host
// names dnsNames and the loopback addresses: a test that maps a
// federation's host name to loopback (a browser's host resolver rules)
// serves a certificate valid for that name.
func (ca *CA) IssueHost(name string, kt KeyType, dnsNames ...string) (*Identity, error) {
	key, err := NewKey(kt)
	if err != nil {
		return nil, err
	}
	return ca.issue(name, key, dnsNames)
}

func (ca *CA) issue(name string, key crypto.Signer, dnsNames []string) (*Identity, error) {
	tmpl := ca.template(name)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	tmpl.DNSNames = dnsNames
	tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &Identity{Name: name, Key: key, Cert: cert}, nil
}

// NewKey generates a key of type kt.
func NewKey(kt KeyType) (crypto.Signer, error) {
	switch kt {
	case RSA2048:
		return rsa.GenerateKey(rand.Reader, 2048)
	case P256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case P384:
		return ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	}
	return nil, fmt.Errorf("pki: unknown key type %q", kt)
}

var (
	sharedOnce sync.Once
	shared     *Shared
	sharedErr  error
)

// Shared is one test PKI per test binary: a CA and a leaf of each key type,
// plus a foreign CA whose leaves must never be trusted.
type Shared struct {
	CA, ForeignCA   *CA
	RSA, P256, P384 *Identity
	ForeignRSA      *Identity
}

// Get returns the process-wide test PKI, generating it on first use.
func Get() (*Shared, error) {
	sharedOnce.Do(func() { shared, sharedErr = build() })
	return shared, sharedErr
}

// MustGet is Get for tests and benchmarks: it panics on failure.
func MustGet() *Shared {
	s, err := Get()
	if err != nil {
		panic(err)
	}
	return s
}

func build() (*Shared, error) {
	s := &Shared{}
	var err error
	if s.CA, err = NewCA("renkei-test-ca", RSA2048); err != nil {
		return nil, err
	}
	if s.ForeignCA, err = NewCA("foreign-test-ca", RSA2048); err != nil {
		return nil, err
	}
	for _, leaf := range []struct {
		dst  **Identity
		ca   *CA
		name string
		kt   KeyType
	}{
		{&s.RSA, s.CA, "rsa", RSA2048},
		{&s.P256, s.CA, "p256", P256},
		{&s.P384, s.CA, "p384", P384},
		{&s.ForeignRSA, s.ForeignCA, "foreign-rsa", RSA2048},
	} {
		if *leaf.dst, err = leaf.ca.Issue(leaf.name, leaf.kt); err != nil {
			return nil, err
		}
	}
	return s, nil
}
