package samlp

import (
	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
	"github.com/renkei-idwsf/renkei/xmlsec/wire"
)

// NameIDMappingRequest is a samlp:NameIDMappingRequest (SAML Core §3.8.1):
// the principal as the requester knows it (NameID or EncryptedID) and the
// NameIDPolicy of the identifier wanted, whose SPNameQualifier names the
// provider it is wanted for.
type NameIDMappingRequest struct {
	RequestHeader
	Signed      bool
	NameID      *saml.NameID
	EncryptedID *saml.EncryptedID
	Policy      NameIDPolicy
}

// NameIDMappingResponse is a samlp:NameIDMappingResponse (SAML Core
// §3.8.2): on success, the mapped identifier as a NameID or, as this IdP
// always sends it, an EncryptedID for the provider it names.
type NameIDMappingResponse struct {
	StatusResponseHeader
	Signed      bool
	NameID      *saml.NameID
	EncryptedID *saml.EncryptedID
}

var (
	_ Message = (*NameIDMappingRequest)(nil)
	_ Message = (*NameIDMappingResponse)(nil)
)

var (
	nameIDMappingRequestChildren = []qname{qIssuer, qSignature, qExtensions,
		{saml.NS, "NameID"}, {saml.NS, "EncryptedID"}, {NS, "NameIDPolicy"}}
	nameIDMappingResponseChildren = []qname{qIssuer, qSignature, qExtensions, {NS, "Status"},
		{saml.NS, "NameID"}, {saml.NS, "EncryptedID"}}
)

// Element renders the request as a samlp:NameIDMappingRequest.
func (r *NameIDMappingRequest) Element() *etree.Element {
	el := r.RequestHeader.element("NameIDMappingRequest")
	appendIdentifier(el, r.NameID, r.EncryptedID)
	pe := el.CreateElement("samlp:NameIDPolicy")
	wire.SetAttr(pe, "Format", r.Policy.Format)
	wire.SetAttr(pe, "SPNameQualifier", r.Policy.SPNameQualifier)
	setBool(pe, "AllowCreate", r.Policy.AllowCreate)
	return el
}

// Element renders the response as a samlp:NameIDMappingResponse; the
// identifier follows the Status.
func (r *NameIDMappingResponse) Element() *etree.Element {
	el := r.StatusResponseHeader.element("NameIDMappingResponse")
	appendIdentifier(el, r.NameID, r.EncryptedID)
	return el
}

// DecodeNameIDMappingRequest reads a samlp:NameIDMappingRequest that the
// caller has authenticated: exactly one identifier and the required
// NameIDPolicy.
func DecodeNameIDMappingRequest(el *etree.Element) (*NameIDMappingRequest, error) {
	if err := expect(el, "NameIDMappingRequest"); err != nil {
		return nil, err
	}
	r := &NameIDMappingRequest{Signed: hasSignature(el)}
	if err := r.RequestHeader.decode(el); err != nil {
		return nil, err
	}
	if err := checkSequence(el, nameIDMappingRequestChildren); err != nil {
		return nil, err
	}
	var err error
	if r.NameID, r.EncryptedID, err = decodeIdentifier(el); err != nil {
		return nil, err
	}
	p := firstChild(el, NS, "NameIDPolicy")
	if p == nil {
		return nil, xmlsec.Errorf(xmlsec.KindMalformed, "samlp:NameIDMappingRequest without samlp:NameIDPolicy")
	}
	pol, err := decodeNameIDPolicy(p)
	if err != nil {
		return nil, err
	}
	r.Policy = *pol
	return r, nil
}

// DecodeNameIDMappingResponse reads a samlp:NameIDMappingResponse that the
// caller has authenticated. A Success response carries exactly one
// identifier (SAML Core §3.8.2); the identifier of any other, which the
// schema requires and which a responder may leave empty, is not read.
func DecodeNameIDMappingResponse(el *etree.Element) (*NameIDMappingResponse, error) {
	if err := expect(el, "NameIDMappingResponse"); err != nil {
		return nil, err
	}
	r := &NameIDMappingResponse{Signed: hasSignature(el)}
	if err := checkSequence(el, nameIDMappingResponseChildren); err != nil {
		return nil, err
	}
	if err := r.StatusResponseHeader.decode(el); err != nil {
		return nil, err
	}
	if !r.Status.Success() {
		return r, nil
	}
	var err error
	r.NameID, r.EncryptedID, err = decodeIdentifier(el)
	return r, err
}

// VerifyNameIDMappingRequest checks the enveloped signature with v and
// decodes what was signed.
func VerifyNameIDMappingRequest(el *etree.Element, v *dsig.Verifier) (*NameIDMappingRequest, *etree.Element, error) {
	signed, err := verifyNamed(el, "NameIDMappingRequest", v)
	if err != nil {
		return nil, nil, err
	}
	r, err := DecodeNameIDMappingRequest(signed)
	if err != nil {
		return nil, nil, err
	}
	r.Signed = true
	return r, signed, nil
}

// VerifyNameIDMappingResponse checks the enveloped signature with v and
// decodes what was signed.
func VerifyNameIDMappingResponse(el *etree.Element, v *dsig.Verifier) (*NameIDMappingResponse, *etree.Element, error) {
	signed, err := verifyNamed(el, "NameIDMappingResponse", v)
	if err != nil {
		return nil, nil, err
	}
	r, err := DecodeNameIDMappingResponse(signed)
	if err != nil {
		return nil, nil, err
	}
	r.Signed = true
	return r, signed, nil
}
