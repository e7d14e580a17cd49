package samlp

import (
	"strconv"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/wire"
)

// Comparison values of samlp:RequestedAuthnContext (SAML Core §3.3.2.2.1).
const (
	ComparisonExact   = "exact"
	ComparisonMinimum = "minimum"
	ComparisonMaximum = "maximum"
	ComparisonBetter  = "better"
)

// AuthnRequest is a samlp:AuthnRequest (SAML Core §3.4.1). Signed reports,
// after decoding, whether the element carried a ds:Signature child; it is
// ignored when encoding (Sign adds the signature).
type AuthnRequest struct {
	RequestHeader
	Signed bool

	Subject               *saml.Subject
	NameIDPolicy          *NameIDPolicy
	Conditions            *saml.Conditions
	RequestedAuthnContext *RequestedAuthnContext
	Scoping               *Scoping

	ForceAuthn                     bool
	IsPassive                      bool
	AssertionConsumerServiceIndex  *uint16
	AssertionConsumerServiceURL    string
	ProtocolBinding                string
	AttributeConsumingServiceIndex *uint16
	ProviderName                   string
}

// NameIDPolicy is a samlp:NameIDPolicy (SAML Core §3.4.1.1).
type NameIDPolicy struct {
	Format          string
	SPNameQualifier string
	AllowCreate     bool
}

// RequestedAuthnContext is a samlp:RequestedAuthnContext (SAML Core
// §3.3.2.2.1): class references or declaration references, never both.
// An empty Comparison means exact.
type RequestedAuthnContext struct {
	Comparison string
	ClassRefs  []string
	DeclRefs   []string
}

// Scoping is a samlp:Scoping (SAML Core §3.4.1.2). ProxyCount is nil when
// absent.
type Scoping struct {
	ProxyCount   *int
	IDPList      *IDPList
	RequesterIDs []string
}

// IDPList is a samlp:IDPList (SAML Core §3.4.1.3), also carried by the ECP
// profile's ecp:Request header.
type IDPList struct {
	Entries     []IDPEntry
	GetComplete string
}

// IDPEntry is a samlp:IDPEntry.
type IDPEntry struct {
	ProviderID string
	Name       string
	Loc        string
}

// Element renders the request as a samlp:AuthnRequest, children in the order
// of the protocol schema.
func (r *AuthnRequest) Element() *etree.Element {
	el := r.RequestHeader.element("AuthnRequest")
	setBool(el, "ForceAuthn", r.ForceAuthn)
	setBool(el, "IsPassive", r.IsPassive)
	setIndex(el, "AssertionConsumerServiceIndex", r.AssertionConsumerServiceIndex)
	wire.SetAttr(el, "AssertionConsumerServiceURL", r.AssertionConsumerServiceURL)
	wire.SetAttr(el, "ProtocolBinding", r.ProtocolBinding)
	setIndex(el, "AttributeConsumingServiceIndex", r.AttributeConsumingServiceIndex)
	wire.SetAttr(el, "ProviderName", r.ProviderName)
	if r.Subject != nil {
		appendSubject(el, r.Subject)
	}
	if p := r.NameIDPolicy; p != nil {
		pe := el.CreateElement("samlp:NameIDPolicy")
		wire.SetAttr(pe, "Format", p.Format)
		wire.SetAttr(pe, "SPNameQualifier", p.SPNameQualifier)
		setBool(pe, "AllowCreate", p.AllowCreate)
	}
	if r.Conditions != nil {
		el.AddChild(conditionsElement(r.Conditions))
	}
	if r.RequestedAuthnContext != nil {
		r.RequestedAuthnContext.appendTo(el)
	}
	if r.Scoping != nil {
		r.Scoping.appendTo(el)
	}
	return el
}

func setBool(el *etree.Element, name string, v bool) {
	if v {
		el.CreateAttr(name, "true")
	}
}

func setIndex(el *etree.Element, name string, v *uint16) {
	if v != nil {
		el.CreateAttr(name, strconv.Itoa(int(*v)))
	}
}

func (c *RequestedAuthnContext) appendTo(parent *etree.Element) {
	el := parent.CreateElement("samlp:RequestedAuthnContext")
	wire.SetAttr(el, "Comparison", c.Comparison)
	for _, v := range c.ClassRefs {
		wire.TextElement(el, "saml:AuthnContextClassRef", v)
	}
	for _, v := range c.DeclRefs {
		wire.TextElement(el, "saml:AuthnContextDeclRef", v)
	}
}

