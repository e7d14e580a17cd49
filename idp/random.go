package idp

import (
	"encoding/base64"
	"io"

	"github.com/renkei-idwsf/renkei/saml"
)

// randomBytes reads n bytes from the configured randomness.
func (p *IdP) randomBytes(n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(p.rand(), b); err != nil {
		return nil, Wrap(CodeInternal, err, "randomness")
	}
	return b, nil
}

// newID returns an xs:ID for a SAML element: "_" and 128 random bits in
// hex (SAML Core §1.3.4: unique, and not guessable).
func (p *IdP) newID() (string, error) {
	id, err := saml.NewID(p.rand())
	if err != nil {
		return "", Wrap(CodeInternal, err, "randomness")
	}
	return id, nil
}

// newOpaque returns n random bytes as unpadded base64url: a value that
// says nothing about whom or what it identifies.
func (p *IdP) newOpaque(n int) (string, error) {
	b, err := p.randomBytes(n)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
