package xmlsec

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"

	"github.com/beevik/etree"
)

// Limits bound what Parse accepts. A zero field takes the DefaultLimits value.
type Limits struct {
	MaxBytes    int // size of the input
	MaxDepth    int // element nesting
	MaxElements int // number of elements
}

// DefaultLimits fit every SAML and ID-WSF message Renkei exchanges with room
// to spare: a metadata aggregate is parsed with larger, explicit limits.
var DefaultLimits = Limits{MaxBytes: 1 << 20, MaxDepth: 48, MaxElements: 20000}

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultLimits.MaxBytes
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultLimits.MaxDepth
	}
	if l.MaxElements <= 0 {
		l.MaxElements = DefaultLimits.MaxElements
	}
	return l
}

// Parse reads untrusted bytes into a document, refusing anything a peer has
// no business sending: more than the limits allow, any DOCTYPE or other
// directive (so no entity can be declared, let alone expanded, and nothing
// is fetched), encodings other than UTF-8, names that are not QNames, and
// documents that break the namespace constraints (undeclared prefixes,
// reserved prefixes rebound, an attribute given twice by name or by
// expanded name). These are the ambiguities through which two readers of one
// document, or one reader twice, see different trees: the encoding/xml
// round-trip flaws that github.com/mattermost/xml-roundtrip-validator
// guards crewjam/saml against (CVE-2020-29509, -29510, -29511: extra colons
// in attribute and element names, directives) are each refused here, with
// the namespace context that validator lacks (its per-token check refuses
// valid SOAP messages whose attributes use a prefix declared on an
// ancestor, as ZXID's do). FuzzParse checks the round trip itself: every
// accepted document, written out and parsed again, canonicalizes the same.
//
// Attribute values are normalized as XML 1.0 §3.3.3 requires and
// encoding/xml does not: a literal tab, line feed or carriage return
// becomes a space (character references keep theirs), so digests agree with
// libxml2-based peers (xmlsec1, Lasso, ZXID).
func Parse(b []byte, lim Limits) (*etree.Document, error) {
	doc, _, err := parse(b, lim, 0)
	return doc, err
}

// Span is where an element lies in the bytes it was parsed from: its start
// tag begins at Start, its content runs from Inner to InnerEnd, and its end
// tag ends at End. For an empty-element tag, Inner, InnerEnd and End are
// the offset just after it.
type Span struct{ Start, Inner, InnerEnd, End int }

// ParseSpans is Parse that also returns the spans of the elements down to
// depth (the root is at depth 1): for a caller that must hand on the exact
// bytes of a part of the document, without writing the tree out again.
func ParseSpans(b []byte, lim Limits, depth int) (*etree.Document, map[*etree.Element]Span, error) {
	return parse(b, lim, depth)
}

func parse(b []byte, lim Limits, spanDepth int) (*etree.Document, map[*etree.Element]Span, error) {
	lim = lim.withDefaults()
	if len(b) > lim.MaxBytes {
		return nil, nil, Errorf(KindTooLarge, "%d bytes, limit %d", len(b), lim.MaxBytes)
	}
	doc, spans, err := scan(b, lim, spanDepth)
	if err != nil {
		return nil, nil, err
	}
	if doc.Root() == nil {
		return nil, nil, Errorf(KindMalformed, "no root element")
	}
	return doc, spans, nil
}

// ParseElement is Parse returning the root element.
func ParseElement(b []byte, lim Limits) (*etree.Element, error) {
	doc, err := Parse(b, lim)
	if err != nil {
		return nil, err
	}
	return doc.Root(), nil
}

