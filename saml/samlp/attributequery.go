package samlp

import (
	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
	"github.com/renkei-idwsf/renkei/xmlsec/wire"
)

// AttributeQuery is a samlp:AttributeQuery (SAML Core §3.3.2.3): the
// subject as a NameID or an EncryptedID, and the attributes asked for,
// none meaning every attribute the requester may receive. The answer is a
// samlp:Response.
type AttributeQuery struct {
	RequestHeader
	Signed      bool
	NameID      *saml.NameID
	EncryptedID *saml.EncryptedID
	Attributes  []saml.Attribute
}

var _ Message = (*AttributeQuery)(nil)

// attributeQueryChildren is the content model of samlp:AttributeQueryType.
var attributeQueryChildren = []qname{qIssuer, qSignature, qExtensions, {saml.NS, "Subject"}, {saml.NS, "Attribute"}}

// Element renders the query as a samlp:AttributeQuery, children in schema
// order.
func (q *AttributeQuery) Element() *etree.Element {
	el := q.RequestHeader.element("AttributeQuery")
	appendSubject(el, &saml.Subject{NameID: q.NameID, EncryptedID: q.EncryptedID})
	if len(q.Attributes) > 0 {
		st := assertionChild(&saml.Assertion{AttributeStatements: []saml.AttributeStatement{{Attributes: q.Attributes}}}, "AttributeStatement")
		for _, a := range st.ChildElements() {
			st.RemoveChild(a)
			el.AddChild(a)
		}
	}
	return el
}

// DecodeAttributeQuery reads a samlp:AttributeQuery that the caller has
// authenticated (VerifyAttributeQuery, or an authenticated SOAP channel).
// SAML Core §3.3.2.3: an attribute is named at most once in a query (same
// Name and NameFormat), which is refused otherwise.
func DecodeAttributeQuery(el *etree.Element) (*AttributeQuery, error) {
	if err := expect(el, "AttributeQuery"); err != nil {
		return nil, err
	}
	q := &AttributeQuery{Signed: hasSignature(el)}
	if err := q.RequestHeader.decode(el); err != nil {
		return nil, err
	}
	if err := checkSequenceRepeating(el, attributeQueryChildren, qname{saml.NS, "Attribute"}); err != nil {
		return nil, err
	}
	subj := firstChild(el, saml.NS, "Subject")
	switch {
	case subj == nil:
		return nil, Errorf(KindSubject, "samlp:AttributeQuery without saml:Subject")
	case len(wire.Children(subj, saml.NS, "SubjectConfirmation")) > 0:
		return nil, Errorf(KindSubject, "saml:SubjectConfirmation in an AttributeQuery is not supported")
	}
	s, err := decodeRequestSubject(subj)
	if err != nil {
		return nil, err
	}
	q.NameID, q.EncryptedID = s.NameID, s.EncryptedID
	return q, q.decodeAttributes(el)
}

func (q *AttributeQuery) decodeAttributes(el *etree.Element) error {
	seen := map[[2]string]bool{}
	for _, c := range wire.Children(el, saml.NS, "Attribute") {
		a, err := saml.DecodeAttribute(c)
		if err != nil {
			return err
		}
		k := [2]string{a.Name, a.NameFormat}
		if seen[k] {
			return xmlsec.Errorf(xmlsec.KindMalformed, "attribute %q named twice (SAML Core §3.3.2.3)", a.Name)
		}
		seen[k] = true
		q.Attributes = append(q.Attributes, a)
	}
	return nil
}

// VerifyAttributeQuery checks the enveloped signature with v and decodes
// what was signed.
func VerifyAttributeQuery(el *etree.Element, v *dsig.Verifier) (*AttributeQuery, *etree.Element, error) {
	signed, err := verifyNamed(el, "AttributeQuery", v)
	if err != nil {
		return nil, nil, err
	}
	q, err := DecodeAttributeQuery(signed)
	if err != nil {
		return nil, nil, err
	}
	q.Signed = true
	return q, signed, nil
}
