// Package ra is Renkei's registration authority: it keeps a card-issuer CA
// that certifies card keys (the card number in the subject's serialNumber
// attribute), revokes and reissues card certificates and publishes the
// CRL, and keeps a separate service CA for the roles' server certificates
// and for the soft demo client certificate (PKCS#12), which therefore never
// passes for a card. Everything lives as files in one directory.
package ra

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"github.com/renkei-idwsf/renkei/internal/keyfile"
)

// File names inside the RA directory.
const (
	CardCACert    = "card-ca.crt"
	CardCAKey     = "card-ca.key"
	CardCRL       = "card-ca.crl"
	ServiceCACert = "service-ca.crt"
	ServiceCAKey  = "service-ca.key"
	stateFile     = "ra.json"
)

// ErrUnknownCard means no certificate was ever issued for the card number.
var ErrUnknownCard = errors.New("ra: unknown card number")

// Config is where the RA keeps its files and what it runs on.
type Config struct {
	Dir string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Rand is the randomness for keys and signatures; nil means crypto/rand.
	Rand io.Reader
	// CardValidity is the lifetime of card certificates (default 5 years).
	CardValidity time.Duration
}

// CardRecord is what the RA remembers of one issued card certificate.
type CardRecord struct {
	CardNumber string    `json:"cardNumber"`
	Serial     string    `json:"serial"`
	NotAfter   time.Time `json:"notAfter"`
	RevokedAt  time.Time `json:"revokedAt,omitzero"`
	Reason     int       `json:"reason,omitempty"`
}

type state struct {
	NextSerial int64        `json:"nextSerial"`
	CRLNumber  int64        `json:"crlNumber"`
	Cards      []CardRecord `json:"cards"`
	// OCSPURL is the responder card certificates name in their Authority
	// Information Access; "" names none.
	OCSPURL string `json:"ocspURL,omitempty"`
}

type ca struct {
	cert *x509.Certificate
	key  crypto.Signer
}

// Authority is an open RA directory. It is not safe for concurrent use.
type Authority struct {
	cfg     Config
	card    ca
	service ca
	st      state
}

func (c *Config) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Config) rand() io.Reader {
	if c.Rand != nil {
		return c.Rand
	}
	return rand.Reader
}

// Init creates a new RA in cfg.Dir (which must not hold one): a P-256
// card-issuer CA and a P-256 service CA, valid 20 years, and an empty CRL.
func Init(cfg Config) (*Authority, error) {
	if _, err := os.Stat(filepath.Join(cfg.Dir, stateFile)); err == nil {
		return nil, fmt.Errorf("ra: %s already holds an RA", cfg.Dir)
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, err
	}
	a := &Authority{cfg: cfg, st: state{NextSerial: 1, CRLNumber: 1}}
	var err error
	if a.card, err = a.newCA("Renkei Card Issuer CA", CardCACert, CardCAKey); err != nil {
		return nil, err
	}
	if a.service, err = a.newCA("Renkei Service CA", ServiceCACert, ServiceCAKey); err != nil {
		return nil, err
	}
	if _, err := a.WriteCRL(); err != nil {
		return nil, err
	}
	return a, a.save()
}

func (a *Authority) newCA(cn, certName, keyName string) (ca, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), a.cfg.rand())
	if err != nil {
		return ca{}, err
	}
	now := a.cfg.now()
	tmpl := &x509.Certificate{
		SerialNumber: a.serial(), Subject: pkix.Name{CommonName: cn, Organization: []string{"Renkei"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(20, 0, 0),
		IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(a.cfg.rand(), tmpl, tmpl, key.Public(), key)
	if err != nil {
		return ca{}, err
	}
	cert, _ := x509.ParseCertificate(der)
	if err := a.writePEM(certName, "CERTIFICATE", der); err != nil {
		return ca{}, err
	}
	return ca{cert: cert, key: key}, a.writeKey(keyName, key)
}

// Open loads an RA created by Init.
func Open(cfg Config) (*Authority, error) {
	a := &Authority{cfg: cfg}
	var err error
	if a.st, err = readState(cfg.Dir); err != nil {
		return nil, err
	}
	if a.card, err = a.loadCA(CardCACert, CardCAKey); err != nil {
		return nil, err
	}
	a.service, err = a.loadCA(ServiceCACert, ServiceCAKey)
	return a, err
}

func (a *Authority) loadCA(certName, keyName string) (ca, error) {
	cert, err := keyfile.ReadCert(filepath.Join(a.cfg.Dir, certName))
	if err != nil {
		return ca{}, err
	}
	key, err := keyfile.ReadKey(filepath.Join(a.cfg.Dir, keyName))
	return ca{cert: cert, key: key}, err
}

// SetOCSPURL makes the card certificates issued from now on name url as
// their OCSP responder (RFC 5280 §4.2.2.1, Authority Information Access);
// "" stops naming one.
func (a *Authority) SetOCSPURL(url string) error {
	a.st.OCSPURL = url
	return a.save()
}

// CardCA returns the card-issuer CA certificate.
func (a *Authority) CardCA() *x509.Certificate { return a.card.cert }

// ServiceCA returns the service CA certificate.
func (a *Authority) ServiceCA() *x509.Certificate { return a.service.cert }

// Cards returns the records of all card certificates issued.
func (a *Authority) Cards() []CardRecord { return append([]CardRecord(nil), a.st.Cards...) }

func (a *Authority) serial() *big.Int {
	s := a.st.NextSerial
	a.st.NextSerial++
	return big.NewInt(s)
}

func (a *Authority) save() error {
	b, err := json.MarshalIndent(a.st, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(a.cfg.Dir, stateFile), b, 0o600)
}

func (a *Authority) writePEM(name, typ string, der []byte) error {
	return os.WriteFile(filepath.Join(a.cfg.Dir, name), pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600)
}

func (a *Authority) writeKey(name string, key crypto.Signer) error {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	return a.writePEM(name, "PRIVATE KEY", der)
}

// NewKey makes a key of type kt: "rsa2048" or "p256".
func NewKey(kt string, r io.Reader) (crypto.Signer, error) {
	if r == nil {
		r = rand.Reader
	}
	switch kt {
	case "rsa2048":
		return rsa.GenerateKey(r, 2048)
	case "p256":
		return ecdsa.GenerateKey(elliptic.P256(), r)
	}
	return nil, fmt.Errorf("ra: key type %q: want rsa2048 or p256", kt)
}
