package saml

import (
	"fmt"

	"github.com/renkei-idwsf/renkei/internal/kinderr"
)

// Kind classifies why an assertion cannot be relied on, so that each role
// maps it to its own wire status (SAML status, lu:Status, SOAP fault)
// through one table.
type Kind int

// The kinds of assertion failure.
const (
	KindVersion      Kind = iota + 1 // Version is not "2.0"
	KindNotYetValid                  // before NotBefore
	KindExpired                      // at or after NotOnOrAfter
	KindAudience                     // an AudienceRestriction excludes this provider, or none is present
	KindIssuer                       // the issuer is not trusted for this use
	KindSubject                      // no usable subject
	KindConfirmation                 // no subject confirmation is satisfied
)

var kindNames = map[Kind]string{
	KindVersion:      "unsupported SAML version",
	KindNotYetValid:  "assertion not yet valid",
	KindExpired:      "assertion expired",
	KindAudience:     "audience restriction not satisfied",
	KindIssuer:       "issuer not trusted",
	KindSubject:      "subject not usable",
	KindConfirmation: "subject confirmation not satisfied",
}

// String returns the public, stable text of the kind.
func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("saml kind %d", int(k))
}

// Error is the package's typed error (internal/kinderr). Kind is public; Detail and Err are the private cause, for logs only.
type Error = kinderr.Error[Kind]

// Package names the package in error texts.
func (Kind) Package() string { return "saml" }

// Errorf returns an *Error of kind k with a formatted detail.
func Errorf(k Kind, format string, args ...any) *Error { return kinderr.New(k, format, args...) }

// Sentinels for errors.Is, one per kind.
var (
	ErrVersion      = &Error{Kind: KindVersion}
	ErrNotYetValid  = &Error{Kind: KindNotYetValid}
	ErrExpired      = &Error{Kind: KindExpired}
	ErrAudience     = &Error{Kind: KindAudience}
	ErrIssuer       = &Error{Kind: KindIssuer}
	ErrSubject      = &Error{Kind: KindSubject}
	ErrConfirmation = &Error{Kind: KindConfirmation}
)
