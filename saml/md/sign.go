package md

import (
	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
	"github.com/renkei-idwsf/renkei/xmlsec/wire"
)

// Sign signs the rendered metadata of doc (an *EntitiesDescriptor or
// *EntityDescriptor, whose ID must be set) with s and returns the signed
// element. dsig places the ds:Signature as the first child, where SAML
// Metadata §3.1 and the schema want it.
func Sign(doc interface{ Element() *etree.Element }, s *dsig.Signer) (*etree.Element, error) {
	el := doc.Element()
	if id, _ := wire.Attr(el, "ID"); id == "" {
		return nil, Errorf(KindInvalid, "%s has no ID to reference from its signature", el.Tag)
	}
	return s.Sign(el)
}

// Verify checks the enveloped signature of a metadata document (an
// md:EntitiesDescriptor or md:EntityDescriptor, SAML Metadata §3.1) with v,
// whose trust set holds the operator's keys or those of the entity itself,
// and decodes only what was signed. The verified standalone copy is
// returned with it. Signature failures are the *xmlsec.Error kinds of
// dsig.Verifier.Verify (an unsigned document is xmlsec.ErrNoSignature).
// validUntil is not checked here: see Document.Check.
func Verify(el *etree.Element, v *dsig.Verifier) (*Document, *etree.Element, error) {
	if !isMetadata(el) {
		return nil, nil, xmlsec.Errorf(xmlsec.KindMalformed, "element is not SAML metadata")
	}
	signed, err := v.Verify(el)
	if err != nil {
		return nil, nil, err
	}
	doc, err := decodeDocument(signed)
	if err != nil {
		return nil, nil, err
	}
	return doc, signed, nil
}

// DecodeUnsigned decodes a metadata document without checking any
// signature. It is only for a source the caller has explicitly chosen to
// trust as it is, such as a file the operator placed on the server's own
// disk: anything fetched over a network goes through Verify.
func DecodeUnsigned(el *etree.Element) (*Document, error) {
	if !isMetadata(el) {
		return nil, xmlsec.Errorf(xmlsec.KindMalformed, "element is not SAML metadata")
	}
	return decodeDocument(el)
}

func isMetadata(el *etree.Element) bool {
	return wire.Is(el, NS, "EntitiesDescriptor") || wire.Is(el, NS, "EntityDescriptor")
}
