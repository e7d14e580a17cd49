package samlp

import (
	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
	"github.com/renkei-idwsf/renkei/xmlsec/wire"
)

// Unverified is what a receiver may read from a protocol message before any
// signature check, to find the keys to check it with: nothing in it is
// trusted. Element is the message as received.
type Unverified struct {
	Element      *etree.Element
	Name         string // local name: "AuthnRequest", "Response", ...
	Version      string // as sent: a responder answers anything but "2.0" with VersionMismatch
	ID           string
	InResponseTo string
	Destination  string
	Issuer       *saml.Issuer
	Signed       bool // a ds:Signature child is present
}

// Peek reads the unverified header of any samlp message. Any Version is
// returned, so that a responder can answer one other than 2.0 with a
// VersionMismatch status in response to the message's ID (SAML Core
// §3.2.2.2); the decoders refuse it.
func Peek(el *etree.Element) (*Unverified, error) {
	if el == nil || el.NamespaceURI() != NS {
		return nil, xmlsec.Errorf(xmlsec.KindMalformed, "not a SAML protocol message")
	}
	c, err := decodeCommonAnyVersion(el)
	if err != nil {
		return nil, err
	}
	u := &Unverified{Element: el, Name: el.Tag, ID: c.id, Destination: c.dest, Issuer: c.issuer, Signed: hasSignature(el)}
	u.Version, _ = wire.Attr(el, "Version")
	u.InResponseTo, _ = wire.Attr(el, "InResponseTo")
	return u, nil
}

// UnverifiedResponse is a samlp:Response read before any signature check:
// the header and status of Unverified, and its assertions in place in the
// received tree, ready for saml.VerifyAssertion (which checks IDs across the
// whole document). Status is untrusted unless the Response itself verifies.
type UnverifiedResponse struct {
	Unverified
	Status     Status
	Assertions []*etree.Element
}

// PeekResponse reads a samlp:Response before verification.
func PeekResponse(el *etree.Element) (*UnverifiedResponse, error) {
	if !wire.Is(el, NS, "Response") {
		return nil, xmlsec.Errorf(xmlsec.KindMalformed, "%s is not a samlp:Response", wire.Name(el))
	}
	u, err := Peek(el)
	if err != nil {
		return nil, err
	}
	if u.Version != saml.Version {
		return nil, versionError(u.Version)
	}
	var h StatusResponseHeader
	if err = h.decode(el); err != nil {
		return nil, err
	}
	as, err := assertionChildren(el)
	if err != nil {
		return nil, err
	}
	return &UnverifiedResponse{Unverified: *u, Status: h.Status, Assertions: as}, nil
}

// VerifyAuthnRequest checks the enveloped signature of a samlp:AuthnRequest
// with v and decodes what was signed. The returned element is the verified
// standalone copy. Signed is true in the result.
func VerifyAuthnRequest(el *etree.Element, v *dsig.Verifier) (*AuthnRequest, *etree.Element, error) {
	if !wire.Is(el, NS, "AuthnRequest") {
		return nil, nil, xmlsec.Errorf(xmlsec.KindMalformed, "%s is not a samlp:AuthnRequest", wire.Name(el))
	}
	signed, err := v.Verify(el)
	if err != nil {
		return nil, nil, err
	}
	r, err := DecodeAuthnRequest(signed)
	if err != nil {
		return nil, nil, err
	}
	r.Signed = true
	return r, signed, nil
}

// VerifyResponse checks the enveloped signature of a samlp:Response with v
// and decodes what was signed: header, status and the assertions as signed.
func VerifyResponse(el *etree.Element, v *dsig.Verifier) (*Response, *etree.Element, error) {
	if !wire.Is(el, NS, "Response") {
		return nil, nil, xmlsec.Errorf(xmlsec.KindMalformed, "%s is not a samlp:Response", wire.Name(el))
	}
	signed, err := v.Verify(el)
	if err != nil {
		return nil, nil, err
	}
	r, err := DecodeResponse(signed)
	if err != nil {
		return nil, nil, err
	}
	r.Signed = true
	return r, signed, nil
}
