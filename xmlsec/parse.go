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
	lim = lim.withDefaults()
	if len(b) > lim.MaxBytes {
		return nil, Errorf(KindTooLarge, "%d bytes, limit %d", len(b), lim.MaxBytes)
	}
	b, err := scan(b, lim)
	if err != nil {
		return nil, err
	}
	doc := etree.NewDocument()
	doc.ReadSettings = etree.ReadSettings{}
	if err := doc.ReadFromBytes(b); err != nil {
		return nil, Wrap(KindMalformed, err, "")
	}
	if doc.Root() == nil {
		return nil, Errorf(KindMalformed, "no root element")
	}
	return doc, nil
}

// ParseElement is Parse returning the root element.
func ParseElement(b []byte, lim Limits) (*etree.Element, error) {
	doc, err := Parse(b, lim)
	if err != nil {
		return nil, err
	}
	return doc.Root(), nil
}

// scan walks the raw tokens once, before any tree is built, enforcing the
// limits and the checks Parse lists. It returns b, or a copy of b with its
// attribute values normalized when any holds a literal tab, LF or CR.
func scan(b []byte, lim Limits) ([]byte, error) {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	depth, elements := 0, 0
	var ns nsScope
	norm := attrNormalizer{orig: b}
	for {
		at := d.InputOffset()
		tok, err := d.RawToken()
		if errors.Is(err, io.EOF) {
			if depth != 0 {
				return nil, Errorf(KindMalformed, "unexpected end of document")
			}
			return norm.result(), nil
		}
		if err != nil {
			return nil, Wrap(KindMalformed, err, "")
		}
		switch t := tok.(type) {
		case xml.Directive:
			return nil, Errorf(KindDoctype, "directive <!%.20s…> refused", t)
		case xml.StartElement:
			if err := checkNames(t); err != nil {
				return nil, err
			}
			if err := ns.push(t); err != nil {
				return nil, err
			}
			depth++
			elements++
			if depth > lim.MaxDepth {
				return nil, Errorf(KindTooDeep, "depth over %d", lim.MaxDepth)
			}
			if elements > lim.MaxElements {
				return nil, Errorf(KindTooLarge, "over %d elements", lim.MaxElements)
			}
			norm.tag(at, d.InputOffset())
		case xml.EndElement:
			depth--
			ns.pop()
		case xml.ProcInst:
			if t.Target == "xml" && !utf8Decl(t.Inst) {
				return nil, Errorf(KindMalformed, "only UTF-8 documents are accepted")
			}
		}
	}
}

// attrNormalizer rewrites the start tags whose quoted attribute values hold
// a literal tab, LF or CR (XML 1.0 §3.3.3: each becomes a space, a CR LF
// pair one space, after §2.11 line-end handling). The output is copied only
// from the first such tag on; inside a start tag the only quoted text is
// attribute values.
type attrNormalizer struct {
	orig, out []byte // out is nil while nothing needed rewriting
	copied    int    // orig[:copied] is in out
}

func (n *attrNormalizer) tag(from, to int64) {
	tag := n.orig[from:to]
	if bytes.IndexAny(tag, "\t\n\r") < 0 {
		return
	}
	n.out = append(n.out, n.orig[n.copied:from]...)
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
		n.out = append(n.out, c)
	}
	n.copied = int(to)
}

func (n *attrNormalizer) result() []byte {
	if n.out == nil {
		return n.orig
	}
	return append(n.out, n.orig[n.copied:]...)
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
