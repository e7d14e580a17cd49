package binding

import (
	"strings"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/wire"
)

// SOAP 1.1 fault codes (SOAP 1.1 §4.4.1), local names in the envelope
// namespace.
const (
	FaultVersionMismatch = "VersionMismatch"
	FaultMustUnderstand  = "MustUnderstand"
	FaultClient          = "Client"
	FaultServer          = "Server"
)

// Fault is a SOAP 1.1 Fault, received or to be sent. SAML Bindings §3.2.3.3
// keeps faults for SOAP-level failures: SAML errors travel as a SAML
// response with a status. Code is a local name in the envelope namespace
// (FaultClient, ...) or "{namespace}local" for any other QName.
type Fault struct {
	Code   string
	String string
	Actor  string
	Detail []*etree.Element
}

// Error describes the fault; it is a received peer's words or ours.
func (f *Fault) Error() string {
	return "binding: SOAP fault " + f.Code + ": " + f.String
}

// Element renders the fault as an S:Fault, whose faultcode uses the S prefix
// of the envelope it goes into.
func (f *Fault) Element() *etree.Element {
	el := etree.NewElement("S:Fault")
	el.CreateAttr("xmlns:S", NSSOAP)
	code := "S:" + f.Code
	if ns, local, ok := strings.Cut(strings.TrimPrefix(f.Code, "{"), "}"); ok && strings.HasPrefix(f.Code, "{") {
		el.CreateAttr("xmlns:fc", ns)
		code = "fc:" + local
	}
	wire.TextElement(el, "faultcode", code)
	wire.TextElement(el, "faultstring", f.String)
	if f.Actor != "" {
		wire.TextElement(el, "faultactor", f.Actor)
	}
	if len(f.Detail) > 0 {
		d := el.CreateElement("detail")
		for _, c := range f.Detail {
			d.AddChild(xmlsec.DetachCopy(c))
		}
	}
	return el
}

// Envelope returns a SOAP envelope whose Body is the fault.
func (f *Fault) Envelope() *Envelope { return &Envelope{Body: f.Element()} }

// decodeFault reads an S:Fault: faultcode (a QName) and faultstring are
// required, faultactor and detail optional, all unqualified (SOAP 1.1
// §4.4).
func decodeFault(el *etree.Element) (*Fault, error) {
	c, err := wire.Required(el, "", "faultcode")
	if err != nil {
		return nil, err
	}
	cv, err := wire.Text(c)
	if err != nil {
		return nil, err
	}
	ns, local, err := wire.QName(c, cv)
	if err != nil {
		return nil, err
	}
	f := &Fault{Code: local}
	if ns != NSSOAP {
		f.Code = "{" + ns + "}" + local
	}
	s, err := wire.Required(el, "", "faultstring")
	if err != nil {
		return nil, err
	}
	if f.String, err = wire.Text(s); err != nil {
		return nil, err
	}
	if a, _ := wire.Optional(el, "", "faultactor"); a != nil {
		f.Actor, _ = wire.Text(a)
	}
	if d, _ := wire.Optional(el, "", "detail"); d != nil {
		for _, ch := range d.ChildElements() {
			f.Detail = append(f.Detail, xmlsec.DetachCopy(ch))
		}
	}
	return f, nil
}
