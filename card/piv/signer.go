package piv

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
)

// Signer is a crypto.Signer whose private key is key 9A on a PIV card: the
// host builds the RSA encoding (PKCS#1 v1.5 or PSS, as crypto/tls asks for
// TLS 1.2 and 1.3) and the card performs only the private-key operation.
// The PIN must have been verified on the same card session.
type Signer struct {
	Client *Client
	// Pub is the public key of the card's authentication certificate.
	Pub crypto.PublicKey
	// Key is the key reference; zero means 9A (PIV Authentication).
	Key byte
}

var _ crypto.Signer = (*Signer)(nil)

// NewSigner reads the authentication certificate from the card and
// returns a Signer for its key.
func NewSigner(c *Client) (*Signer, error) {
	cert, err := c.Certificate()
	if err != nil {
		return nil, err
	}
	return &Signer{Client: c, Pub: cert.PublicKey}, nil
}

// Public returns the public key of the card's key.
func (s *Signer) Public() crypto.PublicKey { return s.Pub }

// Sign signs digest on the card. For RSA keys opts chooses the encoding:
// *rsa.PSSOptions gives EMSA-PSS, anything else EMSA-PKCS1-v1_5; rand
// (crypto/rand when nil) supplies the PSS salt. Every signature is checked
// against the public key before it is returned.
func (s *Signer) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if r == nil {
		r = rand.Reader
	}
	switch pub := s.Pub.(type) {
	case *rsa.PublicKey:
		return s.signRSA(r, pub, digest, opts)
	case *ecdsa.PublicKey:
		return s.signECDSA(pub, digest)
	}
	return nil, fmt.Errorf("piv: unsupported public key type %T", s.Pub)
}

func (s *Signer) key() byte {
	if s.Key == 0 {
		return KeyAuthentication
	}
	return s.Key
}

func (s *Signer) signRSA(r io.Reader, pub *rsa.PublicKey, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if pub.N.BitLen() != 2048 {
		return nil, fmt.Errorf("piv: RSA-%d is not supported, only RSA-2048", pub.N.BitLen())
	}
	em, err := s.encodeRSA(r, pub, digest, opts)
	if err != nil {
		return nil, err
	}
	sig, err := s.Client.Authenticate(AlgRSA2048, s.key(), em)
	if err != nil {
		return nil, err
	}
	return sig, checkRSA(pub, digest, sig, opts)
}

func (s *Signer) encodeRSA(r io.Reader, pub *rsa.PublicKey, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if pss, ok := opts.(*rsa.PSSOptions); ok {
		return EncodePSS(r, digest, pub.N.BitLen(), pss)
	}
	return EncodePKCS1v15(opts.HashFunc(), digest, pub.Size())
}

// checkRSA refuses to return a signature that does not verify, so a card
// fault never reaches a peer.
func checkRSA(pub *rsa.PublicKey, digest, sig []byte, opts crypto.SignerOpts) error {
	var err error
	if pss, ok := opts.(*rsa.PSSOptions); ok {
		err = rsa.VerifyPSS(pub, pss.Hash, digest, sig, pss)
	} else {
		err = rsa.VerifyPKCS1v15(pub, opts.HashFunc(), digest, sig)
	}
	if err != nil {
		return fmt.Errorf("piv: the card's RSA signature does not verify: %w", err)
	}
	return nil
}

func (s *Signer) signECDSA(pub *ecdsa.PublicKey, digest []byte) ([]byte, error) {
	if pub.Curve != elliptic.P256() {
		return nil, errors.New("piv: only ECC P-256 keys are supported")
	}
	// FIPS 186-4 §6.4: only the leftmost bits of the hash are used.
	in := make([]byte, 32)
	if len(digest) >= 32 {
		copy(in, digest[:32])
	} else {
		copy(in[32-len(digest):], digest)
	}
	sig, err := s.Client.Authenticate(AlgECCP256, s.key(), in)
	if err != nil {
		return nil, err
	}
	if !ecdsa.VerifyASN1(pub, in, sig) {
		return nil, errors.New("piv: the card's ECDSA signature does not verify")
	}
	return sig, nil
}
