package wsf

import (
	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/wire"
)

// Envelope is a SOAP 1.1 envelope (SOAP 1.1 §4) split into its parts: the
// document, S:Header (always present in ID-WSF, IDWSF2 §2.3 step 1) and
// S:Body with its single child (IDWSF2 §2.1). A parsed Envelope is
// unverified: only wsf/secmech decides what of it may be relied on.
type Envelope struct {
	Doc    *etree.Document
	Header *etree.Element
	Body   *etree.Element
	// Spans are the byte spans, in the message ParseEnvelopeSpans read,
	// of the elements down to the children of the header blocks and of
	// the payload (depth SpanDepth); nil for any other envelope.
	Spans map[*etree.Element]xmlsec.Span
}

// SpanDepth is the depth down to which ParseEnvelopeSpans records spans:
// S:Envelope, S:Header and S:Body, the header blocks and the payload,
// their children.
const SpanDepth = 4

// Limits bound what a receiver parses: the document limits of xmlsec.Parse.
type Limits = xmlsec.Limits

// ParseEnvelope reads a message through xmlsec.Parse (size, depth and
// element limits, no DTD) and checks the envelope's shape: S:Envelope in
// the SOAP 1.1 namespace (any other root is a VersionMismatch per SOAP 1.1
// §4.4.1, reported as ErrMsgNotUnderstood), S:Header then S:Body and
// nothing else, and exactly one element in S:Body.
func ParseEnvelope(b []byte, lim Limits) (*Envelope, error) {
	return parseEnvelope(b, lim, 0)
}

// ParseEnvelopeSpans is ParseEnvelope that also records Spans, for a
// receiver that validates the parts of a message apart (wsf/server).
func ParseEnvelopeSpans(b []byte, lim Limits) (*Envelope, error) {
	return parseEnvelope(b, lim, SpanDepth)
}

func parseEnvelope(b []byte, lim Limits, spanDepth int) (*Envelope, error) {
	doc, spans, err := xmlsec.ParseSpans(b, lim, spanDepth)
	if err != nil {
		return nil, err
	}
	root := doc.Root()
	if !wire.Is(root, NSSOAP, "Envelope") {
		return nil, Errorf(IDStarMsgNotUnderstood, "root %s is not a SOAP 1.1 Envelope", wire.Name(root))
	}
	kids := root.ChildElements()
	if len(kids) != 2 || !wire.Is(kids[0], NSSOAP, "Header") || !wire.Is(kids[1], NSSOAP, "Body") {
		return nil, Errorf(IDStarMsgNotUnderstood, "envelope must hold S:Header then S:Body")
	}
	env := &Envelope{Doc: doc, Header: kids[0], Body: kids[1], Spans: spans}
	if n := len(env.Body.ChildElements()); n != 1 {
		return nil, Errorf(IDStarMsgNotUnderstood, "S:Body holds %d elements, want 1", n)
	}
	return env, nil
}

// Payload returns the single child of S:Body.
func (e *Envelope) Payload() *etree.Element {
	return e.Body.ChildElements()[0]
}

// Fault returns the S:Fault of the body decoded, or nil when the body is
// not a fault.
func (e *Envelope) Fault() (*Fault, error) {
	p := e.Payload()
	if !wire.Is(p, NSSOAP, "Fault") {
		return nil, nil
	}
	return DecodeFault(p)
}

// NewEnvelope builds an envelope for h and payload: every prefix Renkei
// writes declared on S:Envelope, the header blocks of h, an empty
// wsse:Security for wsf/secmech to fill, and S:Body with wsu:Id "BDY"
// holding a standalone copy of payload.
func NewEnvelope(h *Header, payload *etree.Element) *Envelope {
	doc := etree.NewDocument()
	root := doc.CreateElement("S:Envelope")
	for _, p := range prefixes {
		root.CreateAttr("xmlns:"+p[0], p[1])
	}
	hdr := root.CreateElement("S:Header")
	h.appendBlocks(hdr)
	sec := hdr.CreateElement("wsse:Security")
	sec.CreateAttr("S:mustUnderstand", "1")
	sec.CreateAttr("S:actor", ActorNext)
	body := root.CreateElement("S:Body")
	body.CreateAttr("wsu:Id", IDBody)
	body.AddChild(xmlsec.DetachCopy(payload))
	return &Envelope{Doc: doc, Header: hdr, Body: body}
}

// Security returns the wsse:Security block addressed to this node: no
// S:actor or S:actor next. Several such blocks are ErrMsgNotUnderstood;
// none is nil.
func (e *Envelope) Security() (*etree.Element, error) {
	var found *etree.Element
	for _, el := range wire.Children(e.Header, NSWSSE, "Security") {
		if forUs, _, err := blockTarget(el); err != nil || !forUs {
			continue
		}
		if found != nil {
			return nil, Errorf(IDStarMsgNotUnderstood, "several wsse:Security blocks for this node")
		}
		found = el
	}
	return found, nil
}

// Bytes serializes the envelope without an XML declaration, as
// xmlsec.SerializeDocument writes for the wire: whitespace in attribute
// values and CR in text as character references, so that the receiver
// reads the tree that was signed.
func (e *Envelope) Bytes() ([]byte, error) {
	return xmlsec.SerializeDocument(e.Doc)
}

// DecodeFault reads an S:Fault: faultcode (a QName, resolved in its
// scope), faultstring, faultactor, and in detail an lu:Status and an
// sb:RedirectRequest.
func DecodeFault(el *etree.Element) (*Fault, error) {
	fc, err := wire.Required(el, "", "faultcode")
	if err != nil {
		return nil, err
	}
	code, err := wire.Text(fc)
	if err != nil {
		return nil, err
	}
	f := &Fault{}
	if f.Code.Space, f.Code.Local, err = wire.QName(fc, code); err != nil {
		return nil, err
	}
	f.String, _ = childText(el, "faultstring")
	f.Actor, _ = childText(el, "faultactor")
	detail, err := wire.Optional(el, "", "detail")
	if err != nil || detail == nil {
		return f, err
	}
	return f, f.decodeDetail(detail)
}

func (f *Fault) decodeDetail(detail *etree.Element) error {
	st, err := wire.Optional(detail, NSLU, "Status")
	if err != nil {
		return err
	}
	if st != nil {
		s, err := DecodeStatus(st)
		if err != nil {
			return err
		}
		f.Status = &s
	}
	rr, err := wire.Optional(detail, NSSB, "RedirectRequest")
	if err != nil || rr == nil {
		return err
	}
	f.RedirectURL, err = wire.RequiredAttr(rr, "redirectURL")
	return err
}

func childText(el *etree.Element, local string) (string, error) {
	c, err := wire.Optional(el, "", local)
	if err != nil || c == nil {
		return "", err
	}
	return wire.Text(c)
}
