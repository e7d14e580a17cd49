package binding

import (
	"io"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/wire"
)

// SOAP 1.1 identifiers (SOAP 1.1 §4, §5) and what SAML Bindings §3.2 uses of
// them.
const (
	NSSOAP    = "http://schemas.xmlsoap.org/soap/envelope/"
	NSSOAP12  = "http://www.w3.org/2003/05/soap-envelope"
	ActorNext = "http://schemas.xmlsoap.org/soap/actor/next"
	// SOAPAction is the value SAML Bindings §3.2.3.3 lets a sender give the
	// SOAPAction HTTP header; receivers must not require it.
	SOAPAction = "http://www.oasis-open.org/committees/security"
	// ContentTypeSOAP is the media type of a SOAP 1.1 message.
	ContentTypeSOAP = "text/xml; charset=utf-8"
)

// Envelope is a SOAP 1.1 envelope: header blocks, and the one element of its
// Body (SAML Bindings §3.2.3.1: exactly one SAML request or response).
type Envelope struct {
	Header []*etree.Element
	Body   *etree.Element
}

// Element renders the envelope with the S prefix. Header blocks and the Body
// element are copied.
func (e *Envelope) Element() *etree.Element {
	env := etree.NewElement("S:Envelope")
	env.CreateAttr("xmlns:S", NSSOAP)
	if len(e.Header) > 0 {
		h := env.CreateElement("S:Header")
		for _, b := range e.Header {
			h.AddChild(copyInEnvelope(b))
		}
	}
	body := env.CreateElement("S:Body")
	if e.Body != nil {
		body.AddChild(copyInEnvelope(e.Body))
	}
	return env
}

// copyInEnvelope copies el standalone, dropping its declaration of the S
// prefix when it binds the envelope namespace, which the envelope declares.
func copyInEnvelope(el *etree.Element) *etree.Element {
	c := xmlsec.DetachCopy(el)
	if a := c.SelectAttr("xmlns:S"); a != nil && a.Value == NSSOAP {
		c.RemoveAttr("xmlns:S")
	}
	return c
}

// SOAPDecoder reads SOAP 1.1 envelopes of the SAML SOAP and PAOS bindings.
// The zero value uses the default limits and understands the PAOS and ECP
// header blocks.
type SOAPDecoder struct {
	MaxBody int           // bytes of the envelope; 0 means DefaultMaxBody
	Limits  xmlsec.Limits // for xmlsec.Parse
	// Understood lists the header blocks, as "{namespace}local", that the
	// receiver processes; nil means the PAOS and ECP blocks (ECPHeaderNames).
	Understood []string
}

// Decode reads an envelope from r, holding at most MaxBody+1 bytes. A Body
// holding a SOAP Fault is returned as a *Fault error. A header block that
// must be understood by this node and is not in Understood is refused with a
// *Fault of code MustUnderstand (SOAP 1.1 §4.2.3), which the receiver
// sends back. Anything else that is not a SOAP 1.1 envelope with one Body
// element is ErrSOAP; a SOAP 1.2 envelope is a *Fault of code
// VersionMismatch (SOAP 1.1 §4.4.1).
func (d *SOAPDecoder) Decode(r io.Reader) (*Envelope, error) {
	max := orDefault(d.MaxBody, DefaultMaxBody)
	b, err := io.ReadAll(io.LimitReader(r, int64(max)+1))
	if err != nil {
		return nil, &Error{Kind: KindSOAP, Detail: "reading the body", Err: err}
	}
	if len(b) > max {
		return nil, xmlsec.Errorf(xmlsec.KindTooLarge, "SOAP message over %d bytes", max)
	}
	root, err := parse(b, d.Limits)
	if err != nil {
		return nil, err
	}
	return d.read(root)
}

