// Package virtual is Renkei's virtual PIV card: a program, not a mock, that
// holds its key and certificate in a file, answers the PIV commands of
// SP 800-73-4 that a login needs (and real status words for the rest),
// enforces the PIN and its retry counter, and reaches pcscd through the
// vsmartcard vpcd reader driver, so tests and the demo run the same PC/SC
// stack as a real card in a real reader.
package virtual

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	cryptorand "crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// DefaultPIN is the PIN of a card made without one.
const DefaultPIN = "123456"

// DefaultTries is the PIN retry limit of a new card.
const DefaultTries = 3

// File is the on-disk form of a virtual card: JSON with PEM fields. The
// PIN and its retry counter are written back after every VERIFY.
type File struct {
	// CardNumber is the card's number, also in its certificate's subject.
	CardNumber string `json:"cardNumber"`
	PIN        string `json:"pin"`
	TriesLeft  int    `json:"triesLeft"`
	MaxTries   int    `json:"maxTries"`
	// GUID is the 16-byte card UUID of the CHUID, in hex.
	GUID    string `json:"guid"`
	KeyPEM  string `json:"authKey"`
	CertPEM string `json:"authCert"`
}

// NewFile builds a card file for key and cert with the default PIN policy.
func NewFile(cardNumber string, key crypto.Signer, cert *x509.Certificate, guid [16]byte) (*File, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return &File{
		CardNumber: cardNumber, PIN: DefaultPIN, TriesLeft: DefaultTries, MaxTries: DefaultTries,
		GUID:    fmt.Sprintf("%x", guid[:]),
		KeyPEM:  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		CertPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})),
	}, nil
}

// LoadFile reads and checks a card file.
func LoadFile(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f File
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("virtual: %s: %w", path, err)
	}
	if _, _, err := f.keys(); err != nil {
		return nil, fmt.Errorf("virtual: %s: %w", path, err)
	}
	return &f, nil
}

// Save writes f to path atomically (a temporary file renamed over it), so
// the key file itself is never opened by a write.
func (f *File) Save(path string) error {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".card-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// keys decodes and cross-checks the key and certificate.
func (f *File) keys() (crypto.Signer, *x509.Certificate, error) {
	kb, _ := pem.Decode([]byte(f.KeyPEM))
	cb, _ := pem.Decode([]byte(f.CertPEM))
	if kb == nil || cb == nil {
		return nil, nil, errors.New("authKey and authCert must be PEM")
	}
	k, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, nil, err
	}
	key, ok := k.(crypto.Signer)
	if !ok || !samePublic(key.Public(), cert.PublicKey) {
		return nil, nil, errors.New("authKey does not match authCert")
	}
	return key, cert, checkKeyType(key)
}

func samePublic(a, b crypto.PublicKey) bool {
	e, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && e.Equal(b)
}

func checkKeyType(key crypto.Signer) error {
	switch k := key.(type) {
	case *rsa.PrivateKey:
		if k.N.BitLen() == 2048 {
			return nil
		}
	case *ecdsa.PrivateKey:
		if k.Curve == elliptic.P256() {
			return nil
		}
	}
	return errors.New("the card holds RSA-2048 or ECC P-256 keys only")
}

// Create writes a new card file at path for key and cert, with a random
// GUID from rand (crypto/rand when nil) and the default PIN policy.
func Create(path, cardNumber string, key crypto.Signer, cert *x509.Certificate, rand io.Reader) error {
	if rand == nil {
		rand = cryptorand.Reader
	}
	var guid [16]byte
	if _, err := io.ReadFull(rand, guid[:]); err != nil {
		return err
	}
	f, err := NewFile(cardNumber, key, cert, guid)
	if err != nil {
		return err
	}
	return f.Save(path)
}
