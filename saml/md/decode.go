package md

import (
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/wire"
)

// maxEntityIDLen is the longest entityID SAML Metadata §2.3.2 allows.
const maxEntityIDLen = 1024

// decodeDocument reads an md:EntitiesDescriptor or md:EntityDescriptor.
// It is called only on an element a signature check returned, or one the
// caller chose to trust unsigned (DecodeUnsigned).
func decodeDocument(el *etree.Element) (*Document, error) {
	switch {
	case wire.Is(el, NS, "EntitiesDescriptor"):
		g, err := decodeEntities(el, 0)
		return &Document{Group: g}, err
	case wire.Is(el, NS, "EntityDescriptor"):
		e, err := decodeEntity(el)
		return &Document{Entity: e}, err
	}
	return nil, xmlsec.Errorf(xmlsec.KindMalformed, "%s is not md:EntitiesDescriptor or md:EntityDescriptor", wire.Name(el))
}

// maxNesting bounds nested md:EntitiesDescriptor groups; the parser's
// depth limit bounds them too, this keeps the recursion visibly finite.
const maxNesting = 16

func decodeEntities(el *etree.Element, depth int) (*EntitiesDescriptor, error) {
	if depth > maxNesting {
		return nil, xmlsec.Errorf(xmlsec.KindTooDeep, "md:EntitiesDescriptor nested more than %d deep", maxNesting)
	}
	g := &EntitiesDescriptor{}
	g.ID, _ = wire.Attr(el, "ID")
	g.Name, _ = wire.Attr(el, "Name")
	var err error
	if g.ValidUntil, g.CacheDuration, err = decodeTimes(el); err != nil {
		return nil, err
	}
	if g.Extensions, err = extensions(el); err != nil {
		return nil, err
	}
	for _, c := range el.ChildElements() {
		if err := g.decodeMember(c, depth); err != nil {
			return nil, err
		}
	}
	if len(g.Entities)+len(g.Groups) == 0 {
		return nil, xmlsec.Errorf(xmlsec.KindMalformed, "md:EntitiesDescriptor is empty")
	}
	return g, nil
}

func (g *EntitiesDescriptor) decodeMember(c *etree.Element, depth int) error {
	switch {
	case wire.Is(c, NS, "EntityDescriptor"):
		e, err := decodeEntity(c)
		if err != nil {
			return err
		}
		g.Entities = append(g.Entities, e)
	case wire.Is(c, NS, "EntitiesDescriptor"):
		sub, err := decodeEntities(c, depth+1)
		if err != nil {
			return err
		}
		g.Groups = append(g.Groups, sub)
	}
	return nil
}

func decodeTimes(el *etree.Element) (time.Time, time.Duration, error) {
	vu, err := wire.TimeAttr(el, "validUntil")
	if err != nil {
		return time.Time{}, 0, err
	}
	cd, ok := wire.Attr(el, "cacheDuration")
	if !ok {
		return vu, 0, nil
	}
	d, err := ParseDuration(cd)
	return vu, d, err
}

func extensions(el *etree.Element) (*etree.Element, error) {
	x, err := wire.Optional(el, NS, "Extensions")
	if x == nil || err != nil {
		return nil, err
	}
	return detachUsed(x), nil
}

func decodeEntity(el *etree.Element) (*EntityDescriptor, error) {
	e := &EntityDescriptor{}
	var err error
	if e.EntityID, err = wire.RequiredAttr(el, "entityID"); err != nil {
		return nil, err
	}
	if len(e.EntityID) > maxEntityIDLen {
		return nil, xmlsec.Errorf(xmlsec.KindMalformed, "entityID longer than %d characters", maxEntityIDLen)
	}
	e.ID, _ = wire.Attr(el, "ID")
	if e.ValidUntil, e.CacheDuration, err = decodeTimes(el); err != nil {
		return nil, err
	}
	if e.Extensions, err = extensions(el); err != nil {
		return nil, err
	}
	if err = e.decodeRoles(el); err != nil {
		return nil, err
	}
	if e.Organization, err = optionalOrganization(el); err != nil {
		return nil, err
	}
	e.Contacts, err = decodeContacts(el)
	return e, err
}

