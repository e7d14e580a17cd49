package samlp

import (
	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/wire"
)

// Response is a samlp:Response (SAML Core §3.3.3). Assertions holds its
// saml:Assertion and saml:EncryptedAssertion children as elements, in
// document order: each is verified (saml.VerifyAssertion) or decrypted on its
// own. Signed reports, after decoding, whether the Response carried a
// ds:Signature child.
type Response struct {
	StatusResponseHeader
	Signed     bool
	Assertions []*etree.Element
}

// responseChildren is the content model of samlp:ResponseType.
var responseChildren = []qname{qIssuer, qSignature, qExtensions, {NS, "Status"}}

// Element renders the response as a samlp:Response, children in schema
// order: Issuer, Extensions, Status, then the assertions.
func (r *Response) Element() *etree.Element {
	el := r.StatusResponseHeader.element("Response")
	for _, a := range r.Assertions {
		el.AddChild(xmlsec.DetachCopy(a))
	}
	return el
}

// DecodeResponse reads a samlp:Response that the caller has authenticated:
// the copy VerifyResponse returns, or one received over an authenticated
// SOAP channel. The assertions are kept as standalone copies.
func DecodeResponse(el *etree.Element) (*Response, error) {
	if !wire.Is(el, NS, "Response") {
		return nil, xmlsec.Errorf(xmlsec.KindMalformed, "%s is not a samlp:Response", wire.Name(el))
	}
	r := &Response{Signed: hasSignature(el)}
	if err := r.StatusResponseHeader.decode(el); err != nil {
		return nil, err
	}
	as, err := assertionChildren(el)
	if err != nil {
		return nil, err
	}
	for _, a := range as {
		r.Assertions = append(r.Assertions, xmlsec.DetachCopy(a))
	}
	return r, nil
}

// assertionChildren checks the order of a Response's children and returns
// its assertions, in place.
func assertionChildren(el *etree.Element) ([]*etree.Element, error) {
	var as []*etree.Element
	var head []*etree.Element
	for _, c := range el.ChildElements() {
		switch {
		case wire.Is(c, saml.NS, "Assertion") || wire.Is(c, saml.NS, "EncryptedAssertion"):
			as = append(as, c)
		case len(as) > 0:
			return nil, xmlsec.Errorf(xmlsec.KindMalformed, "%s after an assertion", wire.Name(c))
		default:
			head = append(head, c)
		}
	}
	return as, checkElements(el, head, responseChildren)
}
