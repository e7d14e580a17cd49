package idp

import (
	"errors"

	"github.com/renkei-idwsf/renkei/internal/kinderr"
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
	CodeACSNotHTTPS // listed, but http: the IdP sends only to https

	// The bootstrap cannot be issued (ARCHITECTURE "Tokens from the DS").
	CodeNoDiscovery
	CodeBootstrapUnencrypted

	// Sessions.
	CodeNoSession
	CodeSessionExpired

	// Web SSO requests (SAML2.md §3.1).
	CodeInvalidRequest  // not a schema-valid, well-formed AuthnRequest
	CodeUnknownRequest  // a pending-request handle that is unknown, used or expired
	CodeTooLarge        // a body over its limit
	CodeInflateBomb     // a Redirect message that inflates beyond its limit
	CodeMediaType       // a SOAP endpoint was sent a body that is not text/xml
	CodeSubjectMismatch // the authenticated principal is not the requested Subject (Core §3.4.1.4)
	CodeTooManyRequests // one client sent too many AuthnRequests without a session (AuthnLimits)
	CodeBusy            // too many AuthnRequests without a session are pending overall (AuthnLimits)
)

// Error is the engine's typed error (internal/kinderr): the Kind, a Code,
// is public; Detail and Err are the private cause, for logs only. Its text
// is "idp: " and the public text of the code, then detail and cause.
type Error = kinderr.Error[Code]

// String returns the public text of the code, from the table.
func (c Code) String() string { return table(c).public }

// Package names the package in error texts.
func (Code) Package() string { return "idp" }

// Sentinels for errors.Is, one per code a caller branches on.
var (
	ErrInternal              = &Error{Kind: CodeInternal}
	ErrNoCertificate         = &Error{Kind: CodeNoCertificate}
	ErrCertExpired           = &Error{Kind: CodeCertExpired}
	ErrCertNotYetValid       = &Error{Kind: CodeCertNotYetValid}
	ErrCertRevoked           = &Error{Kind: CodeCertRevoked}
	ErrForeignIssuer         = &Error{Kind: CodeForeignIssuer}
	ErrCertUsage             = &Error{Kind: CodeCertUsage}
	ErrRevocationUnavailable = &Error{Kind: CodeRevocationUnavailable}
	ErrUnknownCard           = &Error{Kind: CodeUnknownCard}
	ErrVersionMismatch       = &Error{Kind: CodeVersionMismatch}
	ErrAuthnFailed           = &Error{Kind: CodeAuthnFailed}
	ErrInvalidNameIDPolicy   = &Error{Kind: CodeInvalidNameIDPolicy}
	ErrUnsupportedFormat     = &Error{Kind: CodeUnsupportedNameIDFormat}
	ErrNoPassive             = &Error{Kind: CodeNoPassive}
	ErrNoAuthnContext        = &Error{Kind: CodeNoAuthnContext}
	ErrRequestDenied         = &Error{Kind: CodeRequestDenied}
	ErrUnsupportedBinding    = &Error{Kind: CodeUnsupportedBinding}
	ErrRequestUnsupported    = &Error{Kind: CodeRequestUnsupported}
	ErrUnknownPrincipal      = &Error{Kind: CodeUnknownPrincipal}
	ErrInvalidAttribute      = &Error{Kind: CodeInvalidAttribute}
	ErrUnknownSP             = &Error{Kind: CodeUnknownSP}
	ErrACSNotInMetadata      = &Error{Kind: CodeACSNotInMetadata}
	ErrACSNotHTTPS           = &Error{Kind: CodeACSNotHTTPS}
	ErrNoDiscovery           = &Error{Kind: CodeNoDiscovery}
	ErrBootstrapUnencrypted  = &Error{Kind: CodeBootstrapUnencrypted}
	ErrNoSession             = &Error{Kind: CodeNoSession}
	ErrSessionExpired        = &Error{Kind: CodeSessionExpired}
	ErrInvalidRequest        = &Error{Kind: CodeInvalidRequest}
	ErrUnknownRequest        = &Error{Kind: CodeUnknownRequest}
	ErrTooLarge              = &Error{Kind: CodeTooLarge}
	ErrInflateBomb           = &Error{Kind: CodeInflateBomb}
	ErrMediaType             = &Error{Kind: CodeMediaType}
	ErrSubjectMismatch       = &Error{Kind: CodeSubjectMismatch}
	ErrTooManyRequests       = &Error{Kind: CodeTooManyRequests}
	ErrBusy                  = &Error{Kind: CodeBusy}
)

// Errorf returns an *Error of code c with a formatted private detail.
func Errorf(c Code, format string, args ...any) *Error { return kinderr.New(c, format, args...) }

// Wrap returns an *Error of code c caused by err.
func Wrap(c Code, err error, detail string) *Error { return kinderr.Wrap(c, err, detail) }

// Status is how an error is answered: the SAML status codes of a
// samlp:Response (top level and second level), the public StatusMessage,
// the kind of error page (its HTTP status is the adapter's: Page.HTTP in
// errors_http.go), and whether nothing at all may be sent to the SP
// (SAML2.md §3.1: with an unknown SP or an ACS URL not in its metadata
// there is nowhere safe to send a response, so only an error page is
// shown).
type Status struct {
	Top, Second string
	Message     string
	Page        Page
	SendNothing bool
}

// Page is the kind of error page an error is shown on: the engine decides
// it in the one table below, the HTTP adapter turns it into a status code.
type Page int