// decodeRoles reads the role descriptors; other children (Signature,
// AffiliationDescriptor, AdditionalMetadataLocation) are skipped.
func (e *EntityDescriptor) decodeRoles(el *etree.Element) error {
	for _, c := range el.ChildElements() {
		if c.NamespaceURI() != NS {
			continue
		}
		var err error
		switch c.Tag {
		case "IDPSSODescriptor":
			var d *IDPSSODescriptor
			if d, err = decodeIDP(c); err == nil {
				e.IDPSSO = append(e.IDPSSO, d)
			}
		case "SPSSODescriptor":
			var d *SPSSODescriptor
			if d, err = decodeSP(c); err == nil {
				e.SPSSO = append(e.SPSSO, d)
			}
		case "RoleDescriptor", "AttributeAuthorityDescriptor", "AuthnAuthorityDescriptor", "PDPDescriptor":
			var d *RoleDescriptor
			if d, err = decodeOtherRole(c); err == nil {
				e.Roles = append(e.Roles, d)
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (r *Role) decode(el *etree.Element) error {
	r.ID, _ = wire.Attr(el, "ID")
	r.ErrorURL, _ = wire.Attr(el, "errorURL")
	var err error
	if r.ValidUntil, r.CacheDuration, err = decodeTimes(el); err != nil {
		return err
	}
	pse, err := wire.RequiredAttr(el, "protocolSupportEnumeration")
	if err != nil {
		return err
	}
	r.ProtocolSupport = strings.Fields(pse)
	if r.Extensions, err = extensions(el); err != nil {
		return err
	}
	for _, k := range wire.Children(el, NS, "KeyDescriptor") {
		kd, err := decodeKey(k)
		if err != nil {
			return err
		}
		r.Keys = append(r.Keys, kd)
	}
	if r.Organization, err = optionalOrganization(el); err != nil {
		return err
	}
	r.Contacts, err = decodeContacts(el)
	return err
}

func (s *SSO) decode(el *etree.Element) error {
	if err := s.Role.decode(el); err != nil {
		return err
	}
	var err error
	if s.ArtifactResolution, err = indexedEndpoints(el, "ArtifactResolutionService"); err != nil {
		return err
	}
	if s.SingleLogout, err = endpoints(el, "SingleLogoutService"); err != nil {
		return err
	}
	if s.ManageNameID, err = endpoints(el, "ManageNameIDService"); err != nil {
		return err
	}
	s.NameIDFormats, err = uris(el, NS, "NameIDFormat")
	return err
}

func decodeIDP(el *etree.Element) (*IDPSSODescriptor, error) {
	d := &IDPSSODescriptor{}
	var err error
	if d.WantAuthnRequestsSigned, err = optionalBool(el, "WantAuthnRequestsSigned"); err != nil {
		return nil, err
	}
	if err = d.SSO.decode(el); err != nil {
		return nil, err
	}
	if d.SingleSignOn, err = endpoints(el, "SingleSignOnService"); err != nil {
		return nil, err
	}
	if len(d.SingleSignOn) == 0 {
		return nil, xmlsec.Errorf(xmlsec.KindMalformed, "md:IDPSSODescriptor lacks md:SingleSignOnService")
	}
	if d.NameIDMapping, err = endpoints(el, "NameIDMappingService"); err != nil {
		return nil, err
	}
	if d.AssertionIDRequest, err = endpoints(el, "AssertionIDRequestService"); err != nil {
		return nil, err
	}
	if d.AttributeProfiles, err = uris(el, NS, "AttributeProfile"); err != nil {
		return nil, err
	}
	for _, a := range wire.Children(el, NSSAML, "Attribute") {
		at, err := decodeAttribute(a)
		if err != nil {
			return nil, err
		}
		d.Attributes = append(d.Attributes, at)
	}
	return d, nil
}

func decodeSP(el *etree.Element) (*SPSSODescriptor, error) {
	d := &SPSSODescriptor{}
	var err error
	if d.AuthnRequestsSigned, err = optionalBool(el, "AuthnRequestsSigned"); err != nil {
		return nil, err
	}
	if d.WantAssertionsSigned, err = optionalBool(el, "WantAssertionsSigned"); err != nil {
		return nil, err
	}
	if err = d.SSO.decode(el); err != nil {
		return nil, err
	}
	if d.AssertionConsumer, err = indexedEndpoints(el, "AssertionConsumerService"); err != nil {
		return nil, err
	}
	if len(d.AssertionConsumer) == 0 {
		return nil, xmlsec.Errorf(xmlsec.KindMalformed, "md:SPSSODescriptor lacks md:AssertionConsumerService")
	}
	for _, c := range wire.Children(el, NS, "AttributeConsumingService") {
		acs, err := decodeAttributeConsuming(c)
		if err != nil {
			return nil, err
		}
		d.AttributeConsuming = append(d.AttributeConsuming, acs)
	}
	return d, nil
}

func decodeOtherRole(el *etree.Element) (*RoleDescriptor, error) {
	d := &RoleDescriptor{Local: el.Tag}
	if err := d.Role.decode(el); err != nil {
		return nil, err
	}
	if t, ok := wire.AttrNS(el, NSXSI, "type"); ok {
		var err error
		if d.TypeNS, d.TypeLocal, err = wire.QName(el, t); err != nil {
			return nil, err
		}
	}
	for _, c := range el.ChildElements() {
		if c.NamespaceURI() == NS && (c.Tag == "Extensions" || c.Tag == "KeyDescriptor" || c.Tag == "Organization" || c.Tag == "ContactPerson") {
			continue
		}
		if wire.Is(c, NSDSig, "Signature") {
			continue
		}
		d.Content = append(d.Content, detachUsed(c))
		b, okB := wire.Attr(c, "Binding")
		l, okL := wire.Attr(c, "Location")
		if okB && okL {
			rl, _ := wire.Attr(c, "ResponseLocation")
			d.Endpoints = append(d.Endpoints, NamedEndpoint{NS: c.NamespaceURI(), Local: c.Tag, Endpoint: Endpoint{Binding: b, Location: l, ResponseLocation: rl}})
		}
	}
	return d, nil
}

func decodeKey(el *etree.Element) (KeyDescriptor, error) {
	k := KeyDescriptor{}
	k.Use, _ = wire.Attr(el, "use")
	if k.Use != "" && k.Use != UseSigning && k.Use != UseEncryption {
		return k, xmlsec.Errorf(xmlsec.KindMalformed, "KeyDescriptor use %q", k.Use)
	}
	ki, err := wire.Required(el, NSDSig, "KeyInfo")
	if err != nil {
		return k, err
	}
	for _, data := range wire.Children(ki, NSDSig, "X509Data") {
		for _, c := range wire.Children(data, NSDSig, "X509Certificate") {
			cert, err := wire.Certificate(c)
			if err != nil {
				return k, err
			}
			k.Certificates = append(k.Certificates, cert)
		}
	}
	for _, m := range wire.Children(el, NS, "EncryptionMethod") {
		alg, err := wire.RequiredAttr(m, "Algorithm")
		if err != nil {
			return k, err
		}
		k.EncryptionMethods = append(k.EncryptionMethods, strings.TrimSpace(alg))
	}
	return k, nil
}

func endpoints(el *etree.Element, local string) ([]Endpoint, error) {
	var out []Endpoint
	for _, c := range wire.Children(el, NS, local) {
		e, err := decodeEndpoint(c)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

func decodeEndpoint(el *etree.Element) (Endpoint, error) {
	var e Endpoint
	var err error
	if e.Binding, err = wire.RequiredAttr(el, "Binding"); err != nil {
		return e, err
	}
	if e.Location, err = wire.RequiredAttr(el, "Location"); err != nil {
		return e, err
	}
	e.ResponseLocation, _ = wire.Attr(el, "ResponseLocation")
	return e, nil
}

func indexedEndpoints(el *etree.Element, local string) ([]IndexedEndpoint, error) {
	var out []IndexedEndpoint
	for _, c := range wire.Children(el, NS, local) {
		e, err := decodeEndpoint(c)
		if err != nil {
			return nil, err
		}
		ie := IndexedEndpoint{Endpoint: e}
		if ie.Index, ie.IsDefault, err = decodeIndex(c); err != nil {
			return nil, err
		}
		out = append(out, ie)
	}
	return out, nil
}

func decodeIndex(el *etree.Element) (uint16, *bool, error) {
	s, err := wire.RequiredAttr(el, "index")
	if err != nil {
		return 0, nil, err
	}
	n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 16)
	if err != nil {
		return 0, nil, xmlsec.Wrap(xmlsec.KindMalformed, err, "index is not an xs:unsignedShort")
	}
	v, ok := wire.Attr(el, "isDefault")
	if !ok {
		return uint16(n), nil, nil
	}
	b, err := wire.ParseBool(v)
	return uint16(n), &b, err
}

func optionalBool(el *etree.Element, name string) (bool, error) {
	v, ok := wire.Attr(el, name)
	if !ok {
		return false, nil
	}
	return wire.ParseBool(v)
}

func uris(el *etree.Element, ns, local string) ([]string, error) {
	var out []string
	for _, c := range wire.Children(el, ns, local) {
		u, err := wire.URI(c)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, nil
}

func decodeAttribute(el *etree.Element) (Attribute, error) {
	var a Attribute
	var err error
	if a.Name, err = wire.RequiredAttr(el, "Name"); err != nil {
		return a, err
	}
	a.NameFormat, _ = wire.Attr(el, "NameFormat")
	a.FriendlyName, _ = wire.Attr(el, "FriendlyName")
	for _, v := range wire.Children(el, NSSAML, "AttributeValue") {
		s, err := wire.Text(v)
		if err != nil {
			return a, err
		}
		a.Values = append(a.Values, s)
	}
	return a, nil
}

func decodeAttributeConsuming(el *etree.Element) (AttributeConsumingService, error) {
	var s AttributeConsumingService
	var err error
	if s.Index, s.IsDefault, err = decodeIndex(el); err != nil {
		return s, err
	}
	if s.ServiceNames, err = localized(el, "ServiceName"); err != nil {
		return s, err
	}
	if s.Descriptions, err = localized(el, "ServiceDescription"); err != nil {
		return s, err
	}
	for _, c := range wire.Children(el, NS, "RequestedAttribute") {
		a, err := decodeAttribute(c)
		if err != nil {
			return s, err
		}
		ra := RequestedAttribute{Attribute: a}
		if ra.IsRequired, err = optionalBool(c, "isRequired"); err != nil {
			return s, err
		}
		s.Requested = append(s.Requested, ra)
	}
	return s, nil
}

func localized(el *etree.Element, local string) ([]Localized, error) {
	var out []Localized
	for _, c := range wire.Children(el, NS, local) {
		s, err := wire.Text(c)
		if err != nil {
			return nil, err
		}
		out = append(out, Localized{Lang: xmlLang(c), Value: s})
	}
	return out, nil
}

func optionalOrganization(el *etree.Element) (*Organization, error) {
	c, err := wire.Optional(el, NS, "Organization")
	if c == nil || err != nil {
		return nil, err
	}
	o := &Organization{}
	if o.Names, err = localized(c, "OrganizationName"); err != nil {
		return nil, err
	}
	if o.DisplayNames, err = localized(c, "OrganizationDisplayName"); err != nil {
		return nil, err
	}
	o.URLs, err = localized(c, "OrganizationURL")
	return o, err
}

func decodeContacts(el *etree.Element) ([]ContactPerson, error) {
	var out []ContactPerson
	for _, c := range wire.Children(el, NS, "ContactPerson") {
		p := ContactPerson{}
		p.Type, _ = wire.Attr(c, "contactType")
		var err error
		for _, f := range []struct {
			local string
			dst   *string
		}{{"Company", &p.Company}, {"GivenName", &p.GivenName}, {"SurName", &p.SurName}} {
			if *f.dst, err = optionalText(c, f.local); err != nil {
				return nil, err
			}
		}
		if p.Emails, err = texts(c, "EmailAddress"); err != nil {
			return nil, err
		}
		if p.Phones, err = texts(c, "TelephoneNumber"); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

func optionalText(el *etree.Element, local string) (string, error) {
	c, err := wire.Optional(el, NS, local)
	if c == nil || err != nil {
		return "", err
	}
	return wire.Text(c)
}

func texts(el *etree.Element, local string) ([]string, error) {
	var out []string
	for _, c := range wire.Children(el, NS, local) {
		s, err := wire.Text(c)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// xmlLang returns el's xml:lang. The xml prefix is bound by definition and
// never declared, so it is matched by prefix.
func xmlLang(el *etree.Element) string {
	for _, a := range el.Attr {
		if a.Space == "xml" && a.Key == "lang" {
			return a.Value
		}
	}
	return ""
}

// detachUsed is xmlsec.DetachCopy without the inherited namespace
// declarations that nothing in the copy can use: a declaration is kept when
// its prefix names an element or attribute in the subtree, or appears as
// "prefix:" in an attribute value or text (a QName value such as an
// xsi:type). Kept content then re-encodes as it was read.
func detachUsed(el *etree.Element) *etree.Element {
	cp := xmlsec.DetachCopy(el)
	used := map[string]bool{}
	var texts []string
	walk(cp, 0, func(e *etree.Element) {
		used[e.Space] = true
		for _, a := range e.Attr {
			if a.Space != "xmlns" && !(a.Space == "" && a.Key == "xmlns") {
				used[a.Space] = true
				texts = append(texts, a.Value)
			}
		}
		texts = append(texts, e.Text())
	})
	keep := cp.Attr[:0]
	for _, a := range cp.Attr {
		if a.Space == "xmlns" && !used[a.Key] && !mentions(texts, a.Key+":") {
			continue
		}
		keep = append(keep, a)
	}
	cp.Attr = keep
	return cp
}

func mentions(texts []string, s string) bool {
	for _, t := range texts {
		if strings.Contains(t, s) {
			return true
		}
	}
	return false
}

// walk calls fn on el and its descendants, at most maxWalkDepth deep (the
// parser's depth limit is lower).
func walk(el *etree.Element, depth int, fn func(*etree.Element)) {
	if depth > maxWalkDepth {
		return
	}
	fn(el)
	for _, c := range el.ChildElements() {
		walk(c, depth+1, fn)
	}
}

const maxWalkDepth = 256
