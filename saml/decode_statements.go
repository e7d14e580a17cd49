package saml

import (
	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/wire"
)

func (a *Assertion) decodeConditions(el *etree.Element) error {
	c, err := wire.Optional(el, NS, "Conditions")
	if err != nil || c == nil {
		return err
	}
	cond := &Conditions{}
	if cond.NotBefore, err = wire.TimeAttr(c, "NotBefore"); err != nil {
		return err
	}
	if cond.NotOnOrAfter, err = wire.TimeAttr(c, "NotOnOrAfter"); err != nil {
		return err
	}
	for _, r := range wire.Children(c, NS, "AudienceRestriction") {
		ar, err := decodeAudienceRestriction(r)
		if err != nil {
			return err
		}
		cond.AudienceRestrictions = append(cond.AudienceRestrictions, ar)
	}
	if err = checkConditionChildren(c); err != nil {
		return err
	}
	cond.OneTimeUse = len(wire.Children(c, NS, "OneTimeUse")) > 0
	a.Conditions = cond
	return nil
}

// checkConditionChildren refuses conditions this package does not
// understand: SAML Core §2.5.1 makes an assertion with an unknown condition
// Indeterminate, which a relying party must not accept.
func checkConditionChildren(c *etree.Element) error {
	for _, ch := range c.ChildElements() {
		if wire.Is(ch, NS, "AudienceRestriction") || wire.Is(ch, NS, "OneTimeUse") || wire.Is(ch, NS, "ProxyRestriction") {
			continue
		}
		return xmlsec.Errorf(xmlsec.KindMalformed, "condition %s not understood", wire.Name(ch))
	}
	return nil
}

func decodeAudienceRestriction(el *etree.Element) (AudienceRestriction, error) {
	var ar AudienceRestriction
	for _, a := range wire.Children(el, NS, "Audience") {
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

func decodeAuthnStatement(el *etree.Element) (AuthnStatement, error) {
	var st AuthnStatement
	var err error
	if st.AuthnInstant, err = requiredTime(el, "AuthnInstant"); err != nil {
		return st, err
	}
	st.SessionIndex, _ = wire.Attr(el, "SessionIndex")
	if st.SessionNotOnOrAfter, err = wire.TimeAttr(el, "SessionNotOnOrAfter"); err != nil {
		return st, err
	}
	ctx, err := wire.Required(el, NS, "AuthnContext")
	if err != nil {
		return st, err
	}
	ref, err := wire.Optional(ctx, NS, "AuthnContextClassRef")
	if err != nil || ref == nil {
		return st, err
	}
	st.ClassRef, err = wire.URI(ref)
	return st, err
}

func (a *Assertion) decodeAttributeStatements(el *etree.Element) error {
	for _, s := range wire.Children(el, NS, "AttributeStatement") {
		var st AttributeStatement
		for _, at := range wire.Children(s, NS, "Attribute") {
			attr, err := decodeAttribute(at)
			if err != nil {
				return err
			}
			st.Attributes = append(st.Attributes, attr)
		}
		a.AttributeStatements = append(a.AttributeStatements, st)
	}
	return nil
}

func decodeAttribute(el *etree.Element) (Attribute, error) {
	name, err := wire.RequiredAttr(el, "Name")
	if err != nil {
		return Attribute{}, err
	}
	at := Attribute{Name: name}
	at.NameFormat, _ = wire.Attr(el, "NameFormat")
	at.FriendlyName, _ = wire.Attr(el, "FriendlyName")
	for _, v := range wire.Children(el, NS, "AttributeValue") {
		at.Values = append(at.Values, decodeAttributeValue(v))
	}
	return at, nil
}

// decodeAttributeValue keeps element content as standalone copies, so that
// a caller can decode them (an EPR, say) without the assertion around them.
func decodeAttributeValue(el *etree.Element) AttributeValue {
	v := AttributeValue{}
	v.XSIType, _ = wire.AttrNS(el, NSXSI, "type")
	kids := el.ChildElements()
	if len(kids) == 0 {
		v.Text = el.Text()
		return v
	}
	for _, k := range kids {
		v.Elements = append(v.Elements, xmlsec.DetachCopy(k))
	}
	return v
}

// DecodeAttribute reads one saml:Attribute (SAML Core §2.7.3.1): its Name
// (required), NameFormat, FriendlyName and values. An AttributeQuery names
// the attributes it asks for this way (SAML Core §3.3.2.3).
func DecodeAttribute(el *etree.Element) (Attribute, error) {
	if !wire.Is(el, NS, "Attribute") {
		return Attribute{}, xmlsec.Errorf(xmlsec.KindMalformed, "%s is not a saml:Attribute", wire.Name(el))
	}
	return decodeAttribute(el)
}