// The kinds of error page.
const (
	pageInternal    Page = iota // the IdP failed
	pageBadRequest              // the request is malformed or unsupported
	pageForbidden               // authentication or authorization refused
	pageUnavailable             // a dependency (revocation data) is unavailable
	pageTooLarge                // the request is too large
	pageMediaType               // the body is not of the media type the endpoint takes
	pageTooMany                 // the client sent too many requests
	pageBusy                    // the service is at its limit for everyone
)

type entry struct {
	top, second string
	public      string
	page        Page
	nothing     bool
}

// entries is the one table of the engine's errors (STYLE "Protocol errors
// are typed values mapped through one table").
var entries = map[Code]entry{
	CodeInternal:                {samlp.StatusResponder, "", "internal error", pageInternal, false},
	CodeNoCertificate:           {samlp.StatusResponder, samlp.StatusAuthnFailed, "no client certificate was presented", pageForbidden, false},
	CodeCertExpired:             {samlp.StatusResponder, samlp.StatusAuthnFailed, "the certificate has expired", pageForbidden, false},
	CodeCertNotYetValid:         {samlp.StatusResponder, samlp.StatusAuthnFailed, "the certificate is not yet valid", pageForbidden, false},
	CodeCertRevoked:             {samlp.StatusResponder, samlp.StatusAuthnFailed, "the certificate has been revoked", pageForbidden, false},
	CodeForeignIssuer:           {samlp.StatusResponder, samlp.StatusAuthnFailed, "the certificate is not from an accepted issuer", pageForbidden, false},
	CodeCertUsage:               {samlp.StatusResponder, samlp.StatusAuthnFailed, "the certificate is not for client authentication", pageForbidden, false},
	CodeRevocationUnavailable:   {samlp.StatusResponder, samlp.StatusAuthnFailed, "revocation status is unavailable", pageUnavailable, false},
	CodeUnknownCard:             {samlp.StatusResponder, samlp.StatusAuthnFailed, "the card is not registered", pageForbidden, false},
	CodeVersionMismatch:         {samlp.StatusVersionMismatch, "", "SAML version not supported", pageBadRequest, false},
	CodeAuthnFailed:             {samlp.StatusResponder, samlp.StatusAuthnFailed, "authentication failed", pageForbidden, false},
	CodeInvalidNameIDPolicy:     {samlp.StatusRequester, samlp.StatusInvalidNameIDPolicy, "the name identifier policy cannot be satisfied", pageBadRequest, false},
	CodeUnsupportedNameIDFormat: {samlp.StatusRequester, samlp.StatusInvalidNameIDPolicy, "name identifier format not supported", pageBadRequest, false},
	CodeNoPassive:               {samlp.StatusResponder, samlp.StatusNoPassive, "passive authentication not possible", pageForbidden, false},
	CodeNoAuthnContext:          {samlp.StatusResponder, samlp.StatusNoAuthnContext, "the requested authentication context cannot be met", pageForbidden, false},
	CodeRequestDenied:           {samlp.StatusRequester, samlp.StatusRequestDenied, "request denied", pageForbidden, false},
	CodeUnsupportedBinding:      {samlp.StatusRequester, samlp.StatusUnsupportedBinding, "binding not supported", pageBadRequest, false},
	CodeRequestUnsupported:      {samlp.StatusResponder, samlp.StatusRequestUnsupported, "request not supported", pageBadRequest, false},
	CodeUnknownPrincipal:        {samlp.StatusRequester, samlp.StatusUnknownPrincipal, "unknown principal", pageBadRequest, false},
	CodeInvalidAttribute:        {samlp.StatusRequester, samlp.StatusInvalidAttrNameOrValue, "invalid attribute name or value", pageBadRequest, false},
	CodeUnknownSP:               {samlp.StatusRequester, "", "the service provider is not known", pageBadRequest, true},
	CodeACSNotInMetadata:        {samlp.StatusRequester, "", "the response location is not registered for the service provider", pageBadRequest, true},
	CodeACSNotHTTPS:             {samlp.StatusRequester, "", "the response location is registered but is not an https address", pageBadRequest, true},
	CodeNoDiscovery:             {samlp.StatusResponder, "", "the discovery service cannot receive a token", pageInternal, false},
	CodeBootstrapUnencrypted:    {samlp.StatusResponder, "", "the discovery bootstrap needs an encrypted assertion", pageInternal, false},
	CodeNoSession:               {samlp.StatusResponder, "", "no session", pageForbidden, false},
	CodeSessionExpired:          {samlp.StatusResponder, "", "the session has expired", pageForbidden, false},
	CodeInvalidRequest:          {samlp.StatusRequester, "", "the request is malformed", pageBadRequest, false},
	CodeUnknownRequest:          {samlp.StatusRequester, "", "the login request is unknown or has expired", pageBadRequest, true},
	CodeTooLarge:                {samlp.StatusRequester, "", "the request is too large", pageTooLarge, true},
	CodeInflateBomb:             {samlp.StatusRequester, "", "the compressed request inflates beyond the accepted size", pageBadRequest, true},
	CodeMediaType:               {samlp.StatusRequester, "", "the request is not a SOAP message (text/xml)", pageMediaType, true},
	CodeSubjectMismatch:         {samlp.StatusResponder, samlp.StatusAuthnFailed, "the user who logged in is not the one the service asked for", pageForbidden, false},
	CodeTooManyRequests:         {samlp.StatusResponder, "", "too many login requests from your address", pageTooMany, true},
	CodeBusy:                    {samlp.StatusResponder, "", "the login service is busy", pageBusy, true},
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
		code = e.Kind
	}
	t := table(code)
	return Status{Top: t.top, Second: t.second, Message: t.public, Page: t.page, SendNothing: t.nothing}
}

// CodeOf returns the engine code of err, CodeInternal when it has none.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return CodeInternal
}
