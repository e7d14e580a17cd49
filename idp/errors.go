package idp

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/renkei-idwsf/renkei/saml/samlp"
)

// Code is the kind of an engine error: what the one table below maps to a
// SAML status, a public text and an HTTP status.
type Code int

// The engine's error codes.
const (
	CodeInternal Code = iota // anything unexpected: Responder, no detail on the wire

	// Card login (ARCHITECTURE "Card login").
	CodeNoCertificate         // no client certificate in the handshake
	CodeCertExpired           // certificate past NotAfter
	CodeCertNotYetValid       // certificate before NotBefore
	CodeCertRevoked           // on the CRL, or revoked in the registry
	CodeForeignIssuer         // neither the card-issuer CA nor a soft CA
	CodeCertUsage             // not a client-authentication certificate
	CodeRevocationUnavailable // no current CRL: revocation cannot be checked
	CodeUnknownCard           // a valid certificate no registered card holds

	// SAML protocol (SAML2.md §2.1, §3.1).
	CodeVersionMismatch
	CodeAuthnFailed
	CodeInvalidNameIDPolicy
	CodeUnsupportedNameIDFormat
	CodeNoPassive
	CodeNoAuthnContext
	CodeRequestDenied
	CodeUnsupportedBinding
	CodeRequestUnsupported
	CodeUnknownPrincipal
	CodeInvalidAttribute

	// No response may be sent (SAML2.md §3.1 items 1 and 4): the SP is not
	// in the metadata, or the ACS URL is not one of its endpoints.
	CodeUnknownSP
	CodeACSNotInMetadata

	// The bootstrap cannot be issued (ARCHITECTURE "Tokens from the DS").
	CodeNoDiscovery
	CodeBootstrapUnencrypted

	// Sessions.
	CodeNoSession
	CodeSessionExpired

	// Web SSO requests (SAML2.md §3.1).
	CodeInvalidRequest // not a schema-valid, well-formed AuthnRequest
	CodeUnknownRequest // a pending-request handle that is unknown, used or expired
	CodeTooLarge       // a body over its limit
	CodeInflateBomb    // a Redirect message that inflates beyond its limit
)

// Error is the engine's typed error: the Code is public, Detail and Err are
// the private cause for logs only.
type Error struct {
	Code   Code
	Detail string
	Err    error
}

// Sentinels for errors.Is, one per code a caller branches on.
var (
	ErrInternal              = &Error{Code: CodeInternal}
	ErrNoCertificate         = &Error{Code: CodeNoCertificate}
	ErrCertExpired           = &Error{Code: CodeCertExpired}
	ErrCertNotYetValid       = &Error{Code: CodeCertNotYetValid}
	ErrCertRevoked           = &Error{Code: CodeCertRevoked}
	ErrForeignIssuer         = &Error{Code: CodeForeignIssuer}
	ErrCertUsage             = &Error{Code: CodeCertUsage}
	ErrRevocationUnavailable = &Error{Code: CodeRevocationUnavailable}
	ErrUnknownCard           = &Error{Code: CodeUnknownCard}
	ErrVersionMismatch       = &Error{Code: CodeVersionMismatch}
	ErrAuthnFailed           = &Error{Code: CodeAuthnFailed}
	ErrInvalidNameIDPolicy   = &Error{Code: CodeInvalidNameIDPolicy}
	ErrUnsupportedFormat     = &Error{Code: CodeUnsupportedNameIDFormat}
	ErrNoPassive             = &Error{Code: CodeNoPassive}
	ErrNoAuthnContext        = &Error{Code: CodeNoAuthnContext}
	ErrRequestDenied         = &Error{Code: CodeRequestDenied}
	ErrUnsupportedBinding    = &Error{Code: CodeUnsupportedBinding}
	ErrRequestUnsupported    = &Error{Code: CodeRequestUnsupported}
	ErrUnknownPrincipal      = &Error{Code: CodeUnknownPrincipal}
	ErrInvalidAttribute      = &Error{Code: CodeInvalidAttribute}
	ErrUnknownSP             = &Error{Code: CodeUnknownSP}
	ErrACSNotInMetadata      = &Error{Code: CodeACSNotInMetadata}
	ErrNoDiscovery           = &Error{Code: CodeNoDiscovery}
	ErrBootstrapUnencrypted  = &Error{Code: CodeBootstrapUnencrypted}
	ErrNoSession             = &Error{Code: CodeNoSession}
	ErrSessionExpired        = &Error{Code: CodeSessionExpired}
	ErrInvalidRequest        = &Error{Code: CodeInvalidRequest}
	ErrUnknownRequest        = &Error{Code: CodeUnknownRequest}
	ErrTooLarge              = &Error{Code: CodeTooLarge}
	ErrInflateBomb           = &Error{Code: CodeInflateBomb}
)

// Errorf returns an *Error of code c with a formatted private detail.
func Errorf(c Code, format string, args ...any) *Error {
	return &Error{Code: c, Detail: fmt.Sprintf(format, args...)}
}

// Wrap returns an *Error of code c caused by err.
func Wrap(c Code, err error, detail string) *Error {
	return &Error{Code: c, Detail: detail, Err: err}
}

// Error returns the public text, then the private detail and cause.
func (e *Error) Error() string {
	s := "idp: " + table(e.Code).public
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is a bare *Error of the same code, so that
// errors.Is(err, idp.ErrCertRevoked) matches every revoked certificate.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Detail == "" && t.Err == nil && t.Code == e.Code
}

