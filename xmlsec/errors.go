// Package xmlsec is Renkei's XML ground floor: strict parsing of untrusted
// bytes, the shared pieces of XML-DSig (algorithm policy, canonicalization
// with the namespace context of a detached element) and the typed errors
// every XML-security failure is reported with. Enveloped signatures,
// WS-Security signatures, XML Encryption and XSD validation live in the
// subpackages dsig, wss, xmlenc and xsd.
package xmlsec

import (
	"fmt"

	"github.com/renkei-idwsf/renkei/internal/kinderr"
)

// Kind classifies an XML-security failure so that each role can map it to
// its wire status (SAML status, lu:Status, SOAP fault) through one table.
type Kind int

// The kinds of failure. Their order is not significant.
const (
	KindMalformed    Kind = iota + 1 // not well-formed XML, or not what the caller expects
	KindTooLarge                     // more bytes or elements than the limits allow
	KindTooDeep                      // nesting deeper than the limits allow
	KindDoctype                      // a DOCTYPE or other directive: never allowed
	KindNoSignature                  // the element carries no signature where one is required
	KindSignature                    // the SignatureValue does not verify
	KindDigest                       // a Reference's DigestValue does not match
	KindReference                    // a Reference is missing, duplicated, empty or points elsewhere
	KindTransform                    // a Transform outside the allow-list of the mode
	KindAlgorithm                    // a signature, digest or encryption algorithm not allowed
	KindUntrustedKey                 // the signing key is not in the trust set
	KindDuplicateID                  // two elements carry the same ID
	KindDecrypt                      // any decryption failure: one kind, no oracle
	KindSchema                       // XSD validation failed
)

var kindNames = map[Kind]string{
	KindMalformed:    "malformed XML",
	KindTooLarge:     "document too large",
	KindTooDeep:      "document too deep",
	KindDoctype:      "DOCTYPE not allowed",
	KindNoSignature:  "signature missing",
	KindSignature:    "signature invalid",
	KindDigest:       "digest mismatch",
	KindReference:    "bad signature reference",
	KindTransform:    "transform not allowed",
	KindAlgorithm:    "algorithm not allowed",
	KindUntrustedKey: "signing key not trusted",
	KindDuplicateID:  "duplicate ID",
	KindDecrypt:      "decryption failed",
	KindSchema:       "schema validation failed",
}

// String returns the public, stable text of the kind.
func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("xmlsec kind %d", int(k))
}

// Error is the package's typed error (internal/kinderr). Kind is public and stable; Detail and Err are the private cause, for logs only. It is the one error type of xmlsec and its subpackages.
type Error = kinderr.Error[Kind]

// Package names the package in error texts.
func (Kind) Package() string { return "xmlsec" }

// Errorf returns an *Error of kind k with a formatted detail.
func Errorf(k Kind, format string, args ...any) *Error { return kinderr.New(k, format, args...) }

// Wrap returns an *Error of kind k caused by err, with an optional detail.
func Wrap(k Kind, err error, detail string) *Error { return kinderr.Wrap(k, err, detail) }

// Sentinels for errors.Is, one per kind.
var (
	ErrMalformed    = &Error{Kind: KindMalformed}
	ErrTooLarge     = &Error{Kind: KindTooLarge}
	ErrTooDeep      = &Error{Kind: KindTooDeep}
	ErrDoctype      = &Error{Kind: KindDoctype}
	ErrNoSignature  = &Error{Kind: KindNoSignature}
	ErrSignature    = &Error{Kind: KindSignature}
	ErrDigest       = &Error{Kind: KindDigest}
	ErrReference    = &Error{Kind: KindReference}
	ErrTransform    = &Error{Kind: KindTransform}
	ErrAlgorithm    = &Error{Kind: KindAlgorithm}
	ErrUntrustedKey = &Error{Kind: KindUntrustedKey}
	ErrDuplicateID  = &Error{Kind: KindDuplicateID}
	ErrDecrypt      = &Error{Kind: KindDecrypt}
	ErrSchema       = &Error{Kind: KindSchema}
)
