// Package wire holds the strict element readers and writers that Renkei's
// SAML and ID-WSF wire packages share: namespace-aware child and attribute
// lookup, simple content that refuses child elements, xs:dateTime in UTC and
// xs:boolean. Every failure is an *xmlsec.Error of kind KindMalformed.
//
// Attributes are matched by namespace URI, never by prefix: etree's
// SelectAttr matches "ID" against "x:ID" too, which a signature-wrapping
// message could exploit, so it is not used for wire data.
package wire

import (
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/xmlsec"
)

// Is reports whether el is the element {ns}local.
func Is(el *etree.Element, ns, local string) bool {
	return el != nil && el.Tag == local && el.NamespaceURI() == ns
}

// Name returns el's expanded name as "{ns}local", for messages.
func Name(el *etree.Element) string {
	return "{" + el.NamespaceURI() + "}" + el.Tag
}

// Children returns the child elements of el named {ns}local, in order.
func Children(el *etree.Element, ns, local string) []*etree.Element {
	var out []*etree.Element
	for _, c := range el.ChildElements() {
		if Is(c, ns, local) {
			out = append(out, c)
		}
	}
	return out
}

// Optional returns the one child {ns}local of el, nil when there is none,
// and ErrMalformed when there are several.
func Optional(el *etree.Element, ns, local string) (*etree.Element, error) {
	cs := Children(el, ns, local)
	switch len(cs) {
	case 0:
		return nil, nil
	case 1:
		return cs[0], nil
	}
	return nil, xmlsec.Errorf(xmlsec.KindMalformed, "%s holds %d {%s}%s, at most one allowed", Name(el), len(cs), ns, local)
}

// Required returns the one child {ns}local of el, or ErrMalformed when
// there is none or several.
func Required(el *etree.Element, ns, local string) (*etree.Element, error) {
	c, err := Optional(el, ns, local)
	if err == nil && c == nil {
		err = xmlsec.Errorf(xmlsec.KindMalformed, "%s lacks {%s}%s", Name(el), ns, local)
	}
	return c, err
}

// Attr returns the value of el's unqualified attribute name.
func Attr(el *etree.Element, name string) (string, bool) {
	for i := range el.Attr {
		a := &el.Attr[i]
		if a.Space == "" && a.Key == name {
			return a.Value, true
		}
	}
	return "", false
}

// AttrNS returns the value of el's attribute {ns}name.
func AttrNS(el *etree.Element, ns, name string) (string, bool) {
	for i := range el.Attr {
		a := &el.Attr[i]
		if a.Space != "" && a.Space != "xmlns" && a.Key == name && a.NamespaceURI() == ns {
			return a.Value, true
		}
	}
	return "", false
}

// RequiredAttr returns el's unqualified attribute name, or ErrMalformed
// when it is absent or empty.
func RequiredAttr(el *etree.Element, name string) (string, error) {
	v, ok := Attr(el, name)
	if !ok || strings.TrimSpace(v) == "" {
		return "", xmlsec.Errorf(xmlsec.KindMalformed, "%s lacks attribute %s", Name(el), name)
	}
	return v, nil
}

// Text returns the character content of an element of simple type,
// refusing with ErrMalformed one that holds child elements.
func Text(el *etree.Element) (string, error) {
	var b strings.Builder
	for _, t := range el.Child {
		switch c := t.(type) {
		case *etree.Element:
			return "", xmlsec.Errorf(xmlsec.KindMalformed, "%s holds element %s where text is expected", Name(el), Name(c))
		case *etree.CharData:
			b.WriteString(c.Data)
		}
	}
	return b.String(), nil
}

// URI returns the collapsed text of an xs:anyURI element, refusing an
// empty one.
func URI(el *etree.Element) (string, error) {
	s, err := Text(el)
	if err != nil {
		return "", err
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return "", xmlsec.Errorf(xmlsec.KindMalformed, "%s is empty", Name(el))
	}
	return s, nil
}

// ParseTime reads an xs:dateTime that must be in UTC ("Z"), as SAML Core
// §1.3.3 and WS-Security's wsu:Timestamp require; fractional seconds are
// allowed.
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if !strings.HasSuffix(s, "Z") {
		return time.Time{}, xmlsec.Errorf(xmlsec.KindMalformed, "time %q is not in UTC", s)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, xmlsec.Wrap(xmlsec.KindMalformed, err, "xs:dateTime")
	}
	return t, nil
}

// FormatTime writes t in UTC with the "Z" designator, to the millisecond
// (truncated; fractional digits only when t has them). SAML Core §1.3.3
// tells relying parties not to depend on finer resolution, and some peers'
// parsers (.NET's, seven digits at most) refuse the nine Go would write.
func FormatTime(t time.Time) string {
	return t.UTC().Truncate(time.Millisecond).Format(timeLayout)
}

// timeLayout is xs:dateTime in UTC with up to three fractional digits.
const timeLayout = "2006-01-02T15:04:05.999Z07:00"

// TimeAttr reads an optional xs:dateTime attribute; absent is the zero
// time.
func TimeAttr(el *etree.Element, name string) (time.Time, error) {
	v, ok := Attr(el, name)
	if !ok {
		return time.Time{}, nil
	}
	return ParseTime(v)
}

// SetTimeAttr writes a non-zero time as attribute name.
func SetTimeAttr(el *etree.Element, name string, t time.Time) {
	if !t.IsZero() {
		el.CreateAttr(name, FormatTime(t))
	}
}

// ParseBool reads an xs:boolean: "1", "0", "true" or "false" (IDWSF2 §11
// item 11: all four occur on the wire).
func ParseBool(s string) (bool, error) {
	switch strings.TrimSpace(s) {
	case "1", "true":
		return true, nil
	case "0", "false":
		return false, nil
	}
	return false, xmlsec.Errorf(xmlsec.KindMalformed, "%q is not an xs:boolean", s)
}

// SetAttr writes attribute key when value is not empty.
func SetAttr(el *etree.Element, key, value string) {
	if value != "" {
		el.CreateAttr(key, value)
	}
}

// TextElement appends a child tag holding text to parent and returns it.
func TextElement(parent *etree.Element, tag, text string) *etree.Element {
	c := parent.CreateElement(tag)
	c.SetText(text)
	return c
}

// LookupPrefix returns the namespace URI bound to prefix at el ("" for the
// default namespace), searching el and its ancestors, and false when the
// prefix is not declared. It resolves QName values such as a SOAP
// faultcode or an xsi:type.
func LookupPrefix(el *etree.Element, prefix string) (string, bool) {
	for e := el; e != nil; e = e.Parent() {
		for _, a := range e.Attr {
			if (prefix == "" && a.Space == "" && a.Key == "xmlns") || (prefix != "" && a.Space == "xmlns" && a.Key == prefix) {
				return a.Value, true
			}
		}
	}
	return "", false
}

// QName resolves a QName value read in el's scope to its namespace URI and
// local part.
func QName(el *etree.Element, value string) (ns, local string, err error) {
	value = strings.TrimSpace(value)
	prefix, local, found := strings.Cut(value, ":")
	if !found {
		prefix, local = "", value
	}
	ns, ok := LookupPrefix(el, prefix)
	if local == "" || strings.Contains(local, ":") || (!ok && prefix != "") {
		return "", "", xmlsec.Errorf(xmlsec.KindMalformed, "QName %q cannot be resolved", value)
	}
	return ns, local, nil
}
