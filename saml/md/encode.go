package md

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/xmlsec/wire"
)

// Element renders the group as an md:EntitiesDescriptor with the md prefix
// declared on it, children in the order of SAML Metadata §2.3.1. The
// operator's signature is added afterwards as the first child (Sign).
func (g *EntitiesDescriptor) Element() *etree.Element {
	el := newRoot("md:EntitiesDescriptor")
	g.fill(el)
	return el
}

func (g *EntitiesDescriptor) fill(el *etree.Element) {
	setTimes(el, g.ValidUntil, g.CacheDuration)
	wire.SetAttr(el, "ID", g.ID)
	wire.SetAttr(el, "Name", g.Name)
	addCopy(el, g.Extensions)
	for _, e := range g.Entities {
		e.fill(el.CreateElement("md:EntityDescriptor"))
	}
	for _, sub := range g.Groups {
		sub.fill(el.CreateElement("md:EntitiesDescriptor"))
	}
}

// Element renders the entity as an md:EntityDescriptor with the md prefix
// declared on it, children in the order of SAML Metadata §2.3.2.
func (e *EntityDescriptor) Element() *etree.Element {
	el := newRoot("md:EntityDescriptor")
	e.fill(el)
	return el
}

func (e *EntityDescriptor) fill(el *etree.Element) {
	el.CreateAttr("entityID", e.EntityID)
	setTimes(el, e.ValidUntil, e.CacheDuration)
	wire.SetAttr(el, "ID", e.ID)
	addCopy(el, e.Extensions)
	for _, r := range e.IDPSSO {
		r.appendTo(el)
	}
	for _, r := range e.SPSSO {
		r.appendTo(el)
	}
	for _, r := range e.Roles {
		r.appendTo(el)
	}
	if e.Organization != nil {
		e.Organization.appendTo(el)
	}
	for i := range e.Contacts {
		e.Contacts[i].appendTo(el)
	}
}

func newRoot(tag string) *etree.Element {
	el := etree.NewElement(tag)
	el.CreateAttr("xmlns:md", NS)
	return el
}

func setTimes(el *etree.Element, validUntil time.Time, cache time.Duration) {
	wire.SetTimeAttr(el, "validUntil", validUntil)
	if cache > 0 {
		el.CreateAttr("cacheDuration", FormatDuration(cache))
	}
}

func addCopy(parent, el *etree.Element) {
	if el != nil {
		parent.AddChild(el.Copy())
	}
}

// start writes the attributes of md:RoleDescriptorType on el, the
// descriptor's own attributes having been set before.
func (r *Role) start(el *etree.Element) {
	wire.SetAttr(el, "ID", r.ID)
	setTimes(el, r.ValidUntil, r.CacheDuration)
	el.CreateAttr("protocolSupportEnumeration", strings.Join(r.ProtocolSupport, " "))
	wire.SetAttr(el, "errorURL", r.ErrorURL)
}

// children writes the child elements of md:RoleDescriptorType.
func (r *Role) children(el *etree.Element) {
	addCopy(el, r.Extensions)
	for i := range r.Keys {
		r.Keys[i].appendTo(el)
	}
	if r.Organization != nil {
		r.Organization.appendTo(el)
	}
	for i := range r.Contacts {
		r.Contacts[i].appendTo(el)
	}
}

func (s *SSO) children(el *etree.Element) {
	s.Role.children(el)
	appendIndexed(el, "md:ArtifactResolutionService", s.ArtifactResolution)
	appendEndpoints(el, "md:SingleLogoutService", s.SingleLogout)
	appendEndpoints(el, "md:ManageNameIDService", s.ManageNameID)
	for _, f := range s.NameIDFormats {
		wire.TextElement(el, "md:NameIDFormat", f)
	}
}

func (d *IDPSSODescriptor) appendTo(parent *etree.Element) {
	el := parent.CreateElement("md:IDPSSODescriptor")
	if d.WantAuthnRequestsSigned {
		el.CreateAttr("WantAuthnRequestsSigned", "true")
	}
	d.start(el)
	d.SSO.children(el)
	appendEndpoints(el, "md:SingleSignOnService", d.SingleSignOn)
	appendEndpoints(el, "md:NameIDMappingService", d.NameIDMapping)
	appendEndpoints(el, "md:AssertionIDRequestService", d.AssertionIDRequest)
	for _, p := range d.AttributeProfiles {
		wire.TextElement(el, "md:AttributeProfile", p)
	}
	for i := range d.Attributes {
		a := el.CreateElement("saml:Attribute")
		a.CreateAttr("xmlns:saml", NSSAML)
		d.Attributes[i].fill(a, "saml:AttributeValue")
	}
}

func (a *Attribute) fill(el *etree.Element, valueTag string) {
	el.CreateAttr("Name", a.Name)
	wire.SetAttr(el, "NameFormat", a.NameFormat)
	wire.SetAttr(el, "FriendlyName", a.FriendlyName)
	for _, v := range a.Values {
		wire.TextElement(el, valueTag, v)
	}
}

