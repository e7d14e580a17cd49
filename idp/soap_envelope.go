package idp

import (
	"github.com/renkei-idwsf/renkei/saml/binding"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// envelopeBytes serializes a SOAP envelope the IdP sends (an ECP answer,
// a SOAP LogoutResponse or ManageNameIDResponse, or a request of its
// own) after checking it against the schemas: the SOAP envelope, the ECP
// and PAOS headers and the SAML message in the Body together, which the
// check of the SAML message alone does not cover.
//
// The bytes are serialized once and, where the schema set can
// (xsd.Schema.ValidateParsed), those very bytes are what is validated.
func (s *SSO) envelopeBytes(env *binding.Envelope) ([]byte, error) {
	el := env.Element()
	b, err := xmlsec.Serialize(el)
	if err != nil {
		return nil, Wrap(CodeInternal, err, "serialize envelope")
	}
	if v, ok := s.cfg.Schema.(interface{ ValidateParsed([]byte) error }); ok {
		err = v.ValidateParsed(b)
	} else {
		err = s.cfg.Schema.ValidateElement(el)
	}
	if err != nil {
		return nil, Wrap(CodeInternal, err, "outgoing SOAP envelope is not schema-valid")
	}
	return b, nil
}

// faultBytes serializes a SOAP fault envelope, checked like any other.
func (s *SSO) faultBytes(f *binding.Fault) []byte {
	env := f.Envelope()
	if b, err := s.envelopeBytes(env); err == nil {
		return b
	}
	// A fault the schema refuses would be a defect of ours; the plain
	// Server fault is always valid.
	b, _ := xmlsec.Serialize((&binding.Fault{Code: binding.FaultServer, String: "internal error"}).Envelope().Element())
	return b
}
