package benchkit

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"testing"

	"github.com/renkei-idwsf/renkei/xmlsec"
)

// The raw public-key operations a floor is made of: a signature made and
// checked over a short digest-sized input with a key's default method,
// and an RSA-OAEP key transport (the XML Encryption Renkei uses), without
// any XML around them.

// rawData is what the raw operations work on: a digest's size.
var rawData = make([]byte, 32)

// Signature is one key's raw signature work.
type Signature struct {
	key    crypto.Signer
	method xmlsec.SignatureMethod
	sig    []byte
}

// NewSignature prepares key's raw signature work, with a signature made
// once for Verify to check.
func NewSignature(tb testing.TB, key crypto.Signer) *Signature {
	tb.Helper()
	m, err := xmlsec.DefaultSignatureMethod(key.Public())
	if err != nil {
		tb.Fatal(err)
	}
	sig, err := xmlsec.SignBytes(nil, key, m, rawData)
	if err != nil {
		tb.Fatal(err)
	}
	return &Signature{key: key, method: m, sig: sig}
}

// Sign makes one signature.
func (s *Signature) Sign() error {
	_, err := xmlsec.SignBytes(nil, s.key, s.method, rawData)
	return err
}

// Verify checks one signature.
func (s *Signature) Verify() error {
	return xmlsec.Policy{}.VerifyBytes(s.key.Public(), s.method, rawData, s.sig)
}

// KeyTransport is one RSA key's raw RSA-OAEP work: the unwrapping of a
// content key (a token's EncryptedID or EncryptedAssertion) and its
// wrapping for that key.
type KeyTransport struct {
	key     *rsa.PrivateKey
	wrapped []byte
}

// NewKeyTransport prepares key's RSA-OAEP work.
func NewKeyTransport(tb testing.TB, key *rsa.PrivateKey) *KeyTransport {
	tb.Helper()
	w, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, &key.PublicKey, rawData[:16], nil)
	if err != nil {
		tb.Fatal(err)
	}
	return &KeyTransport{key: key, wrapped: w}
}

// Unwrap decrypts one content key.
func (k *KeyTransport) Unwrap() error {
	_, err := rsa.DecryptOAEP(sha256.New(), nil, k.key, k.wrapped, nil)
	return err
}

// Wrap encrypts one content key for the key.
func (k *KeyTransport) Wrap() error {
	_, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, &k.key.PublicKey, rawData[:16], nil)
	return err
}
