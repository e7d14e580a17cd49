package saml

import (
	"encoding/base64"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/xmlsec/wire"
)

// Element renders the assertion as a saml:Assertion element with the saml
// prefix declared on it, children in the order of SAML Core §2.3.3. An
// issuer's enveloped signature is added afterwards, as the second child.
func (a *Assertion) Element() *etree.Element {
	el := etree.NewElement("saml:Assertion")
	el.CreateAttr("xmlns:saml", NS)
	el.CreateAttr("Version", Version)
	el.CreateAttr("ID", a.ID)
	el.CreateAttr("IssueInstant", wire.FormatTime(a.IssueInstant))
	a.Issuer.appendTo(el, "saml:Issuer")
	if a.Subject != nil {
		a.Subject.appendTo(el)
	}
	if a.Conditions != nil {
		a.Conditions.appendTo(el)
	}
	for i := range a.AuthnStatements {
		a.AuthnStatements[i].appendTo(el)
	}
	for i := range a.AttributeStatements {
		a.AttributeStatements[i].appendTo(el)
	}
	return el
}

func (is Issuer) appendTo(parent *etree.Element, tag string) {
	c := wire.TextElement(parent, tag, is.Value)
	wire.SetAttr(c, "NameQualifier", is.NameQualifier)
	wire.SetAttr(c, "SPNameQualifier", is.SPNameQualifier)
	wire.SetAttr(c, "Format", is.Format)
}

// Element renders the NameID as a standalone saml:NameID, the plaintext an
// EncryptedID is made from.
func (n *NameID) Element() *etree.Element {
	el := etree.NewElement("saml:NameID")
	el.CreateAttr("xmlns:saml", NS)
	n.setAttrs(el)
	return el
}

func (n *NameID) appendTo(parent *etree.Element) {
	n.setAttrs(parent.CreateElement("saml:NameID"))
}

func (n *NameID) setAttrs(el *etree.Element) {
	wire.SetAttr(el, "NameQualifier", n.NameQualifier)
	wire.SetAttr(el, "SPNameQualifier", n.SPNameQualifier)
	wire.SetAttr(el, "Format", n.Format)
	wire.SetAttr(el, "SPProvidedID", n.SPProvidedID)
	el.SetText(n.Value)
}

func (s *Subject) appendTo(parent *etree.Element) {
	el := parent.CreateElement("saml:Subject")
	switch {
	case s.NameID != nil:
		s.NameID.appendTo(el)
	case s.EncryptedID != nil && s.EncryptedID.Element != nil:
		el.AddChild(s.EncryptedID.Element.Copy())
	}
	for i := range s.Confirmations {
		s.Confirmations[i].appendTo(el)
	}
}

func (c *SubjectConfirmation) appendTo(parent *etree.Element) {
	el := parent.CreateElement("saml:SubjectConfirmation")
	el.CreateAttr("Method", c.Method)
	if c.NameID != nil {
		c.NameID.appendTo(el)
	}
	if c.Data != nil {
		c.Data.appendTo(el)
	}
}

func (d *SubjectConfirmationData) appendTo(parent *etree.Element) {
	el := parent.CreateElement("saml:SubjectConfirmationData")
	wire.SetTimeAttr(el, "NotBefore", d.NotBefore)
	wire.SetTimeAttr(el, "NotOnOrAfter", d.NotOnOrAfter)
	wire.SetAttr(el, "Recipient", d.Recipient)
	wire.SetAttr(el, "InResponseTo", d.InResponseTo)
	wire.SetAttr(el, "Address", d.Address)
	if len(d.KeyInfos) == 0 {
		return
	}
	el.CreateAttr("xmlns:xsi", NSXSI)
	el.CreateAttr("xsi:type", "saml:"+KeyInfoConfirmationDataType)
	for _, k := range d.KeyInfos {
		el.AddChild(k.Element())
	}
}

// Element renders the KeyInfo as a ds:KeyInfo holding one ds:X509Data
// with every certificate, the ds prefix declared on it.
func (k KeyInfo) Element() *etree.Element {
	el := etree.NewElement("ds:KeyInfo")
	el.CreateAttr("xmlns:ds", NSDSig)
	data := el.CreateElement("ds:X509Data")
	for _, c := range k.Certificates {
		wire.TextElement(data, "ds:X509Certificate", base64.StdEncoding.EncodeToString(c.Raw))
	}
	return el
}

func (c *Conditions) appendTo(parent *etree.Element) {
	el := parent.CreateElement("saml:Conditions")
	wire.SetTimeAttr(el, "NotBefore", c.NotBefore)
	wire.SetTimeAttr(el, "NotOnOrAfter", c.NotOnOrAfter)
	for _, r := range c.AudienceRestrictions {
		ar := el.CreateElement("saml:AudienceRestriction")
		for _, aud := range r.Audiences {
			wire.TextElement(ar, "saml:Audience", aud)
		}
	}
	if c.OneTimeUse {
		el.CreateElement("saml:OneTimeUse")
	}
}

func (s *AuthnStatement) appendTo(parent *etree.Element) {
	el := parent.CreateElement("saml:AuthnStatement")
	el.CreateAttr("AuthnInstant", wire.FormatTime(s.AuthnInstant))
	wire.SetAttr(el, "SessionIndex", s.SessionIndex)
	wire.SetTimeAttr(el, "SessionNotOnOrAfter", s.SessionNotOnOrAfter)
	ctx := el.CreateElement("saml:AuthnContext")
	wire.TextElement(ctx, "saml:AuthnContextClassRef", s.ClassRef)
}

func (s *AttributeStatement) appendTo(parent *etree.Element) {
	el := parent.CreateElement("saml:AttributeStatement")
	for _, at := range s.Attributes {
		a := el.CreateElement("saml:Attribute")
		a.CreateAttr("Name", at.Name)
		wire.SetAttr(a, "NameFormat", at.NameFormat)
		wire.SetAttr(a, "FriendlyName", at.FriendlyName)
		for _, v := range at.Values {
			v.appendTo(a)
		}
	}
}

func (v AttributeValue) appendTo(parent *etree.Element) {
	el := parent.CreateElement("saml:AttributeValue")
	if v.XSIType != "" {
		el.CreateAttr("xmlns:xsi", NSXSI)
		el.CreateAttr("xsi:type", v.XSIType)
	}
	if len(v.Elements) == 0 {
		el.SetText(v.Text)
	}
	for _, c := range v.Elements {
		el.AddChild(c.Copy())
	}
}
