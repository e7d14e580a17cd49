package samlp

import (
	"strconv"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/wire"
)

// qname is an expanded element name.
type qname struct{ ns, local string }

var (
	qIssuer     = qname{saml.NS, "Issuer"}
	qSignature  = qname{saml.NSDSig, "Signature"}
	qExtensions = qname{NS, "Extensions"}
)

// authnRequestChildren is the content model of samlp:AuthnRequestType.
var authnRequestChildren = []qname{qIssuer, qSignature, qExtensions,
	{saml.NS, "Subject"}, {NS, "NameIDPolicy"}, {saml.NS, "Conditions"},
	{NS, "RequestedAuthnContext"}, {NS, "Scoping"}}

// checkSequence refuses child elements of el that are not in seq, repeat one
// that occurs at most once, or come out of order: a sequence of optional
// elements as the protocol schema writes them.
func checkSequence(el *etree.Element, seq []qname) error {
	return checkElements(el, el.ChildElements(), seq)
}

// checkElements is checkSequence over the given children of el.
func checkElements(el *etree.Element, children []*etree.Element, seq []qname) error {
	return checkRepeating(el, children, seq, qname{})
}

// checkSequenceRepeating is checkSequence where the element rep may occur
// any number of times.
func checkSequenceRepeating(el *etree.Element, seq []qname, rep qname) error {
	return checkRepeating(el, el.ChildElements(), seq, rep)
}

func checkRepeating(el *etree.Element, children []*etree.Element, seq []qname, rep qname) error {
	i := 0
	for _, c := range children {
		q := qname{c.NamespaceURI(), c.Tag}
		if i > 0 && q == rep && seq[i-1] == rep {
			continue
		}
		for i < len(seq) && seq[i] != q {
			i++
		}
		if i == len(seq) {
			return xmlsec.Errorf(xmlsec.KindMalformed, "%s is unexpected or out of order in %s", wire.Name(c), wire.Name(el))
		}
		i++
	}
	return nil
}

func (r *AuthnRequest) decodeChildren(el *etree.Element) error {
	if err := checkSequence(el, authnRequestChildren); err != nil {
		return err
	}
	var err error
	if s := firstChild(el, saml.NS, "Subject"); s != nil {
		if r.Subject, err = decodeRequestSubject(s); err != nil {
			return err
		}
	}
	if p := firstChild(el, NS, "NameIDPolicy"); p != nil {
		if r.NameIDPolicy, err = decodeNameIDPolicy(p); err != nil {
			return err
		}
	}
	if c := firstChild(el, saml.NS, "Conditions"); c != nil {
		if r.Conditions, err = decodeConditions(c); err != nil {
			return err
		}
	}
	if c := firstChild(el, NS, "RequestedAuthnContext"); c != nil {
		if r.RequestedAuthnContext, err = decodeRequestedAuthnContext(c); err != nil {
			return err
		}
	}
	if s := firstChild(el, NS, "Scoping"); s != nil {
		r.Scoping, err = decodeScoping(s)
	}
	return err
}

func firstChild(el *etree.Element, ns, local string) *etree.Element {
	if cs := wire.Children(el, ns, local); len(cs) > 0 {
		return cs[0]
	}
	return nil
}

func decodeNameIDPolicy(el *etree.Element) (*NameIDPolicy, error) {
	p := &NameIDPolicy{}
	p.Format, _ = wire.Attr(el, "Format")
	p.SPNameQualifier, _ = wire.Attr(el, "SPNameQualifier")
	var err error
	p.AllowCreate, err = boolAttr(el, "AllowCreate")
	return p, err
}

var comparisons = map[string]bool{"": true, ComparisonExact: true, ComparisonMinimum: true, ComparisonMaximum: true, ComparisonBetter: true}

