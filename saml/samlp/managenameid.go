package samlp

import (
	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
	"github.com/renkei-idwsf/renkei/xmlsec/wire"
)

// ManageNameIDRequest is a samlp:ManageNameIDRequest (SAML Core §3.6.1):
// the current identifier (NameID or EncryptedID), then exactly one of a new
// identifier (NewID, the plaintext, or NewEncryptedID, kept encrypted as the
// samlp:NewEncryptedID element) or Terminate.
type ManageNameIDRequest struct {
	RequestHeader
	Signed         bool
	NameID         *saml.NameID
	EncryptedID    *saml.EncryptedID
	NewID          string
	NewEncryptedID *etree.Element
	Terminate      bool
}

// ManageNameIDResponse is a samlp:ManageNameIDResponse (SAML Core §3.6.2).
type ManageNameIDResponse struct {
	StatusResponseHeader
	Signed bool
}

var (
	_ Message = (*ManageNameIDRequest)(nil)
	_ Message = (*ManageNameIDResponse)(nil)
)

// Element renders the request as a samlp:ManageNameIDRequest, children in
// schema order.
func (r *ManageNameIDRequest) Element() *etree.Element {
	el := r.RequestHeader.element("ManageNameIDRequest")
	appendIdentifier(el, r.NameID, r.EncryptedID)
	switch {
	case r.Terminate:
		el.CreateElement("samlp:Terminate")
	case r.NewEncryptedID != nil:
		el.AddChild(xmlsec.DetachCopy(r.NewEncryptedID))
	default:
		wire.TextElement(el, "samlp:NewID", r.NewID)
	}
	return el
}

// Element renders the response as a samlp:ManageNameIDResponse.
func (r *ManageNameIDResponse) Element() *etree.Element {
	return r.StatusResponseHeader.element("ManageNameIDResponse")
}

var manageNameIDChildren = []qname{qIssuer, qSignature, qExtensions,
	{saml.NS, "NameID"}, {saml.NS, "EncryptedID"}, {NS, "NewID"}, {NS, "NewEncryptedID"}, {NS, "Terminate"}}

// DecodeManageNameIDRequest reads a samlp:ManageNameIDRequest that the
// caller has authenticated (VerifyManageNameIDRequest, a Redirect query
// signature, or an authenticated SOAP channel).
func DecodeManageNameIDRequest(el *etree.Element) (*ManageNameIDRequest, error) {
	if err := expect(el, "ManageNameIDRequest"); err != nil {
		return nil, err
	}
	r := &ManageNameIDRequest{Signed: hasSignature(el)}
	if err := r.RequestHeader.decode(el); err != nil {
		return nil, err
	}
	if err := checkSequence(el, manageNameIDChildren); err != nil {
		return nil, err
	}
	var err error
	if r.NameID, r.EncryptedID, err = decodeIdentifier(el); err != nil {
		return nil, err
	}
	return r, r.decodeChange(el)
}

// decodeChange reads the one NewID, NewEncryptedID or Terminate.
func (r *ManageNameIDRequest) decodeChange(el *etree.Element) error {
	n := wire.Children(el, NS, "NewID")
	e := wire.Children(el, NS, "NewEncryptedID")
	t := wire.Children(el, NS, "Terminate")
	if len(n)+len(e)+len(t) != 1 {
		return xmlsec.Errorf(xmlsec.KindMalformed, "samlp:ManageNameIDRequest needs one of NewID, NewEncryptedID, Terminate")
	}
	switch {
	case len(t) == 1:
		if len(t[0].ChildElements()) > 0 {
			return xmlsec.Errorf(xmlsec.KindMalformed, "samlp:Terminate is empty")
		}
		r.Terminate = true
	case len(e) == 1:
		r.NewEncryptedID = xmlsec.DetachCopy(e[0])
	default:
		v, err := wire.Text(n[0])
		if err != nil {
			return err
		}
		if v == "" {
			return xmlsec.Errorf(xmlsec.KindMalformed, "empty samlp:NewID")
		}
		r.NewID = v
	}
	return nil
}

// DecodeManageNameIDResponse reads a samlp:ManageNameIDResponse that the
// caller has authenticated.
func DecodeManageNameIDResponse(el *etree.Element) (*ManageNameIDResponse, error) {
	if err := expect(el, "ManageNameIDResponse"); err != nil {
		return nil, err
	}
	r := &ManageNameIDResponse{Signed: hasSignature(el)}
	if err := checkSequence(el, responseChildren); err != nil {
		return nil, err
	}
	return r, r.StatusResponseHeader.decode(el)
}

// VerifyManageNameIDRequest checks the enveloped signature with v and
// decodes what was signed.
func VerifyManageNameIDRequest(el *etree.Element, v *dsig.Verifier) (*ManageNameIDRequest, *etree.Element, error) {
	signed, err := verifyNamed(el, "ManageNameIDRequest", v)
	if err != nil {
		return nil, nil, err
	}
	r, err := DecodeManageNameIDRequest(signed)
	if err != nil {
		return nil, nil, err
	}
	r.Signed = true
	return r, signed, nil
}

// VerifyManageNameIDResponse checks the enveloped signature with v and
// decodes what was signed.
func VerifyManageNameIDResponse(el *etree.Element, v *dsig.Verifier) (*ManageNameIDResponse, *etree.Element, error) {
	signed, err := verifyNamed(el, "ManageNameIDResponse", v)
	if err != nil {
		return nil, nil, err
	}
	r, err := DecodeManageNameIDResponse(signed)
	if err != nil {
		return nil, nil, err
	}
	r.Signed = true
	return r, signed, nil
}
