package saml

import "fmt"

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

// Error is the package's typed error. Kind is public; Detail and Err are
// the private cause, for logs only.
type Error struct {
	Kind   Kind
	Detail string
	Err    error
}

// Errorf returns an *Error of kind k with a formatted detail.
func Errorf(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Detail: fmt.Sprintf(format, args...)}
}

// Error returns the kind, then the detail and cause when present.
func (e *Error) Error() string {
	s := "saml: " + e.Kind.String()
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

// Is reports whether target is a bare *Error of the same kind, so that
// errors.Is(err, saml.ErrExpired) matches any expiry failure.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Kind == e.Kind && t.Detail == "" && t.Err == nil
}

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