func (s *Scoping) appendTo(parent *etree.Element) {
	el := parent.CreateElement("samlp:Scoping")
	if s.ProxyCount != nil {
		el.CreateAttr("ProxyCount", strconv.Itoa(*s.ProxyCount))
	}
	if s.IDPList != nil {
		s.IDPList.appendTo(el, "samlp:")
	}
	for _, id := range s.RequesterIDs {
		wire.TextElement(el, "samlp:RequesterID", id)
	}
}

// appendTo renders the list with the samlp prefix (declared on an ancestor,
// or by the caller for a standalone list).
func (l *IDPList) appendTo(parent *etree.Element, prefix string) *etree.Element {
	el := parent.CreateElement(prefix + "IDPList")
	for _, e := range l.Entries {
		ee := el.CreateElement(prefix + "IDPEntry")
		ee.CreateAttr("ProviderID", e.ProviderID)
		wire.SetAttr(ee, "Name", e.Name)
		wire.SetAttr(ee, "Loc", e.Loc)
	}
	if l.GetComplete != "" {
		wire.TextElement(el, prefix+"GetComplete", l.GetComplete)
	}
	return el
}

// Element renders the list as a standalone samlp:IDPList, with the samlp
// prefix declared on it.
func (l *IDPList) Element() *etree.Element {
	holder := etree.NewElement("x")
	el := l.appendTo(holder, "samlp:")
	holder.RemoveChild(el)
	el.CreateAttr("xmlns:samlp", NS)
	return el
}

// CheckACS enforces SAML Core §3.4.1: AssertionConsumerServiceIndex is
// mutually exclusive with AssertionConsumerServiceURL and ProtocolBinding.
func (r *AuthnRequest) CheckACS() error {
	if r.AssertionConsumerServiceIndex != nil && (r.AssertionConsumerServiceURL != "" || r.ProtocolBinding != "") {
		return Errorf(KindACSChoice, "AssertionConsumerServiceIndex with AssertionConsumerServiceURL or ProtocolBinding")
	}
	return nil
}

// DecodeAuthnRequest reads a samlp:AuthnRequest that the caller has
// authenticated: the copy VerifyAuthnRequest returns, a message whose
// HTTP-Redirect query signature verified, or one that arrived over an
// authenticated SOAP channel. Besides the schema's structure it checks
// Version (saml.ErrVersion), the ACS choice (ErrACSChoice) and that a Subject
// carries no SubjectConfirmation (ErrSubject, SAML Profiles §4.1.4.1).
func DecodeAuthnRequest(el *etree.Element) (*AuthnRequest, error) {
	if !wire.Is(el, NS, "AuthnRequest") {
		return nil, xmlsec.Errorf(xmlsec.KindMalformed, "%s is not a samlp:AuthnRequest", wire.Name(el))
	}
	r := &AuthnRequest{Signed: hasSignature(el)}
	if err := r.RequestHeader.decode(el); err != nil {
		return nil, err
	}
	if err := r.decodeAttrs(el); err != nil {
		return nil, err
	}
	if err := r.decodeChildren(el); err != nil {
		return nil, err
	}
	return r, r.CheckACS()
}

func hasSignature(el *etree.Element) bool {
	return len(wire.Children(el, saml.NSDSig, "Signature")) > 0
}

func (r *AuthnRequest) decodeAttrs(el *etree.Element) error {
	var err error
	if r.ForceAuthn, err = boolAttr(el, "ForceAuthn"); err != nil {
		return err
	}
	if r.IsPassive, err = boolAttr(el, "IsPassive"); err != nil {
		return err
	}
	if r.AssertionConsumerServiceIndex, err = indexAttr(el, "AssertionConsumerServiceIndex"); err != nil {
		return err
	}
	if r.AttributeConsumingServiceIndex, err = indexAttr(el, "AttributeConsumingServiceIndex"); err != nil {
		return err
	}
	r.AssertionConsumerServiceURL, _ = wire.Attr(el, "AssertionConsumerServiceURL")
	r.ProtocolBinding, _ = wire.Attr(el, "ProtocolBinding")
	r.ProviderName, _ = wire.Attr(el, "ProviderName")
	return nil
}

func boolAttr(el *etree.Element, name string) (bool, error) {
	v, ok := wire.Attr(el, name)
	if !ok {
		return false, nil
	}
	return wire.ParseBool(v)
}

// indexAttr reads an optional xs:unsignedShort attribute.
func indexAttr(el *etree.Element, name string) (*uint16, error) {
	v, ok := wire.Attr(el, name)
	if !ok {
		return nil, nil
	}
	n, err := strconv.ParseUint(v, 10, 16)
	if err != nil {
		return nil, xmlsec.Errorf(xmlsec.KindMalformed, "%s %q is not an unsignedShort", name, v)
	}
	u := uint16(n)
	return &u, nil
}
