package samlp

import (
	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/wire"
)

// The saml package encodes Subject and Conditions only inside an Assertion
// and decodes them only from a verified one; an AuthnRequest needs both on
// their own. The encoders below borrow the saml package's (one writer per
// type) through a throwaway Assertion; the decoders read the subset a
// request may carry.

// assertionChild renders a through the saml package and detaches its child
// {saml}local, whose namespace prefix parent already declares.
func assertionChild(a *saml.Assertion, local string) *etree.Element {
	el := a.Element()
	c := firstChild(el, saml.NS, local)
	el.RemoveChild(c)
	return c
}

func appendSubject(parent *etree.Element, s *saml.Subject) {
	parent.AddChild(assertionChild(&saml.Assertion{Subject: s}, "Subject"))
}

func conditionsElement(c *saml.Conditions) *etree.Element {
	return assertionChild(&saml.Assertion{Conditions: c}, "Conditions")
}

// decodeRequestSubject reads the saml:Subject of an AuthnRequest: a NameID
// or an EncryptedID, and no SubjectConfirmation, which SAML Profiles §4.1.4.1
// forbids in this request ("MUST NOT contain any <SubjectConfirmation>").
func decodeRequestSubject(el *etree.Element) (*saml.Subject, error) {
	s := &saml.Subject{}
	for _, c := range el.ChildElements() {
		switch {
		case wire.Is(c, saml.NS, "NameID") && s.NameID == nil && s.EncryptedID == nil:
			n, err := decodeNameID(c)
			if err != nil {
				return nil, err
			}
			s.NameID = n
		case wire.Is(c, saml.NS, "EncryptedID") && s.NameID == nil && s.EncryptedID == nil:
			s.EncryptedID = &saml.EncryptedID{Element: xmlsec.DetachCopy(c)}
		case wire.Is(c, saml.NS, "SubjectConfirmation"):
			return nil, Errorf(KindSubject, "saml:SubjectConfirmation in an AuthnRequest")
		default:
			return nil, xmlsec.Errorf(xmlsec.KindMalformed, "%s in saml:Subject", wire.Name(c))
		}
	}
	if s.NameID == nil && s.EncryptedID == nil {
		return nil, Errorf(KindSubject, "saml:Subject without an identifier")
	}
	return s, nil
}

func decodeNameID(el *etree.Element) (*saml.NameID, error) {
	v, err := wire.Text(el)
	if err != nil {
		return nil, err
	}
	if v == "" {
		return nil, xmlsec.Errorf(xmlsec.KindMalformed, "empty saml:NameID")
	}
	n := &saml.NameID{Value: v}
	n.Format, _ = wire.Attr(el, "Format")
	n.NameQualifier, _ = wire.Attr(el, "NameQualifier")
	n.SPNameQualifier, _ = wire.Attr(el, "SPNameQualifier")
	n.SPProvidedID, _ = wire.Attr(el, "SPProvidedID")
	return n, nil
}

// decodeConditions reads the saml:Conditions of a request: validity window,
// audience restrictions and OneTimeUse. Other conditions are refused, as SAML
// Core §2.5.1 makes an unknown condition Indeterminate.
func decodeConditions(el *etree.Element) (*saml.Conditions, error) {
	c := &saml.Conditions{}
	var err error
	if c.NotBefore, err = wire.TimeAttr(el, "NotBefore"); err != nil {
		return nil, err
	}
	if c.NotOnOrAfter, err = wire.TimeAttr(el, "NotOnOrAfter"); err != nil {
		return nil, err
	}
	for _, ch := range el.ChildElements() {
		switch {
		case wire.Is(ch, saml.NS, "AudienceRestriction"):
			ar, err := decodeAudienceRestriction(ch)
			if err != nil {
				return nil, err
			}
			c.AudienceRestrictions = append(c.AudienceRestrictions, ar)
		case wire.Is(ch, saml.NS, "OneTimeUse") && !c.OneTimeUse:
			c.OneTimeUse = true
		default:
			return nil, xmlsec.Errorf(xmlsec.KindMalformed, "condition %s not understood", wire.Name(ch))
		}
	}
	return c, nil
}

func decodeAudienceRestriction(el *etree.Element) (saml.AudienceRestriction, error) {
	var ar saml.AudienceRestriction
	for _, a := range el.ChildElements() {
		if !wire.Is(a, saml.NS, "Audience") {
			return ar, xmlsec.Errorf(xmlsec.KindMalformed, "%s in saml:AudienceRestriction", wire.Name(a))
		}
		v, err := wire.URI(a)
		if err != nil {
			return ar, err
		}
		ar.Audiences = append(ar.Audiences, v)
	}
	if len(ar.Audiences) == 0 {
		return ar, xmlsec.Errorf(xmlsec.KindMalformed, "saml:AudienceRestriction without saml:Audience")
	}
	return ar, nil
}