// scan walks the raw tokens once, enforcing the limits and the checks
// Parse lists, and builds the tree from the same tokens as etree's reader
// would (ReadFromBytes with its default settings, which reads RawTokens
// too): one pass of encoding/xml rather than two, since decoding the
// tokens is most of a parse's cost. A start tag whose attribute values
// hold a literal tab, LF or CR is read again once normalized. The spans of
// the elements down to spanDepth are recorded (none when it is 0).
func scan(b []byte, lim Limits, spanDepth int) (*etree.Document, map[*etree.Element]Span, error) {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	depth, elements := 0, 0
	var ns nsScope
	doc := etree.NewDocument()
	stack := []*etree.Element{&doc.Element}
	var spans map[*etree.Element]Span
	if spanDepth > 0 {
		spans = make(map[*etree.Element]Span)
	}
	for {
		at := d.InputOffset()
		tok, err := d.RawToken()
		if errors.Is(err, io.EOF) {
			if depth != 0 {
				return nil, nil, Errorf(KindMalformed, "unexpected end of document")
			}
			return doc, spans, nil
		}
		if err != nil {
			return nil, nil, Wrap(KindMalformed, err, "")
		}
		top := stack[len(stack)-1]
		switch t := tok.(type) {
		case xml.Directive:
			return nil, nil, Errorf(KindDoctype, "directive <!%.20s…> refused", t)
		case xml.StartElement:
			if err := checkNames(t); err != nil {
				return nil, nil, err
			}
			if err := ns.push(t); err != nil {
				return nil, nil, err
			}
			depth++
			elements++
			if depth > lim.MaxDepth {
				return nil, nil, Errorf(KindTooDeep, "depth over %d", lim.MaxDepth)
			}
			if elements > lim.MaxElements {
				return nil, nil, Errorf(KindTooLarge, "over %d elements", lim.MaxElements)
			}
			if fixed := normalizeTag(b[at:d.InputOffset()]); fixed != nil {
				if t, err = reread(fixed); err != nil {
					return nil, nil, err
				}
			}
			el := element(top, t)
			if depth <= spanDepth {
				spans[el] = Span{Start: int(at), Inner: int(d.InputOffset())}
			}
			stack = append(stack, el)
		case xml.EndElement:
			// RawToken leaves matching the end tag to its caller.
			if depth == 0 || top.Tag != t.Name.Local || top.Space != t.Name.Space {
				return nil, nil, Errorf(KindMalformed, "end tag %s does not match", t.Name.Local)
			}
			if depth <= spanDepth {
				sp := spans[top]
				sp.InnerEnd, sp.End = int(at), int(d.InputOffset())
				spans[top] = sp
			}
			depth--
			ns.pop()
			stack = stack[:len(stack)-1]
		case xml.CharData:
			text := string(t)
			top.CreateText(text).SetData(text) // SetData marks whitespace as etree's reader does
		case xml.Comment:
			top.CreateComment(string(t))
		case xml.ProcInst:
			if t.Target == "xml" && !utf8Decl(t.Inst) {
				return nil, nil, Errorf(KindMalformed, "only UTF-8 documents are accepted")
			}
			top.CreateProcInst(t.Target, string(t.Inst))
		}
	}
}

// element adds the element of start tag t to parent, with its attributes
// in document order. Parse has refused an attribute given twice, so none
// replaces another.
func element(parent *etree.Element, t xml.StartElement) *etree.Element {
	el := &etree.Element{Space: t.Name.Space, Tag: t.Name.Local, Attr: make([]etree.Attr, 0, len(t.Attr))}
	parent.AddChild(el)
	for _, a := range t.Attr {
		key := a.Name.Local
		if a.Name.Space != "" {
			key = a.Name.Space + ":" + a.Name.Local
		}
		el.CreateAttr(key, a.Value)
	}
	return el
}

// normalizeTag returns start tag tag with the literal tabs, LFs and CRs
// of its quoted attribute values made spaces (XML 1.0 §3.3.3: each becomes
// a space, a CR LF pair one space, after §2.11 line-end handling), or nil
// when it holds none. Inside a start tag the only quoted text is attribute
// values; character references are left for the decoder, which keeps
// theirs.
func normalizeTag(tag []byte) []byte {
	if bytes.IndexAny(tag, "\t\n\r") < 0 {
		return nil
	}
	out := make([]byte, 0, len(tag))
	var quote byte
	for i := 0; i < len(tag); i++ {
		c := tag[i]
		switch {
		case quote == 0 && (c == '"' || c == '\''):
			quote = c
		case c == quote:
			quote = 0
		case quote != 0 && c == '\r' && i+1 < len(tag) && tag[i+1] == '\n':
			continue // the LF that follows becomes the space
		case quote != 0 && (c == '\t' || c == '\n' || c == '\r'):
			c = ' '
		}
		out = append(out, c)
	}
	return out
}

// reread decodes a normalized start tag alone: RawToken resolves no
// prefix, so the tag needs none of its context.
func reread(tag []byte) (xml.StartElement, error) {
	d := xml.NewDecoder(bytes.NewReader(tag))
	d.Strict = true
	tok, err := d.RawToken()
	t, ok := tok.(xml.StartElement)
	if err != nil || !ok {
		return xml.StartElement{}, Errorf(KindMalformed, "start tag not read again once normalized: %v", err)
	}
	return t, nil
}

// checkNames refuses element and attribute names that are not QNames
// (":a", "a:", "a:b:c"): encoding/xml reads them, but each reader of the
// tree would see a different name.
func checkNames(t xml.StartElement) error {
	if !qname(t.Name) {
		return Errorf(KindMalformed, "element name %q:%q is not a QName", t.Name.Space, t.Name.Local)
	}
	for _, a := range t.Attr {
		if !qname(a.Name) {
			return Errorf(KindMalformed, "attribute name %q:%q is not a QName", a.Name.Space, a.Name.Local)
		}
	}
	return nil
}

func qname(n xml.Name) bool {
	return n.Local != "" && !strings.Contains(n.Local, ":") && !strings.Contains(n.Space, ":")
}

// utf8Decl reports whether an XML declaration names UTF-8 or no encoding.
func utf8Decl(inst []byte) bool {
	i := bytes.Index(inst, []byte("encoding"))
	if i < 0 {
		return true
	}
	rest := bytes.TrimLeft(inst[i+len("encoding"):], " \t\r\n=")
	if len(rest) == 0 {
		return false
	}
	q := rest[0]
	rest = rest[1:]
	j := bytes.IndexByte(rest, q)
	if j < 0 {
		return false
	}
	return bytes.EqualFold(rest[:j], []byte("UTF-8")) || bytes.EqualFold(rest[:j], []byte("UTF8"))
}
