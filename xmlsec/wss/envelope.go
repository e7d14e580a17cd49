package wss

import (
	"strings"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/wire"
)

// envelope holds the structural elements of a SOAP 1.1 envelope. header
// and security are nil when absent.
type envelope struct {
	root, header, body, security *etree.Element
}

// parseEnvelope checks the SOAP 1.1 shape (SOAP 1.1 §4: Envelope, an
// optional Header first, exactly one Body; ID-WSF 2.0 uses SOAP 1.1 only,
// IDWSF2.md §2.1) and finds the one wsse:Security header. Anything else
// directly in the Envelope, or a second Header, Body or Security, is
// ErrMalformed: a second container is where signature wrapping hides.
func parseEnvelope(env *etree.Element) (envelope, error) {
	e := envelope{root: env}
	if env == nil || !wire.Is(env, NSSOAP11, "Envelope") {
		return e, xmlsec.Errorf(xmlsec.KindMalformed, "not a SOAP 1.1 Envelope")
	}
	for _, c := range env.ChildElements() {
		if err := e.addChild(c); err != nil {
			return e, err
		}
	}
	if e.body == nil {
		return e, xmlsec.Errorf(xmlsec.KindMalformed, "Envelope without Body")
	}
	return e, e.findSecurity()
}

func (e *envelope) addChild(c *etree.Element) error {
	switch {
	case wire.Is(c, NSSOAP11, "Header") && e.header == nil && e.body == nil:
		e.header = c
	case wire.Is(c, NSSOAP11, "Body") && e.body == nil:
		e.body = c
	default:
		return xmlsec.Errorf(xmlsec.KindMalformed, "unexpected <%s> in Envelope", c.FullTag())
	}
	return nil
}

func (e *envelope) findSecurity() error {
	if e.header == nil {
		return nil
	}
	secs := wire.Children(e.header, NSWSSE, "Security")
	if len(secs) > 1 {
		return xmlsec.Errorf(xmlsec.KindMalformed, "%d wsse:Security headers", len(secs))
	}
	if len(secs) == 1 {
		e.security = secs[0]
	}
	return nil
}

// place says where el sits in the envelope.
func (e *envelope) place(el *etree.Element) Place {
	switch p := el.Parent(); {
	case el == e.body:
		return PlaceBody
	case p == nil:
		return PlaceOther
	case p == e.header:
		return PlaceHeader
	case p == e.security && e.security != nil:
		return PlaceSecurity
	}
	return PlaceOther
}

// RequiredParts lists the elements of env that the ID-WSF 2.0 SOAP binding
// requires a message signature to cover (IDWSF2.md §2.4, the set ZXID
// signs): every header block in the sb, sbf or wsa namespace, every header
// block copied from an EPR's wsa:ReferenceParameters
// (wsa:IsReferenceParameter="true", WS-Addressing 1.0 SOAP Binding §3.1),
// the wsu:Timestamp, each wsse:SecurityTokenReference and
// wsse:BinarySecurityToken of wsse:Security, and the Body, in document
// order. Parts that are absent are not listed: whether a Timestamp or a
// token must be present is the security mechanism's rule, not this one.
// env is only read. A malformed envelope is ErrMalformed.
func RequiredParts(env *etree.Element) ([]*etree.Element, error) {
	e, err := parseEnvelope(env)
	if err != nil {
		return nil, err
	}
	return e.required(), nil
}

// required is RequiredParts of a parsed envelope.
func (e *envelope) required() []*etree.Element {
	var out []*etree.Element
	if e.header != nil {
		for _, h := range e.header.ChildElements() {
			out = appendRequired(out, h, h == e.security)
		}
	}
	return append(out, e.body)
}

func appendRequired(out []*etree.Element, h *etree.Element, security bool) []*etree.Element {
	if security {
		for _, c := range h.ChildElements() {
			if requiredInSecurity(c) {
				out = append(out, c)
			}
		}
		return out
	}
	if requiredHeader(h) {
		out = append(out, h)
	}
	return out
}

func requiredHeader(h *etree.Element) bool {
	switch h.NamespaceURI() {
	case NSSB, NSSBF, NSWSA:
		return true
	}
	return isReferenceParameter(h)
}

func requiredInSecurity(c *etree.Element) bool {
	return wire.Is(c, NSWSU, "Timestamp") || wire.Is(c, NSWSSE, "SecurityTokenReference") || wire.Is(c, NSWSSE, "BinarySecurityToken")
}

// isReferenceParameter reports whether a header block carries
// wsa:IsReferenceParameter="true" (or "1").
func isReferenceParameter(h *etree.Element) bool {
	for i := range h.Attr {
		a := &h.Attr[i]
		if a.Key == "IsReferenceParameter" && a.Space != "" && a.NamespaceURI() == NSWSA {
			v := strings.TrimSpace(a.Value)
			return v == "true" || v == "1"
		}
	}
	return false
}