func (d *SOAPDecoder) read(root *etree.Element) (*Envelope, error) {
	if wire.Is(root, NSSOAP12, "Envelope") {
		return nil, &Fault{Code: FaultVersionMismatch, String: "SOAP 1.1 only"}
	}
	if !wire.Is(root, NSSOAP, "Envelope") {
		return nil, errorf(KindSOAP, "root %s", wire.Name(root))
	}
	header, body, err := envelopeParts(root)
	if err != nil {
		return nil, err
	}
	env := &Envelope{}
	if header != nil {
		if env.Header, err = d.headerBlocks(header); err != nil {
			return nil, err
		}
	}
	if env.Body, err = bodyElement(body); err != nil {
		return nil, err
	}
	return env, nil
}

// envelopeParts returns the optional Header and the Body, refusing anything
// else in the envelope: SAML Bindings §3.2 messages have no trailers.
func envelopeParts(root *etree.Element) (header, body *etree.Element, err error) {
	cs := root.ChildElements()
	if len(cs) > 0 && wire.Is(cs[0], NSSOAP, "Header") {
		header, cs = cs[0], cs[1:]
	}
	if len(cs) != 1 || !wire.Is(cs[0], NSSOAP, "Body") {
		return nil, nil, errorf(KindSOAP, "the envelope must hold an optional Header, then Body, and nothing else")
	}
	return header, cs[0], nil
}

// ECPHeaderNames are the header blocks of the PAOS binding and the ECP
// profile, as "{namespace}local".
var ECPHeaderNames = []string{"{" + NSPAOS + "}Request", "{" + NSPAOS + "}Response",
	"{" + NSECP + "}Request", "{" + NSECP + "}Response", "{" + NSECP + "}RelayState"}

func (d *SOAPDecoder) headerBlocks(h *etree.Element) ([]*etree.Element, error) {
	known := d.Understood
	if known == nil {
		known = ECPHeaderNames
	}
	var blocks []*etree.Element
	for _, b := range h.ChildElements() {
		if b.NamespaceURI() == "" {
			return nil, errorf(KindSOAP, "header block %s is not namespace-qualified", b.Tag)
		}
		must, err := mustUnderstand(b)
		if err != nil {
			return nil, err
		}
		if must && forThisNode(b) && !contains(known, wire.Name(b)) {
			return nil, &Fault{Code: FaultMustUnderstand, String: "header " + wire.Name(b) + " not understood"}
		}
		blocks = append(blocks, b)
	}
	return blocks, nil
}

// mustUnderstand reads S:mustUnderstand: "0" or "1" in SOAP 1.1 §4.2.3 and
// its schema. "true" and "false", the other xs:boolean spellings, are read
// too: Lasso 2.8 writes mustUnderstand="true" on its PAOS and ECP blocks,
// and reading it as "1" can only make this node stricter.
func mustUnderstand(b *etree.Element) (bool, error) {
	v, ok := wire.AttrNS(b, NSSOAP, "mustUnderstand")
	if !ok {
		return false, nil
	}
	must, err := wire.ParseBool(v)
	if err != nil {
		return false, errorf(KindSOAP, "mustUnderstand %q on %s", v, wire.Name(b))
	}
	return must, nil
}

// forThisNode reports whether a block targets the ultimate receiver or the
// next node (SOAP 1.1 §4.2.2): no actor, or the "next" actor.
func forThisNode(b *etree.Element) bool {
	a, ok := wire.AttrNS(b, NSSOAP, "actor")
	return !ok || a == ActorNext
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// bodyElement returns the one element of the Body, or the Fault it holds as
// an error.
func bodyElement(body *etree.Element) (*etree.Element, error) {
	cs := body.ChildElements()
	if len(cs) != 1 {
		return nil, errorf(KindSOAP, "the Body holds %d elements, not one", len(cs))
	}
	if wire.Is(cs[0], NSSOAP, "Fault") {
		f, err := decodeFault(cs[0])
		if err != nil {
			return nil, err
		}
		return nil, f
	}
	return cs[0], nil
}
