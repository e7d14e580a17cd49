package wsf

import (
	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/wire"
)

// EPR is a wsa:EndpointReference (WS-Addressing 1.0 §2) as ID-WSF uses it:
// the address, reference parameters a sender copies into its headers, and
// the discovery metadata of IDWSF2 §4.2 (bootstrap attributes and
// disco:QueryResponse answers carry exactly this shape).
type EPR struct {
	Address             string
	ReferenceParameters []*etree.Element
	Metadata            *EPRMetadata
}

// EPRMetadata is the wsa:Metadata of an ID-WSF EPR (IDWSF2 §4.2).
type EPRMetadata struct {
	Abstract         string
	ProviderID       string
	ServiceType      string
	Framework        string // sbf:Framework version; disco:Framework is read as the same (IDWSF2 §11 item 1)
	Options          []string
	Actions          []string
	SecurityContexts []SecurityContext
}

// SecurityContext is a disco:SecurityContext: the mechanisms usable with
// its tokens, in the issuer's order of preference.
type SecurityContext struct {
	Mechanisms []string
	Tokens     []Token
}

// Token is a sec:Token (IDWSF2 §3.3): a security token (a saml:Assertion
// or saml:EncryptedAssertion, kept as a standalone element a WSC forwards
// unread) or a reference to one, and its usage.
type Token struct {
	ID      string
	Ref     string
	Usage   string // "" means UsageSecurityToken
	Element *etree.Element
}

// EffectiveUsage returns Usage, or UsageSecurityToken when it is absent.
func (t Token) EffectiveUsage() string {
	if t.Usage == "" {
		return UsageSecurityToken
	}
	return t.Usage
}

// Element renders the EPR as a wsa:EndpointReference with the prefixes it
// uses declared on it; the framework is written as sbf:Framework (IDWSF2
// §11 item 1).
func (e *EPR) Element() *etree.Element {
	return e.render("wsa:EndpointReference")
}

func (e *EPR) render(tag string) *etree.Element {
	el := etree.NewElement(tag)
	el.CreateAttr("xmlns:wsa", NSWSA)
	e.fill(el)
	return el
}

func (e *EPR) fill(el *etree.Element) {
	wire.TextElement(el, "wsa:Address", e.Address)
	if len(e.ReferenceParameters) > 0 {
		rp := el.CreateElement("wsa:ReferenceParameters")
		for _, p := range e.ReferenceParameters {
			rp.AddChild(xmlsec.DetachCopy(p))
		}
	}
	if e.Metadata != nil {
		e.Metadata.appendTo(el.CreateElement("wsa:Metadata"))
	}
}

func (m *EPRMetadata) appendTo(md *etree.Element) {
	md.CreateAttr("xmlns:disco", NSDisco)
	md.CreateAttr("xmlns:sbf", NSSBF)
	wire.TextElement(md, "disco:Abstract", m.Abstract)
	wire.TextElement(md, "disco:ProviderID", m.ProviderID)
	wire.TextElement(md, "disco:ServiceType", m.ServiceType)
	fw := md.CreateElement("sbf:Framework")
	fw.CreateAttr("version", orDefault(m.Framework, FrameworkVersion))
	if len(m.Options) > 0 {
		opts := md.CreateElement("disco:Options")
		for _, o := range m.Options {
			wire.TextElement(opts, "disco:Option", o)
		}
	}
	for _, a := range m.Actions {
		wire.TextElement(md, "disco:Action", a)
	}
	for _, sc := range m.SecurityContexts {
		sc.appendTo(md)
	}
}

