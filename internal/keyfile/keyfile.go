// Package keyfile reads the PEM files an operator gives a Renkei role: a
// private key, one certificate or several, and a CRL. The registration
// authority (ra/) writes such files; every role assembly and every binary
// reads them through this one package, so that a file refused by one is
// refused by all, with the same words.
//
// Each error names the file. Encrypted keys are refused: a role reads its
// keys unattended, and a key protected by a passphrase given on the
// command line or in the configuration is not protected.
package keyfile

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
)

// maxBlocks bounds the PEM blocks ReadCerts reads from one file.
const maxBlocks = 64

// PEM block types.
const (
	TypeCertificate  = "CERTIFICATE"
	TypeCRL          = "X509 CRL"
	TypePKCS8        = "PRIVATE KEY"
	TypePKCS1        = "RSA PRIVATE KEY"
	TypeSEC1         = "EC PRIVATE KEY"
	TypeEncryptedKey = "ENCRYPTED PRIVATE KEY"
)

// ErrEncrypted reports a passphrase-protected private key.
var ErrEncrypted = errors.New("the private key is encrypted; give it unencrypted, readable only by the role's user")

// ReadKey reads a PEM private key: PKCS#8 ("PRIVATE KEY"), PKCS#1 ("RSA
// PRIVATE KEY") or SEC 1 ("EC PRIVATE KEY"). The key must be able to sign.
func ReadKey(path string) (crypto.Signer, error) {
	blk, err := first(path)
	if err != nil {
		return nil, err
	}
	s, err := ParseKey(blk)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// ParseKey parses a PEM private key block of the types ReadKey reads,
// refusing an encrypted one (ErrEncrypted) and one that cannot sign.
func ParseKey(blk *pem.Block) (crypto.Signer, error) {
	if blk.Type == TypeEncryptedKey || blk.Headers["Proc-Type"] == "4,ENCRYPTED" {
		return nil, ErrEncrypted
	}
	var k any
	var err error
	switch blk.Type {
	case TypePKCS8:
		k, err = x509.ParsePKCS8PrivateKey(blk.Bytes)
	case TypePKCS1:
		k, err = x509.ParsePKCS1PrivateKey(blk.Bytes)
	case TypeSEC1:
		k, err = x509.ParseECPrivateKey(blk.Bytes)
	default:
		return nil, fmt.Errorf("PEM type %q is not a private key", blk.Type)
	}
	if err != nil {
		return nil, err
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("a %T cannot sign", k)
	}
	return s, nil
}

// ReadCert reads a file holding exactly one PEM certificate.
func ReadCert(path string) (*x509.Certificate, error) {
	certs, err := ReadCerts(path)
	if err != nil {
		return nil, err
	}
	if len(certs) != 1 {
		return nil, fmt.Errorf("%s: %d certificates, want one", path, len(certs))
	}
	return certs[0], nil
}

// ReadCerts reads every PEM certificate of a file, in order (a chain is
// leaf first); there must be at least one, and no block of another type.
func ReadCerts(path string) ([]*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var certs []*x509.Certificate
	for len(bytes.TrimSpace(b)) > 0 {
		var blk *pem.Block
		if blk, b = pem.Decode(b); blk == nil {
			break
		}
		if blk.Type != TypeCertificate {
			return nil, fmt.Errorf("%s: PEM type %q is not a certificate", path, blk.Type)
		}
		if len(certs) == maxBlocks {
			return nil, fmt.Errorf("%s: more than %d certificates", path, maxBlocks)
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: certificate %d: %w", path, len(certs)+1, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("%s: no PEM certificate", path)
	}
	return certs, nil
}

// ReadCRL reads a PEM CRL ("X509 CRL"). It does not check the signature:
// that needs the issuer, which the caller has (CheckSignatureFrom).
func ReadCRL(path string) (*x509.RevocationList, error) {
	blk, err := first(path)
	if err != nil {
		return nil, err
	}
	if blk.Type != TypeCRL {
		return nil, fmt.Errorf("%s: PEM type %q is not a CRL", path, blk.Type)
	}
	crl, err := x509.ParseRevocationList(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return crl, nil
}

// first returns the first PEM block of the file.
func first(path string) (*pem.Block, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("%s: no PEM block", path)
	}
	return blk, nil
}
