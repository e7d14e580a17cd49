package samlp

import (
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/wire"
)

// RequestHeader is what every samlp:RequestAbstractType carries (SAML Core
// §3.2.1): AuthnRequest, LogoutRequest, ManageNameIDRequest and the others
// embed it. Version is always 2.0 and not stored. Issuer is nil when absent.
// Extensions holds the children of samlp:Extensions.
type RequestHeader struct {
	ID           string
	IssueInstant time.Time
	Destination  string
	Consent      string
	Issuer       *saml.Issuer
	Extensions   []*etree.Element
}

// StatusResponseHeader is what every samlp:StatusResponseType carries (SAML
// Core §3.2.2): Response, LogoutResponse, ManageNameIDResponse and the
// others embed it.
type StatusResponseHeader struct {
	ID           string
	InResponseTo string
	IssueInstant time.Time
	Destination  string
	Consent      string
	Issuer       *saml.Issuer
	Extensions   []*etree.Element
	Status       Status
}

// newMessage starts a protocol element: the samlp and saml prefixes declared,
// the common attributes and Issuer, and samlp:Extensions. A signature is
// inserted later, after Issuer.
func newMessage(tag, id string, instant time.Time, dest, consent string) *etree.Element {
	el := etree.NewElement("samlp:" + tag)
	el.CreateAttr("xmlns:samlp", NS)
	el.CreateAttr("xmlns:saml", saml.NS)
	el.CreateAttr("ID", id)
	el.CreateAttr("Version", saml.Version)
	el.CreateAttr("IssueInstant", wire.FormatTime(instant))
	wire.SetAttr(el, "Destination", dest)
	wire.SetAttr(el, "Consent", consent)
	return el
}

func appendIssuerAndExtensions(el *etree.Element, is *saml.Issuer, ext []*etree.Element) {
	if is != nil {
		c := wire.TextElement(el, "saml:Issuer", is.Value)
		wire.SetAttr(c, "NameQualifier", is.NameQualifier)
		wire.SetAttr(c, "SPNameQualifier", is.SPNameQualifier)
		wire.SetAttr(c, "Format", is.Format)
	}
	if len(ext) == 0 {
		return
	}
	x := el.CreateElement("samlp:Extensions")
	for _, c := range ext {
		x.AddChild(xmlsec.DetachCopy(c))
	}
}

// element renders the header as a samlp:tag element; the caller appends the
// message's own attributes and children.
func (h *RequestHeader) element(tag string) *etree.Element {
	el := newMessage(tag, h.ID, h.IssueInstant, h.Destination, h.Consent)
	appendIssuerAndExtensions(el, h.Issuer, h.Extensions)
	return el
}

func (h *StatusResponseHeader) element(tag string) *etree.Element {
	el := newMessage(tag, h.ID, h.IssueInstant, h.Destination, h.Consent)
	wire.SetAttr(el, "InResponseTo", h.InResponseTo)
	appendIssuerAndExtensions(el, h.Issuer, h.Extensions)
	h.Status.appendTo(el)
	return el
}

// commonAttrs are the attributes of both header types.
type commonAttrs struct {
	id, dest, consent string
	instant           time.Time
	issuer            *saml.Issuer
	ext               []*etree.Element
}

// decodeCommon reads the attributes, Issuer and Extensions of a request or
// response, refusing a Version other than 2.0 (SAML Core §3.2.1).
func decodeCommon(el *etree.Element) (commonAttrs, error) {
	if v, _ := wire.Attr(el, "Version"); v != saml.Version {
		return commonAttrs{}, versionError(v)
	}
	return decodeCommonAnyVersion(el)
}

// decodeCommonAnyVersion is decodeCommon without the Version check, for Peek.
func decodeCommonAnyVersion(el *etree.Element) (commonAttrs, error) {
	var c commonAttrs
	var err error
	if c.id, err = wire.RequiredAttr(el, "ID"); err != nil {
		return c, err
	}
	if _, err = wire.RequiredAttr(el, "IssueInstant"); err != nil {
		return c, err
	}
	if c.instant, err = wire.TimeAttr(el, "IssueInstant"); err != nil {
		return c, err
	}
	c.dest, _ = wire.Attr(el, "Destination")
	c.consent, _ = wire.Attr(el, "Consent")
	if c.issuer, err = decodeIssuer(el); err != nil {
		return c, err
	}
	c.ext, err = decodeExtensions(el)
	return c, err
}

func decodeIssuer(el *etree.Element) (*saml.Issuer, error) {
	iss, err := wire.Optional(el, saml.NS, "Issuer")
	if err != nil || iss == nil {
		return nil, err
	}
	v, err := wire.URI(iss)
	if err != nil {
		return nil, err
	}
	is := &saml.Issuer{Value: v}
	is.Format, _ = wire.Attr(iss, "Format")
	is.NameQualifier, _ = wire.Attr(iss, "NameQualifier")
	is.SPNameQualifier, _ = wire.Attr(iss, "SPNameQualifier")
	return is, nil
}

func decodeExtensions(el *etree.Element) ([]*etree.Element, error) {
	x, err := wire.Optional(el, NS, "Extensions")
	if err != nil || x == nil {
		return nil, err
	}
	var out []*etree.Element
	for _, c := range x.ChildElements() {
		if c.NamespaceURI() == NS || c.NamespaceURI() == saml.NS || c.NamespaceURI() == "" {
			// SAML Core §3.2.1: extension elements MUST be namespace-qualified
			// in a non-SAML-defined namespace.
			return nil, xmlsec.Errorf(xmlsec.KindMalformed, "extension %s in a SAML namespace", wire.Name(c))
		}
		out = append(out, xmlsec.DetachCopy(c))
	}
	return out, nil
}

func (h *RequestHeader) decode(el *etree.Element) error {
	c, err := decodeCommon(el)
	if err != nil {
		return err
	}
	*h = RequestHeader{ID: c.id, IssueInstant: c.instant, Destination: c.dest, Consent: c.consent, Issuer: c.issuer, Extensions: c.ext}
	return nil
}

func (h *StatusResponseHeader) decode(el *etree.Element) error {
	c, err := decodeCommon(el)
	if err != nil {
		return err
	}
	*h = StatusResponseHeader{ID: c.id, IssueInstant: c.instant, Destination: c.dest, Consent: c.consent, Issuer: c.issuer, Extensions: c.ext}
	h.InResponseTo, _ = wire.Attr(el, "InResponseTo")
	st, err := wire.Optional(el, NS, "Status")
	if err != nil {
		return err
	}
	if st == nil {
		return Errorf(KindStatus, "samlp:Status is missing")
	}
	h.Status, err = decodeStatus(st)
	return err
}

// CheckIssuer enforces the Issuer rule of the SSO, ECP, logout and name
// identifier management profiles (SAML Profiles §4.1.4.1, §4.4.4.1,
// §4.5.4.1): an Issuer is present and its Format is omitted or entity.
func (h *RequestHeader) CheckIssuer() error { return checkIssuer(h.Issuer) }

// CheckIssuer is RequestHeader.CheckIssuer for responses (SAML Profiles
// §4.1.4.2).
func (h *StatusResponseHeader) CheckIssuer() error { return checkIssuer(h.Issuer) }

func checkIssuer(is *saml.Issuer) error {
	switch {
	case is == nil:
		return Errorf(KindIssuer, "saml:Issuer is missing")
	case is.Format != "" && is.Format != saml.NameIDEntity:
		return Errorf(KindIssuer, "saml:Issuer Format %q", is.Format)
	}
	return nil
}