func (sc SecurityContext) appendTo(md *etree.Element) {
	el := md.CreateElement("disco:SecurityContext")
	for _, m := range sc.Mechanisms {
		wire.TextElement(el, "disco:SecurityMechID", m)
	}
	for _, t := range sc.Tokens {
		tk := el.CreateElement("sec:Token")
		tk.CreateAttr("xmlns:sec", NSSec)
		wire.SetAttr(tk, "id", t.ID)
		wire.SetAttr(tk, "ref", t.Ref)
		wire.SetAttr(tk, "usage", t.Usage)
		if t.Element != nil {
			tk.AddChild(xmlsec.DetachCopy(t.Element))
		}
	}
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// DecodeEPR reads a wsa:EndpointReference, or any element of
// wsa:EndpointReferenceType (sb:EndpointUpdate, sb:ApplicationEPR). Unknown
// attributes, such as ZXID's unqualified notOnOrAfter, are ignored (IDWSF2
// §11 item 7); tokens and reference parameters are kept as standalone
// copies.
func DecodeEPR(el *etree.Element) (*EPR, error) {
	addr, err := wire.Required(el, NSWSA, "Address")
	if err != nil {
		return nil, err
	}
	e := &EPR{}
	if e.Address, err = wire.URI(addr); err != nil {
		return nil, err
	}
	rp, err := wire.Optional(el, NSWSA, "ReferenceParameters")
	if err != nil {
		return nil, err
	}
	if rp != nil {
		for _, p := range rp.ChildElements() {
			e.ReferenceParameters = append(e.ReferenceParameters, xmlsec.DetachCopy(p))
		}
	}
	md, err := wire.Optional(el, NSWSA, "Metadata")
	if err != nil || md == nil {
		return e, err
	}
	e.Metadata, err = decodeMetadata(md)
	return e, err
}

func decodeMetadata(md *etree.Element) (*EPRMetadata, error) {
	m := &EPRMetadata{}
	var err error
	if m.Abstract, err = optionalText(md, NSDisco, "Abstract"); err != nil {
		return nil, err
	}
	if m.ProviderID, err = optionalText(md, NSDisco, "ProviderID"); err != nil {
		return nil, err
	}
	if m.ServiceType, err = optionalText(md, NSDisco, "ServiceType"); err != nil {
		return nil, err
	}
	if m.Framework, err = decodeEPRFramework(md); err != nil {
		return nil, err
	}
	if m.Options, err = decodeOptions(md); err != nil {
		return nil, err
	}
	if m.Actions, err = uriList(md, NSDisco, "Action"); err != nil {
		return nil, err
	}
	for _, sc := range wire.Children(md, NSDisco, "SecurityContext") {
		c, err := decodeSecurityContext(sc)
		if err != nil {
			return nil, err
		}
		m.SecurityContexts = append(m.SecurityContexts, c)
	}
	return m, nil
}

// decodeEPRFramework reads sbf:Framework, or disco:Framework which ZXID,
// Lasso and Shibboleth do not send but the disco schema defines.
func decodeEPRFramework(md *etree.Element) (string, error) {
	fws := append(wire.Children(md, NSSBF, "Framework"), wire.Children(md, NSDisco, "Framework")...)
	if len(fws) == 0 {
		return "", nil
	}
	for _, fw := range fws {
		if v, _ := wire.Attr(fw, "version"); v == FrameworkVersion {
			return v, nil
		}
	}
	return wire.RequiredAttr(fws[0], "version")
}

func decodeOptions(md *etree.Element) ([]string, error) {
	var out []string
	for _, opts := range wire.Children(md, NSDisco, "Options") {
		o, err := uriList(opts, NSDisco, "Option")
		if err != nil {
			return nil, err
		}
		out = append(out, o...)
	}
	return out, nil
}

func decodeSecurityContext(el *etree.Element) (SecurityContext, error) {
	var sc SecurityContext
	var err error
	if sc.Mechanisms, err = uriList(el, NSDisco, "SecurityMechID"); err != nil {
		return sc, err
	}
	if len(sc.Mechanisms) == 0 {
		return sc, xmlsec.Errorf(xmlsec.KindMalformed, "disco:SecurityContext without disco:SecurityMechID")
	}
	for _, t := range wire.Children(el, NSSec, "Token") {
		tok, err := decodeToken(t)
		if err != nil {
			return sc, err
		}
		sc.Tokens = append(sc.Tokens, tok)
	}
	return sc, nil
}

func decodeToken(el *etree.Element) (Token, error) {
	t := Token{}
	t.ID, _ = wire.Attr(el, "id")
	t.Ref, _ = wire.Attr(el, "ref")
	t.Usage, _ = wire.Attr(el, "usage")
	kids := el.ChildElements()
	switch {
	case len(kids) > 1:
		return t, xmlsec.Errorf(xmlsec.KindMalformed, "sec:Token holds %d tokens", len(kids))
	case len(kids) == 1:
		t.Element = xmlsec.DetachCopy(kids[0])
	case t.Ref == "":
		return t, xmlsec.Errorf(xmlsec.KindMalformed, "sec:Token holds no token and no ref")
	}
	return t, nil
}

func optionalText(el *etree.Element, ns, local string) (string, error) {
	c, err := wire.Optional(el, ns, local)
	if err != nil || c == nil {
		return "", err
	}
	return wire.URI(c)
}

func uriList(el *etree.Element, ns, local string) ([]string, error) {
	var out []string
	for _, c := range wire.Children(el, ns, local) {
		v, err := wire.URI(c)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}
