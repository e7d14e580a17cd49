package sp

import (
	"errors"
	"fmt"

	"github.com/renkei-idwsf/renkei/internal/kinderr"
	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// Kind classifies why the SP refused a message, so that the portal maps
// it to what it shows (and, for a LogoutRequest of the IdP, to the status
// of the answer: LogoutStatus) through one table.
type Kind int

// The kinds of refusal. Each check of Consume, ConsumeLogoutResponse,
// ReceiveLogoutRequest and ReceiveLogoutSOAP fails with one of them.
const (
	KindInternal       Kind = iota + 1 // the store, the clock or our own signing failed: nothing the peer did
	KindMalformed                      // not a message this endpoint takes: binding, XML, schema, version
	KindMetadata                       // the IdP is not in the metadata, or lists no endpoint or key needed
	KindIssuer                         // the issuer is not the configured IdP
	KindSignature                      // a signature is missing, invalid, by an untrusted key or of a refused algorithm (SHA-1)
	KindDestination                    // Destination or Recipient is not this endpoint
	KindUnsolicited                    // a Response that answers no request (IdP-initiated SSO)
	KindUnknownRequest                 // the message answers no request pending for this browser: unknown, answered already, expired
	KindRelayState                     // RelayState too long, or not the one the request carried
	KindStatus                         // the IdP answered with an error status (*StatusError)
	KindDecrypt                        // an EncryptedAssertion or EncryptedID could not be decrypted
	KindUnencrypted                    // a plain assertion, refused unless Config.AllowPlainAssertions
	KindNotYetValid                    // before NotBefore (or an IssueInstant ahead of the clock)
	KindExpired                        // at or after NotOnOrAfter, SessionNotOnOrAfter, or an IssueInstant too old
	KindAudience                       // the AudienceRestriction does not name this SP
	KindConfirmation                   // no bearer SubjectConfirmation for this ACS and request
	KindAuthnStatement                 // no AuthnStatement
	KindSubject                        // no persistent NameID of this IdP for this SP
	KindReplay                         // an assertion or request ID seen before
	KindBootstrap                      // the discovery bootstrap attribute is not a usable EPR
)

var kindText = map[Kind]string{
	KindInternal:       "internal error",
	KindMalformed:      "malformed message",
	KindMetadata:       "identity provider not usable from metadata",
	KindIssuer:         "unexpected issuer",
	KindSignature:      "signature not acceptable",
	KindDestination:    "wrong destination",
	KindUnsolicited:    "unsolicited response",
	KindUnknownRequest: "no pending request",
	KindRelayState:     "bad RelayState",
	KindStatus:         "identity provider reported an error",
	KindDecrypt:        "decryption failed",
	KindUnencrypted:    "assertion not encrypted",
	KindNotYetValid:    "not yet valid",
	KindExpired:        "expired",
	KindAudience:       "audience restriction not satisfied",
	KindConfirmation:   "subject confirmation not satisfied",
	KindAuthnStatement: "no authentication statement",
	KindSubject:        "subject not usable",
	KindReplay:         "replayed",
	KindBootstrap:      "discovery bootstrap not usable",
}

// String returns the public, stable text of the kind.
func (k Kind) String() string {
	if s, ok := kindText[k]; ok {
		return s
	}
	return fmt.Sprintf("sp.Kind(%d)", int(k))
}

// Package names the package in error texts.
func (Kind) Package() string { return "sp" }

// Error is the package's typed error (internal/kinderr): Kind is public;
// Detail and Err are the private cause, for logs only. The cause keeps the
// lower layer's kind reachable: errors.Is(err, xmlsec.ErrAlgorithm) tells a
// SHA-1 signature from a forged one.
type Error = kinderr.Error[Kind]

// Sentinels for errors.Is, one per kind.
var (
	ErrInternal       = &Error{Kind: KindInternal}
	ErrMalformed      = &Error{Kind: KindMalformed}
	ErrMetadata       = &Error{Kind: KindMetadata}
	ErrIssuer         = &Error{Kind: KindIssuer}
	ErrSignature      = &Error{Kind: KindSignature}
	ErrDestination    = &Error{Kind: KindDestination}
	ErrUnsolicited    = &Error{Kind: KindUnsolicited}
	ErrUnknownRequest = &Error{Kind: KindUnknownRequest}
	ErrRelayState     = &Error{Kind: KindRelayState}
	ErrStatus         = &Error{Kind: KindStatus}
	ErrDecrypt        = &Error{Kind: KindDecrypt}
	ErrUnencrypted    = &Error{Kind: KindUnencrypted}
	ErrNotYetValid    = &Error{Kind: KindNotYetValid}
	ErrExpired        = &Error{Kind: KindExpired}
	ErrAudience       = &Error{Kind: KindAudience}
	ErrConfirmation   = &Error{Kind: KindConfirmation}
	ErrAuthnStatement = &Error{Kind: KindAuthnStatement}
	ErrSubject        = &Error{Kind: KindSubject}
	ErrReplay         = &Error{Kind: KindReplay}
	ErrBootstrap      = &Error{Kind: KindBootstrap}
)

func errorf(k Kind, format string, args ...any) *Error { return kinderr.New(k, format, args...) }

func wrap(k Kind, err error, detail string) *Error { return kinderr.Wrap(k, err, detail) }

// StatusError is a Response, signed by the IdP, whose status is not
// Success: the citizen cancelled, the card was refused (AuthnFailed), a
// passive request needed a login (NoPassive), ... The portal shows it;
// Status.Second() is the specific code, Status.Message the IdP's text.
// errors.Is(err, ErrStatus) matches it.
type StatusError struct {
	Status samlp.Status
}

// Error names the status codes and the IdP's message.
func (e *StatusError) Error() string {
	s := "sp: " + KindStatus.String() + ": " + e.Status.Code.Value
	if second := e.Status.Second(); second != "" {
		s += " / " + second
	}
	if e.Status.Message != "" {
		s += ": " + e.Status.Message
	}
	return s
}

// Is matches ErrStatus.
func (e *StatusError) Is(target error) bool { return target == ErrStatus }

// KindOf returns the kind of an error of this package: KindStatus for a
// *StatusError, KindInternal for any other error that is not an *Error,
// and 0 for nil.
func KindOf(err error) Kind {
	if err == nil {
		return 0
	}
	var se *StatusError
	if errors.As(err, &se) {
		return KindStatus
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// LogoutStatus is the status a LogoutResponse answers a LogoutRequest of
// the IdP with, after ReceiveLogoutRequest or the portal's own session
// bookkeeping returned err: Success for nil, Requester/UnknownPrincipal for
// a subject this SP cannot have given sessions to, Requester/RequestDenied
// for any other refusal of the request, Responder for an internal failure
// (SAML Core §3.2.2.2, §3.7.3.2).
func LogoutStatus(err error) samlp.Status {
	if err == nil {
		return samlp.NewStatus(samlp.StatusSuccess, "")
	}
	switch KindOf(err) {
	case KindInternal:
		return samlp.NewStatus(samlp.StatusResponder, "")
	case KindSubject:
		return samlp.NewStatus(samlp.StatusRequester, samlp.StatusUnknownPrincipal)
	}
	return samlp.NewStatus(samlp.StatusRequester, samlp.StatusRequestDenied)
}

// signatureKinds are the xmlsec kinds a signature check fails with; other
// kinds from a verify-and-decode step are a malformed message.
var signatureKinds = []xmlsec.Kind{xmlsec.KindNoSignature, xmlsec.KindSignature, xmlsec.KindDigest,
	xmlsec.KindReference, xmlsec.KindTransform, xmlsec.KindAlgorithm, xmlsec.KindUntrustedKey, xmlsec.KindDuplicateID}

// verifyError classifies a failure of a verify-then-decode call
// (samlp.VerifyResponse, saml.VerifyAssertion, RedirectMessage.Verify):
// KindSignature for the signature, KindMalformed for what was decoded.
func verifyError(err error, what string) error {
	var xe *xmlsec.Error
	if errors.As(err, &xe) {
		for _, k := range signatureKinds {
			if xe.Kind == k {
				return wrap(KindSignature, err, what)
			}
		}
	}
	return wrap(KindMalformed, err, what)
}

// conditionError maps saml's condition kinds onto this package's.
func conditionError(err error) error {
	var se *saml.Error
	if !errors.As(err, &se) {
		return wrap(KindInternal, err, "conditions")
	}
	switch se.Kind {
	case saml.KindNotYetValid:
		return wrap(KindNotYetValid, err, "conditions")
	case saml.KindExpired:
		return wrap(KindExpired, err, "conditions")
	}
	return wrap(KindAudience, err, "conditions")
}
