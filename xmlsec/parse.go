package xmlsec

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"

	"github.com/beevik/etree"
	xrv "github.com/mattermost/xml-roundtrip-validator"
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
// is fetched), encodings other than UTF-8, and tokens that encoding/xml
// would not read back unchanged (the round-trip check of
// github.com/mattermost/xml-roundtrip-validator), so that what a signature
// check sees is exactly what is read later.
func Parse(b []byte, lim Limits) (*etree.Document, error) {
	lim = lim.withDefaults()
	if len(b) > lim.MaxBytes {
		return nil, Errorf(KindTooLarge, "%d bytes, limit %d", len(b), lim.MaxBytes)
	}
	if err := scan(b, lim); err != nil {
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
// limits, refusing directives and checking that every token round-trips.
func scan(b []byte, lim Limits) error {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	depth, elements := 0, 0
	var ns nsScope
	for {
		tok, err := d.RawToken()
		if errors.Is(err, io.EOF) {
			if depth != 0 {
				return Errorf(KindMalformed, "unexpected end of document")
			}
			return nil
		}
		if err != nil {
			return Wrap(KindMalformed, err, "")
		}
		switch t := tok.(type) {
		case xml.Directive:
			return Errorf(KindDoctype, "directive <!%.20s…> refused", t)
		case xml.StartElement:
			if err := checkStart(t, &ns); err != nil {
				return err
			}
			depth++
			elements++
			if depth > lim.MaxDepth {
				return Errorf(KindTooDeep, "depth over %d", lim.MaxDepth)
			}
			if elements > lim.MaxElements {
				return Errorf(KindTooLarge, "over %d elements", lim.MaxElements)
			}
		case xml.EndElement:
			depth--
			ns.pop()
		case xml.ProcInst:
			if t.Target == "xml" && !utf8Decl(t.Inst) {
				return Errorf(KindMalformed, "only UTF-8 documents are accepted")
			}
		}
	}
}

// checkStart checks a start tag: QNames only, and it must survive a round
// trip through encoding/xml (mattermost's check, which catches the name and
// namespace mutations of encoding/xml that signature wrapping exploited).
// Only start tags are round-tripped: every known mutation lives in element
// or attribute names; an end tag must match its start tag (the strict tree
// parse checks that), and character data, comments and processing
// instructions are escaped on output and read back unchanged. Checking every
// token cost about 8 KB of encoder and decoder buffers each.
func checkStart(t xml.StartElement, ns *nsScope) error {
	if err := checkNames(t); err != nil {
		return err
	}
	if err := ns.push(t); err != nil {
		return err
	}
	return roundTrip(t)
}

func roundTrip(t xml.StartElement) error {
	if err := xrv.CheckToken(t); err != nil {
		return Wrap(KindRoundTrip, err, "")
	}
	return nil
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
