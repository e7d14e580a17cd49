// Package samlp holds the SAML 2.0 protocol messages (SAML Core §3) that
// Renkei's IdP and SP exchange: AuthnRequest and Response, over the shared
// request and status-response headers that LogoutRequest, ManageNameIDRequest
// and their responses reuse.
//
// Messages encode with Element, children in schema order; an enveloped
// signature is added afterwards with Sign (SAML Core §5.4.1: right after
// saml:Issuer). Decoding follows "verify first, then read only what was
// verified": VerifyAuthnRequest and VerifyResponse check the enveloped
// signature and decode the signed copy; DecodeAuthnRequest and DecodeResponse
// read an element that the caller authenticated another way (an HTTP-Redirect
// query signature, an authenticated SOAP channel). Before any verification
// only Peek and PeekResponse may be used, which return Unverified values: what
// a receiver needs to find the issuer's keys.
//
// Failures are typed: *Error for protocol rules, *saml.Error of kind
// KindVersion for a Version other than 2.0, and *xmlsec.Error for XML and
// signature failures.
package samlp

import (
	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
)

// NS is the SAML 2.0 protocol namespace (SAML Core §1.2).
const NS = saml.NSProtocol

// Binding URIs (SAML Bindings §3), for AuthnRequest ProtocolBinding and
// metadata endpoints.
const (
	BindingSOAP         = "urn:oasis:names:tc:SAML:2.0:bindings:SOAP"
	BindingPAOS         = "urn:oasis:names:tc:SAML:2.0:bindings:PAOS"
	BindingHTTPRedirect = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
	BindingHTTPPOST     = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
	BindingHTTPArtifact = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact"
	BindingURI          = "urn:oasis:names:tc:SAML:2.0:bindings:URI"
)

// Consent identifiers (SAML Core §8.4).
const (
	ConsentUnspecified  = "urn:oasis:names:tc:SAML:2.0:consent:unspecified"
	ConsentObtained     = "urn:oasis:names:tc:SAML:2.0:consent:obtained"
	ConsentPrior        = "urn:oasis:names:tc:SAML:2.0:consent:prior"
	ConsentImplicit     = "urn:oasis:names:tc:SAML:2.0:consent:current-implicit"
	ConsentExplicit     = "urn:oasis:names:tc:SAML:2.0:consent:current-explicit"
	ConsentUnavailable  = "urn:oasis:names:tc:SAML:2.0:consent:unavailable"
	ConsentInapplicable = "urn:oasis:names:tc:SAML:2.0:consent:inapplicable"
)

// NameIDFormatEncrypted is the NameIDPolicy Format asking for a
// saml:EncryptedID (SAML Core §8.3.10); it never appears on a NameID.
const NameIDFormatEncrypted = "urn:oasis:names:tc:SAML:2.0:nameid-format:encrypted"

// Message is a protocol message that renders itself as an element.
type Message interface {
	Element() *etree.Element
}

var (
	_ Message = (*AuthnRequest)(nil)
	_ Message = (*Response)(nil)
)

// Sign renders m and signs it enveloped with s: the ds:Signature lands right
// after saml:Issuer, as SAML Core §5.4.1 and the protocol schema want.
func Sign(m Message, s *dsig.Signer) (*etree.Element, error) {
	return s.Sign(m.Element())
}