func (d *SPSSODescriptor) appendTo(parent *etree.Element) {
	el := parent.CreateElement("md:SPSSODescriptor")
	if d.AuthnRequestsSigned {
		el.CreateAttr("AuthnRequestsSigned", "true")
	}
	if d.WantAssertionsSigned {
		el.CreateAttr("WantAssertionsSigned", "true")
	}
	d.start(el)
	d.SSO.children(el)
	appendIndexed(el, "md:AssertionConsumerService", d.AssertionConsumer)
	for i := range d.AttributeConsuming {
		d.AttributeConsuming[i].appendTo(el)
	}
}

func (s *AttributeConsumingService) appendTo(parent *etree.Element) {
	el := parent.CreateElement("md:AttributeConsumingService")
	el.CreateAttr("index", strconv.Itoa(int(s.Index)))
	setBool(el, "isDefault", s.IsDefault)
	appendLocalized(el, "md:ServiceName", s.ServiceNames)
	appendLocalized(el, "md:ServiceDescription", s.Descriptions)
	for i := range s.Requested {
		r := &s.Requested[i]
		a := el.CreateElement("md:RequestedAttribute")
		r.fill(a, "saml:AttributeValue")
		if len(r.Values) > 0 {
			a.CreateAttr("xmlns:saml", NSSAML)
		}
		if r.IsRequired {
			a.CreateAttr("isRequired", "true")
		}
	}
}

func (r *RoleDescriptor) appendTo(parent *etree.Element) {
	local := r.Local
	if local == "" {
		local = "RoleDescriptor"
	}
	el := parent.CreateElement("md:" + local)
	if r.TypeLocal != "" {
		el.CreateAttr("xmlns:xsi", NSXSI)
		el.CreateAttr("xmlns:rt", r.TypeNS)
		el.CreateAttr("xsi:type", "rt:"+r.TypeLocal)
	}
	r.start(el)
	r.Role.children(el)
	for _, c := range r.Content {
		el.AddChild(c.Copy())
	}
}

// Element renders the key as a standalone md:KeyDescriptor, as the
// Discovery Service hands its keys to a WSP (disco:Keys).
func (k *KeyDescriptor) Element() *etree.Element {
	el := newRoot("md:KeyDescriptor")
	k.fill(el)
	return el
}

func (k *KeyDescriptor) appendTo(parent *etree.Element) {
	k.fill(parent.CreateElement("md:KeyDescriptor"))
}

func (k *KeyDescriptor) fill(el *etree.Element) {
	wire.SetAttr(el, "use", k.Use)
	ki := el.CreateElement("ds:KeyInfo")
	ki.CreateAttr("xmlns:ds", NSDSig)
	data := ki.CreateElement("ds:X509Data")
	for _, c := range k.Certificates {
		wire.TextElement(data, "ds:X509Certificate", base64.StdEncoding.EncodeToString(c.Raw))
	}
	for _, m := range k.EncryptionMethods {
		el.CreateElement("md:EncryptionMethod").CreateAttr("Algorithm", m)
	}
}

func appendEndpoints(parent *etree.Element, tag string, eps []Endpoint) {
	for i := range eps {
		eps[i].fill(parent.CreateElement(tag))
	}
}

func appendIndexed(parent *etree.Element, tag string, eps []IndexedEndpoint) {
	for i := range eps {
		el := parent.CreateElement(tag)
		eps[i].fill(el)
		el.CreateAttr("index", strconv.Itoa(int(eps[i].Index)))
		setBool(el, "isDefault", eps[i].IsDefault)
	}
}

func (e *Endpoint) fill(el *etree.Element) {
	el.CreateAttr("Binding", e.Binding)
	el.CreateAttr("Location", e.Location)
	wire.SetAttr(el, "ResponseLocation", e.ResponseLocation)
}

func setBool(el *etree.Element, name string, b *bool) {
	if b != nil {
		el.CreateAttr(name, strconv.FormatBool(*b))
	}
}

func appendLocalized(parent *etree.Element, tag string, vs []Localized) {
	for _, v := range vs {
		wire.TextElement(parent, tag, v.Value).CreateAttr("xml:lang", v.Lang)
	}
}

func (o *Organization) appendTo(parent *etree.Element) {
	el := parent.CreateElement("md:Organization")
	appendLocalized(el, "md:OrganizationName", o.Names)
	appendLocalized(el, "md:OrganizationDisplayName", o.DisplayNames)
	appendLocalized(el, "md:OrganizationURL", o.URLs)
}

func (c *ContactPerson) appendTo(parent *etree.Element) {
	el := parent.CreateElement("md:ContactPerson")
	el.CreateAttr("contactType", c.Type)
	for _, f := range []struct{ tag, v string }{{"md:Company", c.Company}, {"md:GivenName", c.GivenName}, {"md:SurName", c.SurName}} {
		if f.v != "" {
			wire.TextElement(el, f.tag, f.v)
		}
	}
	for _, m := range c.Emails {
		wire.TextElement(el, "md:EmailAddress", m)
	}
	for _, p := range c.Phones {
		wire.TextElement(el, "md:TelephoneNumber", p)
	}
}
