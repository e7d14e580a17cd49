package samlp

import (
	"fmt"

	"github.com/renkei-idwsf/renkei/internal/kinderr"
)

// Kind classifies why a protocol message breaks a rule of SAML Core §3 that
// the schema does not express, so that a role maps it to a status code.
type Kind int

// The kinds of protocol failure.
const (
	KindACSChoice   Kind = iota + 1 // AssertionConsumerServiceIndex together with URL or ProtocolBinding
	KindIssuer                      // an Issuer is missing or has a Format other than entity
	KindStatus                      // a Status is missing or not a valid top-level code
	KindSubject                     // an AuthnRequest Subject that the profile forbids
	KindNotYetValid                 // IssueInstant further ahead than the allowed skew
	KindExpired                     // IssueInstant too old, or NotOnOrAfter passed
)

var kindText = map[Kind]string{
	KindACSChoice:   "conflicting assertion consumer service selection",
	KindIssuer:      "bad issuer",
	KindStatus:      "bad status",
	KindSubject:     "bad subject",
	KindNotYetValid: "message not yet valid",
	KindExpired:     "message expired",
}

// String returns the public, stable text of the kind.
func (k Kind) String() string {
	if s, ok := kindText[k]; ok {
		return s
	}
	return fmt.Sprintf("samlp.Kind(%d)", int(k))
}

// Error is the package's typed error (internal/kinderr). Kind is public;
// Detail is the private cause, for logs only.
type Error = kinderr.Error[Kind]

// Package names the package in error texts.
func (Kind) Package() string { return "samlp" }

// Sentinels for errors.Is, one per kind.
var (
	ErrACSChoice   = &Error{Kind: KindACSChoice}
	ErrIssuer      = &Error{Kind: KindIssuer}
	ErrStatus      = &Error{Kind: KindStatus}
	ErrSubject     = &Error{Kind: KindSubject}
	ErrNotYetValid = &Error{Kind: KindNotYetValid}
	ErrExpired     = &Error{Kind: KindExpired}
)

// Errorf returns an *Error of kind k with a formatted detail.
func Errorf(k Kind, format string, args ...any) *Error { return kinderr.New(k, format, args...) }
