package xmlsec

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"math/big"
	"strings"

	"github.com/beevik/etree"
)

// TrustSet is the set of keys a verifier accepts signatures from: the
// certificates and bare public keys of a peer's metadata. Trust is by key,
// not by chain: a certificate's dates and issuer are not consulted, as
// SAML metadata interoperability (SAML V2.0 Metadata Interoperability
// Profile §2.5.1) wants.
type TrustSet struct {
	certs []*x509.Certificate
	keys  []crypto.PublicKey // each cert's key, then the bare keys
}

// NewTrustSet returns a trust set holding certs and keys.
func NewTrustSet(certs []*x509.Certificate, keys ...crypto.PublicKey) *TrustSet {
	t := &TrustSet{certs: certs}
	for _, c := range certs {
		t.keys = append(t.keys, c.PublicKey)
	}
	t.keys = append(t.keys, keys...)
	return t
}

// Keys returns every trusted key.
func (t *TrustSet) Keys() []crypto.PublicKey { return t.keys }

// ByCertificate returns the trusted key of a DER certificate: one equal to a
// trusted certificate, or one whose public key is trusted. Anything else is
// ErrUntrustedKey.
func (t *TrustSet) ByCertificate(der []byte) (crypto.PublicKey, error) {
	for _, c := range t.certs {
		if bytes.Equal(c.Raw, der) {
			return c.PublicKey, nil
		}
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, Wrap(KindUntrustedKey, err, "certificate in KeyInfo")
	}
	return t.ByKey(cert.PublicKey)
}

// Certificate returns the trusted certificate whose key equals pub, and
// whether there is one (a bare trusted key has none).
func (t *TrustSet) Certificate(pub crypto.PublicKey) (*x509.Certificate, bool) {
	for _, c := range t.certs {
		if e, ok := c.PublicKey.(interface{ Equal(crypto.PublicKey) bool }); ok && e.Equal(pub) {
			return c, true
		}
	}
	return nil, false
}

// ByKey returns the trusted key equal to pub, or ErrUntrustedKey.
func (t *TrustSet) ByKey(pub crypto.PublicKey) (crypto.PublicKey, error) {
	for _, k := range t.keys {
		if e, ok := k.(interface{ Equal(crypto.PublicKey) bool }); ok && e.Equal(pub) {
			return k, nil
		}
	}
	return nil, Errorf(KindUntrustedKey, "key %T not in the trust set", pub)
}

// Resolve returns the trusted keys a signature's KeyInfo (nil when absent)
// may select. KeyInfo only selects among trusted keys and never adds one:
// each ds:X509Certificate and ds:RSAKeyValue is looked up in the set, and
// when some are present but none is trusted the result is
// ErrUntrustedKey. A KeyInfo with neither (absent, KeyName, ...) selects
// every trusted key.
func (t *TrustSet) Resolve(keyInfo *etree.Element) ([]crypto.PublicKey, error) {
	hints, err := keyHints(keyInfo)
	if err != nil {
		return nil, err
	}
	if len(hints) == 0 {
		return t.keys, nil
	}
	var out []crypto.PublicKey
	var last error
	for _, h := range hints {
		k, err := h(t)
		if err != nil {
			last = err
			continue
		}
		out = append(out, k)
	}
	if len(out) == 0 {
		return nil, last
	}
	return out, nil
}

type keyHint func(*TrustSet) (crypto.PublicKey, error)

// keyHints reads the X509Certificate and RSAKeyValue entries of a KeyInfo.
func keyHints(keyInfo *etree.Element) ([]keyHint, error) {
	if keyInfo == nil {
		return nil, nil
	}
	var hints []keyHint
	for _, c := range keyInfo.ChildElements() {
		if c.NamespaceURI() != NSDSig {
			continue
		}
		var err error
		switch c.Tag {
		case "X509Data":
			hints, err = x509Hints(hints, c)
		case "KeyValue":
			hints, err = keyValueHints(hints, c)
		}
		if err != nil {
			return nil, err
		}
	}
	return hints, nil
}

func x509Hints(hints []keyHint, data *etree.Element) ([]keyHint, error) {
	for _, c := range data.ChildElements() {
		if c.Tag != "X509Certificate" || c.NamespaceURI() != NSDSig {
			continue
		}
		der, err := DecodeBase64(c.Text())
		if err != nil {
			return nil, err
		}
		hints = append(hints, func(t *TrustSet) (crypto.PublicKey, error) { return t.ByCertificate(der) })
	}
	return hints, nil
}

func keyValueHints(hints []keyHint, kv *etree.Element) ([]keyHint, error) {
	for _, c := range kv.ChildElements() {
		if c.Tag != "RSAKeyValue" || c.NamespaceURI() != NSDSig {
			continue
		}
		pub, err := parseRSAKeyValue(c)
		if err != nil {
			return nil, err
		}
		hints = append(hints, func(t *TrustSet) (crypto.PublicKey, error) { return t.ByKey(pub) })
	}
	return hints, nil
}

func parseRSAKeyValue(el *etree.Element) (*rsa.PublicKey, error) {
	var n, e []byte
	var err error
	for _, c := range el.ChildElements() {
		switch c.Tag {
		case "Modulus":
			n, err = DecodeBase64(c.Text())
		case "Exponent":
			e, err = DecodeBase64(c.Text())
		}
		if err != nil {
			return nil, err
		}
	}
	if len(n) == 0 || len(e) == 0 || len(e) > 4 {
		return nil, Errorf(KindMalformed, "RSAKeyValue needs a Modulus and a small Exponent")
	}
	return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}, nil
}

// DecodeBase64 decodes an xs:base64Binary value, which may carry white
// space (line breaks every 64 or 76 characters are common).
func DecodeBase64(s string) ([]byte, error) {
	if strings.ContainsAny(s, " \t\r\n") {
		s = strings.Map(func(r rune) rune {
			if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
				return -1
			}
			return r
		}, s)
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, Wrap(KindMalformed, err, "base64")
	}
	return b, nil
}
