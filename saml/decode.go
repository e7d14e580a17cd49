package saml

import (
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/wire"
)

// decodeAssertion reads a saml:Assertion element. It is called only on an
// element a signature check returned (VerifyAssertion).
func decodeAssertion(el *etree.Element) (*Assertion, error) {
	if !wire.Is(el, NS, "Assertion") {
		return nil, xmlsec.Errorf(xmlsec.KindMalformed, "%s is not a saml:Assertion", wire.Name(el))
	}
	if v, _ := wire.Attr(el, "Version"); v != Version {
		return nil, Errorf(KindVersion, "Version %q", v)
	}
	a := &Assertion{}
	var err error
	if a.ID, err = wire.RequiredAttr(el, "ID"); err != nil {
		return nil, err
	}
	if a.IssueInstant, err = requiredTime(el, "IssueInstant"); err != nil {
		return nil, err
	}
	if err = a.decodeChildren(el); err != nil {
		return nil, err
	}
	return a, nil
}

func requiredTime(el *etree.Element, name string) (time.Time, error) {
	if _, err := wire.RequiredAttr(el, name); err != nil {
		return time.Time{}, err
	}
	return wire.TimeAttr(el, name)
}

func (a *Assertion) decodeChildren(el *etree.Element) error {
	iss, err := wire.Required(el, NS, "Issuer")
	if err != nil {
		return err
	}
	if a.Issuer, err = decodeIssuer(iss); err != nil {
		return err
	}
	if err = a.decodeSubject(el); err != nil {
		return err
	}
	if err = a.decodeConditions(el); err != nil {
		return err
	}
	for _, s := range wire.Children(el, NS, "AuthnStatement") {
		st, err := decodeAuthnStatement(s)
		if err != nil {
			return err
		}
		a.AuthnStatements = append(a.AuthnStatements, st)
	}
	return a.decodeAttributeStatements(el)
}

func decodeIssuer(el *etree.Element) (Issuer, error) {
	v, err := wire.URI(el)
	if err != nil {
		return Issuer{}, err
	}
	is := Issuer{Value: v}
	is.Format, _ = wire.Attr(el, "Format")
	is.NameQualifier, _ = wire.Attr(el, "NameQualifier")
	is.SPNameQualifier, _ = wire.Attr(el, "SPNameQualifier")
	return is, nil
}

// decodeNameID reads a saml:NameID; the value must not be empty.
func decodeNameID(el *etree.Element) (*NameID, error) {
	v, err := wire.URI(el)
	if err != nil {
		return nil, err
	}
	n := &NameID{Value: v}
	n.Format, _ = wire.Attr(el, "Format")
	n.NameQualifier, _ = wire.Attr(el, "NameQualifier")
	n.SPNameQualifier, _ = wire.Attr(el, "SPNameQualifier")
	n.SPProvidedID, _ = wire.Attr(el, "SPProvidedID")
	return n, nil
}

func (a *Assertion) decodeSubject(el *etree.Element) error {
	s, err := wire.Optional(el, NS, "Subject")
	if err != nil || s == nil {
		return err
	}
	a.Subject = &Subject{}
	if a.Subject.NameID, a.Subject.EncryptedID, err = decodeIdentifier(s); err != nil {
		return err
	}
	for _, c := range wire.Children(s, NS, "SubjectConfirmation") {
		sc, err := decodeConfirmation(c)
		if err != nil {
			return err
		}
		a.Subject.Confirmations = append(a.Subject.Confirmations, sc)
	}
	return nil
}

// decodeIdentifier reads the optional NameID or EncryptedID of a Subject or
// SubjectConfirmation; both at once, or a BaseID, is refused.
func decodeIdentifier(el *etree.Element) (*NameID, *EncryptedID, error) {
	if len(wire.Children(el, NS, "BaseID")) > 0 {
		return nil, nil, xmlsec.Errorf(xmlsec.KindMalformed, "saml:BaseID is not supported")
	}
	n, err := wire.Optional(el, NS, "NameID")
	if err != nil {
		return nil, nil, err
	}
	e, err := wire.Optional(el, NS, "EncryptedID")
	if err != nil {
		return nil, nil, err
	}
	switch {
	case n != nil && e != nil:
		return nil, nil, xmlsec.Errorf(xmlsec.KindMalformed, "%s holds both NameID and EncryptedID", wire.Name(el))
	case e != nil:
		return nil, &EncryptedID{Element: xmlsec.DetachCopy(e)}, nil
	case n != nil:
		id, err := decodeNameID(n)
		return id, nil, err
	}
	return nil, nil, nil
}

func decodeConfirmation(el *etree.Element) (SubjectConfirmation, error) {
	m, err := wire.RequiredAttr(el, "Method")
	if err != nil {
		return SubjectConfirmation{}, err
	}
	sc := SubjectConfirmation{Method: m}
	if sc.NameID, _, err = decodeIdentifier(el); err != nil {
		return sc, err
	}
	d, err := wire.Optional(el, NS, "SubjectConfirmationData")
	if err != nil || d == nil {
		return sc, err
	}
	sc.Data, err = decodeConfirmationData(d)
	return sc, err
}

func decodeConfirmationData(el *etree.Element) (*SubjectConfirmationData, error) {
	d := &SubjectConfirmationData{}
	var err error
	if d.NotBefore, err = wire.TimeAttr(el, "NotBefore"); err != nil {
		return nil, err
	}
	if d.NotOnOrAfter, err = wire.TimeAttr(el, "NotOnOrAfter"); err != nil {
		return nil, err
	}
	d.Recipient, _ = wire.Attr(el, "Recipient")
	d.InResponseTo, _ = wire.Attr(el, "InResponseTo")
	d.Address, _ = wire.Attr(el, "Address")
	for _, k := range wire.Children(el, NSDSig, "KeyInfo") {
		ki, err := decodeKeyInfo(k)
		if err != nil {
			return nil, err
		}
		d.KeyInfos = append(d.KeyInfos, ki)
	}
	return d, nil
}

// decodeKeyInfo reads the X.509 certificates of a ds:KeyInfo.
func decodeKeyInfo(el *etree.Element) (KeyInfo, error) {
	var ki KeyInfo
	for _, data := range wire.Children(el, NSDSig, "X509Data") {
		for _, c := range wire.Children(data, NSDSig, "X509Certificate") {
			cert, err := wire.Certificate(c)
			if err != nil {
				return ki, err
			}
			ki.Certificates = append(ki.Certificates, cert)
		}
	}
	return ki, nil
}
