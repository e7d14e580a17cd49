package disco

import (
	"encoding/xml"
	"strconv"
	"strings"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/wire"
)

// unbounded is the max of an xs:sequence particle with maxOccurs="unbounded".
const unbounded = -1

// seq reads the children of an element of complex content as an
// xs:sequence: each take consumes the next run of children of one name,
// and done refuses whatever is left.
type seq struct {
	parent *etree.Element
	kids   []*etree.Element
	i      int
}

// newSeq starts reading el's children, refusing text other than white
// space between them (complex content is element-only in this schema).
func newSeq(el *etree.Element) (*seq, error) {
	for _, t := range el.Child {
		if c, ok := t.(*etree.CharData); ok && strings.TrimSpace(c.Data) != "" {
			return nil, xmlsec.Errorf(xmlsec.KindMalformed, "%s holds text where only elements are allowed", wire.Name(el))
		}
	}
	return &seq{parent: el, kids: el.ChildElements()}, nil
}

// peek returns the next unread child, or nil.
func (s *seq) peek() *etree.Element {
	if s.i < len(s.kids) {
		return s.kids[s.i]
	}
	return nil
}

// take consumes the children {ns}local that come next, at least min and at
// most max of them (max unbounded for no limit).
func (s *seq) take(ns, local string, min, max int) ([]*etree.Element, error) {
	var out []*etree.Element
	for s.i < len(s.kids) && wire.Is(s.kids[s.i], ns, local) {
		out = append(out, s.kids[s.i])
		s.i++
	}
	if len(out) < min || (max != unbounded && len(out) > max) {
		return nil, xmlsec.Errorf(xmlsec.KindMalformed, "%s holds %d {%s}%s, want %s",
			wire.Name(s.parent), len(out), ns, local, occurs(min, max))
	}
	return out, nil
}

func occurs(min, max int) string {
	switch {
	case max == unbounded:
		return "at least " + strconv.Itoa(min)
	case min == max:
		return "exactly " + strconv.Itoa(min)
	}
	return strconv.Itoa(min) + " to " + strconv.Itoa(max)
}

// uris consumes the next run of xs:anyURI children {ns}local.
func (s *seq) uris(ns, local string, min int) ([]string, error) {
	els, err := s.take(ns, local, min, unbounded)
	if err != nil {
		return nil, err
	}
	return mapEls(els, uri)
}

// others consumes the children an xs:any namespace="##other" admits: any
// element in a namespace other than target and not in no namespace. They
// are kept as standalone copies.
func (s *seq) others(target string) []*etree.Element {
	var out []*etree.Element
	for s.i < len(s.kids) {
		ns := s.kids[s.i].NamespaceURI()
		if ns == "" || ns == target {
			break
		}
		out = append(out, xmlsec.DetachCopy(s.kids[s.i]))
		s.i++
	}
	return out
}

// done refuses the first child no particle consumed.
func (s *seq) done() error {
	if c := s.peek(); c != nil {
		return xmlsec.Errorf(xmlsec.KindMalformed, "%s: unexpected child %s", wire.Name(s.parent), wire.Name(c))
	}
	return nil
}

func mapEls[T any](els []*etree.Element, f func(*etree.Element) (T, error)) ([]T, error) {
	var out []T
	for _, el := range els {
		v, err := f(el)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// uri reads an element of type xs:anyURI, or a disco:SvcMDID (an
// xs:string refused empty too, since an empty identifier names no service
// metadata): no attributes, non-empty trimmed text.
func uri(el *etree.Element) (string, error) {
	if _, err := attrs(el, false); err != nil {
		return "", err
	}
	return wire.URI(el)
}

// text reads an element of type xs:string without attributes.
func text(el *etree.Element) (string, error) {
	if _, err := attrs(el, false); err != nil {
		return "", err
	}
	return wire.Text(el)
}

// attrs checks el's attributes: an unqualified one must be listed in
// allowed, a qualified one is refused unless anyOther (xs:anyAttribute
// namespace="##other") admits it, and is then returned. Namespace
// declarations are not attributes here.
func attrs(el *etree.Element, anyOther bool, allowed ...string) ([]xml.Attr, error) {
	var out []xml.Attr
	for i := range el.Attr {
		a := &el.Attr[i]
		if a.Space == "xmlns" || (a.Space == "" && a.Key == "xmlns") {
			continue
		}
		if a.Space == "" {
			if !contains(allowed, a.Key) {
				return nil, xmlsec.Errorf(xmlsec.KindMalformed, "%s: attribute %s not allowed", wire.Name(el), a.Key)
			}
			continue
		}
		ns := attrNS(a)
		if !anyOther || ns == "" || ns == NS {
			return nil, xmlsec.Errorf(xmlsec.KindMalformed, "%s: attribute {%s}%s not allowed", wire.Name(el), ns, a.Key)
		}
		out = append(out, xml.Attr{Name: xml.Name{Space: ns, Local: a.Key}, Value: a.Value})
	}
	return out, nil
}

func attrNS(a *etree.Attr) string {
	if a.Space == "xml" {
		return xmlsec.NSXML
	}
	return a.NamespaceURI()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// notA is the error of a decoder handed an element of another name.
func notA(el *etree.Element, local string) error {
	return xmlsec.Errorf(xmlsec.KindMalformed, "%s is not a disco:%s", wire.Name(el), local)
}

// isDisco reports whether el is disco:local.
func isDisco(el *etree.Element, local string) bool {
	return wire.Is(el, NS, local)
}
