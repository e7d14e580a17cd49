package xmlsec

import (
	"bytes"
	"unicode/utf8"

	"github.com/beevik/etree"
)

// writeSettings escape what a reader would otherwise change: a tab, LF or
// CR in an attribute value (normalized to a space on reading, XML 1.0
// §3.3.3) and a CR in text (read as LF, §2.11) become character references,
// as canonical XML writes them. etree's defaults write them literally.
// The writer below writes exactly what etree writes with these settings.
func writeSettings() etree.WriteSettings {
	return etree.WriteSettings{CanonicalAttrVal: true, CanonicalText: true}
}

// Serialize writes el as a standalone document that any reader, this
// package's Parse or libxml2, reads back as the same tree: the namespace
// declarations el inherits are written on it, after its own attributes
// (as DetachCopy declares them), and whitespace in attribute values and
// CR in text are written as character references. The caller's tree is
// not changed. Every Renkei writer of XML for the wire goes through
// Serialize or SerializeDocument.
//
// The bytes are those etree writes, with the settings above, for
// DetachCopy(el) (TestSerializeAsEtree, FuzzSerialize), without copying
// the tree and with escaping that looks at a byte at a time only where
// something may need it: a signed SSO Response, or a DS answer of 50 KB,
// is mostly base64 text.
func Serialize(el *etree.Element) ([]byte, error) {
	var arr [16]nsBinding
	extra := inherited(el, arr[:0])
	w := wireWriter{buf: make([]byte, 0, sizeHint(el)+64*len(extra)), detached: true}
	w.element(el, extra)
	return w.buf, nil
}

// SerializeDocument writes doc with the settings of Serialize; the
// document's own WriteSettings are neither used nor changed.
func SerializeDocument(doc *etree.Document) ([]byte, error) {
	n := 0
	for _, t := range doc.Child {
		if el, ok := t.(*etree.Element); ok {
			n += sizeHint(el)
		}
	}
	w := wireWriter{buf: make([]byte, 0, n+256)}
	for _, t := range doc.Child {
		w.token(t)
	}
	return w.buf, nil
}

// inherited appends the namespace bindings in scope at el's parent that el
// does not declare itself, innermost first: what declareInherited adds.
func inherited(el *etree.Element, dst []nsBinding) []nsBinding {
	var scopeArr, ownArr [16]nsBinding // most documents need no more
	scope := ancestorScope(el, scopeArr[:0])
	own := appendDecls(ownArr[:0], el)
	for i := len(scope) - 1; i >= 0; i-- {
		b := scope[i]
		if _, shadowed := lookupNS(own, b.prefix); shadowed {
			continue
		}
		own = append(own, b)
		if b.prefix == "" && b.uri == "" {
			continue
		}
		dst = append(dst, b)
	}
	return dst
}

// sizeHint is about the bytes el is written in, escapes and comments
// aside, from the lengths of its names, values and text: a buffer of that
// size is allocated once, not grown and copied five times for a 50 KB DS
// answer.
func sizeHint(el *etree.Element) int {
	n := 2*(len(el.Space)+len(el.Tag)) + 6
	for _, a := range el.Attr {
		n += len(a.Space) + len(a.Key) + len(a.Value) + 5
	}
	for _, c := range el.Child {
		switch x := c.(type) {
		case *etree.Element:
			n += sizeHint(x)
		case *etree.CharData:
			n += len(x.Data) + 12
		}
	}
	return n
}

// wireWriter appends a tree's serialization to buf. detached: the tree is
// written as Serialize writes an element, so directives inside it are
// left out, as DetachCopy leaves them out.
type wireWriter struct {
	buf      []byte
	detached bool
}

func (w *wireWriter) token(t etree.Token) {
	switch x := t.(type) {
	case *etree.Element:
		w.element(x, nil)
	case *etree.CharData:
		if x.IsCData() {
			w.other(x)
			return
		}
		w.buf = appendWireText(w.buf, x.Data)
	case *etree.Directive:
		if !w.detached {
			w.other(t)
		}
	default: // comments and processing instructions: rare, as etree writes them
		w.other(t)
	}
}

// other writes t with etree's own writer.
func (w *wireWriter) other(t etree.Token) {
	var b bytes.Buffer
	s := writeSettings()
	t.WriteTo(&b, &s)
	w.buf = append(w.buf, b.Bytes()...)
}

// element writes el, with extra namespace declarations after its own
// attributes.
func (w *wireWriter) element(el *etree.Element, extra []nsBinding) {
	w.buf = append(w.buf, '<')
	w.buf = appendQName(w.buf, el.Space, el.Tag)
	for _, a := range el.Attr {
		w.buf = append(w.buf, ' ')
		w.buf = appendQName(w.buf, a.Space, a.Key)
		w.buf = append(w.buf, '=', '"')
		w.buf = appendWireAttr(w.buf, a.Value)
		w.buf = append(w.buf, '"')
	}
	for _, b := range extra {
		w.buf = append(w.buf, " xmlns"...)
		if b.prefix != "" {
			w.buf = append(append(w.buf, ':'), b.prefix...)
		}
		w.buf = append(w.buf, '=', '"')
		w.buf = appendWireAttr(w.buf, b.uri)
		w.buf = append(w.buf, '"')
	}
	if w.empty(el) {
		w.buf = append(w.buf, '/', '>')
		return
	}
	w.buf = append(w.buf, '>')
	for _, c := range el.Child {
		w.token(c)
	}
	w.buf = append(w.buf, '<', '/')
	w.buf = appendQName(w.buf, el.Space, el.Tag)
	w.buf = append(w.buf, '>')
}

// empty reports whether el is written as an empty-element tag: it has no
// children, or, detached, none but directives.
func (w *wireWriter) empty(el *etree.Element) bool {
	for _, c := range el.Child {
		if _, d := c.(*etree.Directive); !d || !w.detached {
			return false
		}
	}
	return true
}

// wireSafe marks the ASCII bytes written as they are, in text and in
// attribute values alike; the others are looked at one by one.
var wireSafe = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = true
	}
	for _, c := range "&<>\"" {
		t[c] = false
	}
	return t
}()

// appendWireText escapes character data as etree does with CanonicalText:
// & < > and CR as references, a character XML does not allow as U+FFFD.
func appendWireText(dst []byte, s string) []byte { return appendWire(dst, s, false) }

// appendWireAttr escapes an attribute value as etree does with
// CanonicalAttrVal: & < " TAB LF CR as references, > as it is, a
// character XML does not allow as U+FFFD.
func appendWireAttr(dst []byte, s string) []byte { return appendWire(dst, s, true) }

func appendWire(dst []byte, s string, attr bool) []byte {
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf && wireSafe[c] {
			i++
			continue
		}
		var esc string
		width := 1
		switch c {
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			if attr {
				i++
				continue
			}
			esc = "&gt;"
		case '"':
			if !attr {
				i++
				continue
			}
			esc = "&quot;"
		case '\t':
			if !attr {
				i++
				continue
			}
			esc = "&#x9;"
		case '\n':
			if !attr {
				i++
				continue
			}
			esc = "&#xA;"
		case '\r':
			esc = "&#xD;"
		default:
			var r rune
			r, width = utf8.DecodeRuneInString(s[i:])
			if isXMLChar(r) && (r != utf8.RuneError || width > 1) {
				i += width
				continue
			}
			esc = "\uFFFD"
		}
		dst = append(append(dst, s[last:i]...), esc...)
		i += width
		last = i
	}
	return append(dst, s[last:]...)
}

// isXMLChar reports whether r is a Char of XML 1.0 §2.2 (etree's
// isInCharacterRange).
func isXMLChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}
