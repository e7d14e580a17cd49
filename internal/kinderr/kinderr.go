// Package kinderr is the typed error Renkei's packages share (xmlsec,
// saml, saml/md, saml/samlp, saml/binding, wsf, idp): a Kind that names the
// public, stable class of a failure, and a Detail and cause that are
// private, for logs only. Each package declares its own Kind type and its
// sentinels, and names the instance: `type Error = kinderr.Error[Kind]`. A
// package whose error carries wire fields besides (wsf.Error: the offending
// element's ref, a redirect URL) keeps its own struct and takes its text
// and errors.Is matching from an Error[Kind] of the same kind and cause.
package kinderr

import "fmt"

// Kind is a package's kind type: comparable, with the public text of each
// kind and the name of the package that declares it.
type Kind interface {
	comparable
	String() string
	Package() string
}

// Error is a failure of kind K. Kind is public; Detail and Err are the
// private cause.
type Error[K Kind] struct {
	Kind   K
	Detail string
	Err    error
}

// New returns an *Error of kind k with a formatted detail.
func New[K Kind](k K, format string, args ...any) *Error[K] {
	return &Error[K]{Kind: k, Detail: fmt.Sprintf(format, args...)}
}

// Wrap returns an *Error of kind k caused by err, with an optional detail.
func Wrap[K Kind](k K, err error, detail string) *Error[K] {
	return &Error[K]{Kind: k, Detail: detail, Err: err}
}

// Error returns the package, the kind, then the detail and cause when
// present.
func (e *Error[K]) Error() string {
	s := e.Kind.Package() + ": " + e.Kind.String()
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *Error[K]) Unwrap() error { return e.Err }

// Is reports whether target is a bare *Error of the same kind (a sentinel:
// no detail, no cause), so that errors.Is(err, pkg.ErrX) matches every
// failure of kind X.
func (e *Error[K]) Is(target error) bool {
	t, ok := target.(*Error[K])
	return ok && t.Kind == e.Kind && t.Detail == "" && t.Err == nil
}