// Status is how an error is answered: the SAML status codes of a
// samlp:Response (top level and second level), the public StatusMessage,
// the HTTP status of an error page, and whether nothing at all may be sent
// to the SP (SAML2.md §3.1: with an unknown SP or an ACS URL not in its
// metadata there is nowhere safe to send a response, so only an error page
// is shown).
type Status struct {
	Top, Second string
	Message     string
	HTTPStatus  int
	SendNothing bool
}

type entry struct {
	top, second string
	public      string
	http        int
	nothing     bool
}

// entries is the one table of the engine's errors (STYLE "Protocol errors
// are typed values mapped through one table").
var entries = map[Code]entry{
	CodeInternal:                {samlp.StatusResponder, "", "internal error", http.StatusInternalServerError, false},
	CodeNoCertificate:           {samlp.StatusResponder, samlp.StatusAuthnFailed, "no client certificate was presented", http.StatusForbidden, false},
	CodeCertExpired:             {samlp.StatusResponder, samlp.StatusAuthnFailed, "the certificate has expired", http.StatusForbidden, false},
	CodeCertNotYetValid:         {samlp.StatusResponder, samlp.StatusAuthnFailed, "the certificate is not yet valid", http.StatusForbidden, false},
	CodeCertRevoked:             {samlp.StatusResponder, samlp.StatusAuthnFailed, "the certificate has been revoked", http.StatusForbidden, false},
	CodeForeignIssuer:           {samlp.StatusResponder, samlp.StatusAuthnFailed, "the certificate is not from an accepted issuer", http.StatusForbidden, false},
	CodeCertUsage:               {samlp.StatusResponder, samlp.StatusAuthnFailed, "the certificate is not for client authentication", http.StatusForbidden, false},
	CodeRevocationUnavailable:   {samlp.StatusResponder, samlp.StatusAuthnFailed, "revocation status is unavailable", http.StatusServiceUnavailable, false},
	CodeUnknownCard:             {samlp.StatusResponder, samlp.StatusAuthnFailed, "the card is not registered", http.StatusForbidden, false},
	CodeVersionMismatch:         {samlp.StatusVersionMismatch, "", "SAML version not supported", http.StatusBadRequest, false},
	CodeAuthnFailed:             {samlp.StatusResponder, samlp.StatusAuthnFailed, "authentication failed", http.StatusForbidden, false},
	CodeInvalidNameIDPolicy:     {samlp.StatusRequester, samlp.StatusInvalidNameIDPolicy, "the name identifier policy cannot be satisfied", http.StatusBadRequest, false},
	CodeUnsupportedNameIDFormat: {samlp.StatusRequester, samlp.StatusInvalidNameIDPolicy, "name identifier format not supported", http.StatusBadRequest, false},
	CodeNoPassive:               {samlp.StatusResponder, samlp.StatusNoPassive, "passive authentication not possible", http.StatusForbidden, false},
	CodeNoAuthnContext:          {samlp.StatusResponder, samlp.StatusNoAuthnContext, "the requested authentication context cannot be met", http.StatusForbidden, false},
	CodeRequestDenied:           {samlp.StatusRequester, samlp.StatusRequestDenied, "request denied", http.StatusForbidden, false},
	CodeUnsupportedBinding:      {samlp.StatusRequester, samlp.StatusUnsupportedBinding, "binding not supported", http.StatusBadRequest, false},
	CodeRequestUnsupported:      {samlp.StatusResponder, samlp.StatusRequestUnsupported, "request not supported", http.StatusBadRequest, false},
	CodeUnknownPrincipal:        {samlp.StatusRequester, samlp.StatusUnknownPrincipal, "unknown principal", http.StatusBadRequest, false},
	CodeInvalidAttribute:        {samlp.StatusRequester, samlp.StatusInvalidAttrNameOrValue, "invalid attribute name or value", http.StatusBadRequest, false},
	CodeUnknownSP:               {samlp.StatusRequester, "", "the service provider is not known", http.StatusBadRequest, true},
	CodeACSNotInMetadata:        {samlp.StatusRequester, "", "the response location is not registered for the service provider", http.StatusBadRequest, true},
	CodeNoDiscovery:             {samlp.StatusResponder, "", "the discovery service cannot receive a token", http.StatusInternalServerError, false},
	CodeBootstrapUnencrypted:    {samlp.StatusResponder, "", "the discovery bootstrap needs an encrypted assertion", http.StatusInternalServerError, false},
	CodeNoSession:               {samlp.StatusResponder, "", "no session", http.StatusForbidden, false},
	CodeSessionExpired:          {samlp.StatusResponder, "", "the session has expired", http.StatusForbidden, false},
	CodeInvalidRequest:          {samlp.StatusRequester, "", "the request is malformed", http.StatusBadRequest, false},
	CodeUnknownRequest:          {samlp.StatusRequester, "", "the login request is unknown or has expired", http.StatusBadRequest, true},
	CodeTooLarge:                {samlp.StatusRequester, "", "the request is too large", http.StatusRequestEntityTooLarge, true},
	CodeInflateBomb:             {samlp.StatusRequester, "", "the compressed request inflates beyond the accepted size", http.StatusBadRequest, true},
}

func table(c Code) entry {
	if e, ok := entries[c]; ok {
		return e
	}
	return entries[CodeInternal]
}

// StatusFor maps any error to its Status through the table; an error the
// engine did not type is CodeInternal, with nothing of it made public.
func StatusFor(err error) Status {
	code := CodeInternal
	var e *Error
	if errors.As(err, &e) {
		code = e.Code
	}
	t := table(code)
	return Status{Top: t.top, Second: t.second, Message: t.public, HTTPStatus: t.http, SendNothing: t.nothing}
}

// CodeOf returns the engine code of err, CodeInternal when it has none.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}
