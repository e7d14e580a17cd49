package xmlenc

import (
	"bytes"
	"strings"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/xmlsec"
)

// serialize writes el as the plaintext of an Element-type EncryptedData:
// el carrying every namespace declaration in scope at it (xmlsec.Serialize),
// so that it reads the same wherever it is decrypted. Attribute values
// escape tab, line feed and carriage return, and text escapes carriage
// return, so that a signature inside el survives the trip. A prefix that
// nothing in scope binds is refused.
func serialize(el *etree.Element) ([]byte, error) {
	bound := map[string]bool{"xml": true}
	if p := el.Parent(); p != nil {
		for _, d := range inScope(p) {
			if d.prefix != "" {
				bound[d.prefix] = true
			}
		}
	}
	if p := unboundPrefix(el, bound); p != "" {
		return nil, xmlsec.Errorf(xmlsec.KindMalformed, "prefix %q is not declared", p)
	}
	return xmlsec.Serialize(el)
}

// contextTag is the name of the element the plaintext is parsed inside.
const contextTag = "xmlenc-context"

// parseInContext parses a decrypted Element-type plaintext strictly
// (xmlsec.Parse with lim, plus one level and the size of the context) as
// the content of an element carrying the namespace declarations in scope
// at the wrapper, since encryptors such as xmlsec1 serialise the element
// without the declarations it inherits. The plaintext must be exactly one
// element, with nothing but white space around it, and every prefix it
// uses must be declared (xmlsec.Parse does not resolve names). The element returned
// is detached and declares what it inherited. It returns 0 instead of an
// error: the caller reports one uniform error.
//
// Only the default namespace and the prefixes the plaintext's bytes
// mention (as "prefix:", in a name or in a QName value) are carried: a
// token's EncryptedID lies in the scope of a dozen declarations its NameID
// never uses, and parsing and copying them was half of this function's
// cost. A prefix used is always mentioned, so none is lost.
func parseInContext(plain []byte, scope []nsDecl, lim xmlsec.Limits) (*etree.Element, int) {
	body, ok := stripDecl(plain)
	scope = mentioned(scope, body)
	head := contextOpen(scope)
	buf := make([]byte, 0, len(head)+len(plain)+len(contextTag)+3)
	buf = append(buf, head...)
	buf = append(buf, body...)
	buf = append(buf, "</"+contextTag+">"...)
	doc, err := xmlsec.Parse(buf, widen(lim, len(buf)-len(plain)))
	if err != nil || ok == 0 || len(doc.ChildElements()) != 1 {
		return nil, 0
	}
	el := soleElement(doc.Root())
	if el == nil {
		return nil, 0
	}
	doc.Root().RemoveChild(el)
	declareMissing(el, scope)
	if unboundPrefix(el, map[string]bool{"xml": true}) != "" {
		return nil, 0
	}
	return el, 1
}

// mentioned returns the declarations of scope for the default namespace and
// for the prefixes b mentions.
func mentioned(scope []nsDecl, b []byte) []nsDecl {
	out := make([]nsDecl, 0, len(scope))
	for _, d := range scope {
		if d.prefix == "" || bytes.Contains(b, []byte(d.prefix+":")) {
			out = append(out, d)
		}
	}
	return out
}

// contextOpen writes the start tag of the context element.
func contextOpen(scope []nsDecl) string {
	var sb strings.Builder
	sb.WriteString("<" + contextTag)
	for _, d := range scope {
		sb.WriteString(" xmlns")
		if d.prefix != "" {
			sb.WriteString(":" + d.prefix)
		}
		sb.WriteString(`="` + attrEscaper.Replace(d.uri) + `"`)
	}
	sb.WriteString(">")
	return sb.String()
}

var attrEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", `"`, "&quot;",
	"\t", "&#x9;", "\n", "&#xA;", "\r", "&#xD;")

// soleElement returns the only child element of root when everything else
// in it is white space, else nil.
func soleElement(root *etree.Element) *etree.Element {
	var el *etree.Element
	for _, t := range root.Child {
		switch v := t.(type) {
		case *etree.Element:
			if el != nil {
				return nil
			}
			el = v
		case *etree.CharData:
			if !v.IsWhitespace() {
				return nil
			}
		default:
			return nil
		}
	}
	return el
}

// stripDecl removes a UTF-8 byte order mark and an XML declaration from
// the start of a plaintext, which some encryptors keep; a declaration of
// another encoding than UTF-8 gives 0.
func stripDecl(b []byte) ([]byte, int) {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	if !bytes.HasPrefix(b, []byte("<?xml")) || len(b) < 6 || !isSpace(b[5]) {
		return b, 1
	}
	i := bytes.Index(b, []byte("?>"))
	if i < 0 {
		return b, 0
	}
	decl := bytes.ToLower(b[:i])
	if bytes.Contains(decl, []byte("encoding")) && !bytes.Contains(decl, []byte("utf-8")) {
		return b, 0
	}
	return b[i+2:], 1
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// widen adds the context element to the limits of the plaintext.
func widen(lim xmlsec.Limits, extraBytes int) xmlsec.Limits {
	def := xmlsec.DefaultLimits
	if lim.MaxBytes <= 0 {
		lim.MaxBytes = def.MaxBytes
	}
	if lim.MaxDepth <= 0 {
		lim.MaxDepth = def.MaxDepth
	}
	if lim.MaxElements <= 0 {
		lim.MaxElements = def.MaxElements
	}
	lim.MaxBytes += extraBytes
	lim.MaxDepth++
	lim.MaxElements++
	return lim
}
