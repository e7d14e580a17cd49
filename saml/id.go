package saml

import (
	"crypto/rand"
	"encoding/hex"
	"io"
)

// NewID returns an xs:ID for a SAML element: "_" and 128 bits from rnd
// in hex (SAML Core §1.3.4: unique, and not guessable). A nil rnd means
// crypto/rand.
func NewID(rnd io.Reader) (string, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	var b [16]byte
	if _, err := io.ReadFull(rnd, b[:]); err != nil {
		return "", err
	}
	return "_" + hex.EncodeToString(b[:]), nil
}
