// Package binding carries SAML 2.0 protocol messages over HTTP and SOAP, as
// SAML Bindings §3 defines: HTTP-Redirect with its query-string signature,
// HTTP-POST with an auto-submitting form, the SOAP 1.1 binding, and the
// PAOS/ECP headers of the Enhanced Client or Proxy profile (SAML Profiles
// §4.2).
//
// Decoders read untrusted bytes with bounded memory: an oversized query,
// form body or inflated message is refused with an *xmlsec.Error of kind
// KindTooLarge before more than the limit is held. Messages are parsed with
// xmlsec.Parse. A Redirect message is read through Verify, which checks the
// query signature, or, when the receiver's policy accepts it unsigned,
// UnsignedElement; before that, Unverified gives the element for a key
// lookup only (samlp.Peek). A POST or SOAP message carries its XML
// signature inside and is verified by the caller (samlp.VerifyResponse,
// saml.VerifyAssertion, ...).
//
// Binding-level failures are *Error with a Kind; XML, size and signature
// failures are *xmlsec.Error.
package binding

import (
	"fmt"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/internal/kinderr"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/wire"
)

// Parameter names of the HTTP bindings (SAML Bindings §3.4.4, §3.5.4).
const (
	ParamRequest    = "SAMLRequest"
	ParamResponse   = "SAMLResponse"
	ParamRelayState = "RelayState"
	ParamSigAlg     = "SigAlg"
	ParamSignature  = "Signature"
	ParamEncoding   = "SAMLEncoding"
)

// EncodingDEFLATE is the only SAMLEncoding defined (SAML Bindings §3.4.4.1),
// the default when the parameter is absent.
const EncodingDEFLATE = "urn:oasis:names:tc:SAML:2.0:bindings:URL-Encoding:DEFLATE"

// MaxRelayState is the longest RelayState accepted or sent: SAML Bindings
// §3.4.3 and §3.5.3 ("MUST NOT exceed 80 bytes in length").
const MaxRelayState = 80

// Default limits of the decoders.
const (
	DefaultMaxInflated = 256 << 10 // inflated HTTP-Redirect message
	DefaultMaxQuery    = 64 << 10  // raw HTTP-Redirect query string
	DefaultMaxBody     = 1 << 20   // HTTP-POST form body and SOAP envelope
)

// Kind classifies a binding-level failure.
type Kind int

// The kinds of binding failure.
const (
	KindParameter  Kind = iota + 1 // a parameter is missing, repeated or not allowed
	KindEncoding                   // bad URL encoding, base64 or DEFLATE data
	KindRelayState                 // RelayState longer than MaxRelayState
	KindMessage                    // the message is not one the binding carries here
	KindSOAP                       // a SOAP envelope the binding cannot accept
)

var kindText = map[Kind]string{
	KindParameter:  "bad parameter",
	KindEncoding:   "bad encoding",
	KindRelayState: "RelayState too long",
	KindMessage:    "bad message",
	KindSOAP:       "bad SOAP envelope",
}

// String returns the public, stable text of the kind.
func (k Kind) String() string {
	if s, ok := kindText[k]; ok {
		return s
	}
	return fmt.Sprintf("binding.Kind(%d)", int(k))
}

// Error is the package's typed error (internal/kinderr). Kind is public;
// Detail and Err are the private cause, for logs only.
type Error = kinderr.Error[Kind]

// Package names the package in error texts.
func (Kind) Package() string { return "binding" }

// Sentinels for errors.Is, one per kind.
var (
	ErrParameter  = &Error{Kind: KindParameter}
	ErrEncoding   = &Error{Kind: KindEncoding}
	ErrRelayState = &Error{Kind: KindRelayState}
	ErrMessage    = &Error{Kind: KindMessage}
	ErrSOAP       = &Error{Kind: KindSOAP}
)

func errorf(k Kind, format string, args ...any) *Error { return kinderr.New(k, format, args...) }

// checkRelayState enforces MaxRelayState.
func checkRelayState(rs string) error {
	if len(rs) > MaxRelayState {
		return errorf(KindRelayState, "%d bytes", len(rs))
	}
	return nil
}

// paramFor returns the parameter a message travels in: SAMLResponse for a
// status response, SAMLRequest for anything else of the protocol namespace.
func paramFor(el *etree.Element) (string, error) {
	if el == nil || el.NamespaceURI() != saml.NSProtocol {
		return "", errorf(KindMessage, "not a SAML protocol message")
	}
	if len(wire.Children(el, saml.NSProtocol, "Status")) > 0 {
		return ParamResponse, nil
	}
	return ParamRequest, nil
}

// checkParam refuses a message that came in the wrong parameter.
func checkParam(param string, el *etree.Element) error {
	want, err := paramFor(el)
	if err != nil {
		return err
	}
	if want != param {
		return errorf(KindMessage, "%s in %s", wire.Name(el), param)
	}
	return nil
}

// parse reads the message bytes with limits.
func parse(b []byte, lim xmlsec.Limits) (*etree.Element, error) {
	return xmlsec.ParseElement(b, lim)
}