// decodeRequestedAuthnContext reads the comparison and either class or
// declaration references, at least one (AuthnContextComparisonType and the
// choice of RequestedAuthnContextType).
func decodeRequestedAuthnContext(el *etree.Element) (*RequestedAuthnContext, error) {
	c := &RequestedAuthnContext{}
	c.Comparison, _ = wire.Attr(el, "Comparison")
	if !comparisons[c.Comparison] {
		return nil, xmlsec.Errorf(xmlsec.KindMalformed, "Comparison %q", c.Comparison)
	}
	for _, ch := range el.ChildElements() {
		v, err := wire.URI(ch)
		if err != nil {
			return nil, err
		}
		switch {
		case wire.Is(ch, saml.NS, "AuthnContextClassRef") && len(c.DeclRefs) == 0:
			c.ClassRefs = append(c.ClassRefs, v)
		case wire.Is(ch, saml.NS, "AuthnContextDeclRef") && len(c.ClassRefs) == 0:
			c.DeclRefs = append(c.DeclRefs, v)
		default:
			return nil, xmlsec.Errorf(xmlsec.KindMalformed, "%s in samlp:RequestedAuthnContext", wire.Name(ch))
		}
	}
	if len(c.ClassRefs)+len(c.DeclRefs) == 0 {
		return nil, xmlsec.Errorf(xmlsec.KindMalformed, "empty samlp:RequestedAuthnContext")
	}
	return c, nil
}

func decodeScoping(el *etree.Element) (*Scoping, error) {
	s := &Scoping{}
	if v, ok := wire.Attr(el, "ProxyCount"); ok {
		n, err := strconv.ParseUint(v, 10, 31)
		if err != nil {
			return nil, xmlsec.Errorf(xmlsec.KindMalformed, "ProxyCount %q", v)
		}
		pc := int(n)
		s.ProxyCount = &pc
	}
	for _, ch := range el.ChildElements() {
		switch {
		case wire.Is(ch, NS, "IDPList") && s.IDPList == nil && len(s.RequesterIDs) == 0:
			l, err := DecodeIDPList(ch)
			if err != nil {
				return nil, err
			}
			s.IDPList = l
		case wire.Is(ch, NS, "RequesterID"):
			v, err := wire.URI(ch)
			if err != nil {
				return nil, err
			}
			s.RequesterIDs = append(s.RequesterIDs, v)
		default:
			return nil, xmlsec.Errorf(xmlsec.KindMalformed, "%s in samlp:Scoping", wire.Name(ch))
		}
	}
	return s, nil
}

// DecodeIDPList reads a samlp:IDPList: one or more IDPEntry, then an optional
// GetComplete (SAML Core §3.4.1.3).
func DecodeIDPList(el *etree.Element) (*IDPList, error) {
	if !wire.Is(el, NS, "IDPList") {
		return nil, xmlsec.Errorf(xmlsec.KindMalformed, "%s is not a samlp:IDPList", wire.Name(el))
	}
	l := &IDPList{}
	for _, ch := range el.ChildElements() {
		switch {
		case wire.Is(ch, NS, "IDPEntry") && l.GetComplete == "":
			e, err := decodeIDPEntry(ch)
			if err != nil {
				return nil, err
			}
			l.Entries = append(l.Entries, e)
		case wire.Is(ch, NS, "GetComplete") && l.GetComplete == "" && len(l.Entries) > 0:
			v, err := wire.URI(ch)
			if err != nil {
				return nil, err
			}
			l.GetComplete = v
		default:
			return nil, xmlsec.Errorf(xmlsec.KindMalformed, "%s in samlp:IDPList", wire.Name(ch))
		}
	}
	if len(l.Entries) == 0 {
		return nil, xmlsec.Errorf(xmlsec.KindMalformed, "samlp:IDPList without samlp:IDPEntry")
	}
	return l, nil
}

func decodeIDPEntry(el *etree.Element) (IDPEntry, error) {
	var e IDPEntry
	var err error
	if e.ProviderID, err = wire.RequiredAttr(el, "ProviderID"); err != nil {
		return e, err
	}
	e.Name, _ = wire.Attr(el, "Name")
	e.Loc, _ = wire.Attr(el, "Loc")
	return e, nil
}
