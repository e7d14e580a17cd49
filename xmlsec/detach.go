package xmlsec

import (
	"slices"
	"strings"

	"github.com/beevik/etree"
)

// DetachCopy returns a deep copy of el, standalone: the namespace
// declarations el inherits from its ancestors are declared on the copy, so
// every prefix (also one used only in an xsi:type value) still resolves.
// Comments and processing instructions are kept. The caller's tree is not
// changed.
func DetachCopy(el *etree.Element) *etree.Element {
	c := copyTree(el, nil, false)
	declareInherited(c, el)
	return c
}

// DetachSigned returns a standalone copy of el holding what an exclusive
// canonicalization of el, leaving out omit, digested: omit and its subtree
// are gone, comments and processing instructions are dropped and adjacent
// text is merged, so a NameID split by a comment reads as its whole signed
// text. Inherited namespace declarations are carried as in DetachCopy.
// This is the element a caller may read after a successful verification.
func DetachSigned(el, omit *etree.Element) *etree.Element {
	c := copyTree(el, omit, true)
	declareInherited(c, el)
	return c
}

// copyTree copies el through etree's API (so attributes and children know
// their element). With clean set, it skips omit, comments and processing
// instructions and merges adjacent character data.
func copyTree(el, omit *etree.Element, clean bool) *etree.Element {
	c := etree.NewElement(el.Tag)
	c.Space = el.Space
	copyAttrs(c, el.Attr)
	c.Child = make([]etree.Token, 0, len(el.Child))
	for i := 0; i < len(el.Child); i++ {
		switch x := el.Child[i].(type) {
		case *etree.Element:
			if x != omit {
				c.AddChild(copyTree(x, omit, clean))
			}
		case *etree.CharData:
			if !clean {
				c.AddChild(copyCharData(x))
				continue
			}
			var text string
			text, i = mergeText(el.Child, i, omit)
			c.AddChild(etree.NewText(text))
		case *etree.Comment:
			if !clean {
				c.AddChild(etree.NewComment(x.Data))
			}
		case *etree.ProcInst:
			if !clean {
				c.AddChild(etree.NewProcInst(x.Target, x.Inst))
			}
		}
	}
	return c
}

// copyAttrs gives c a copy of attrs. CreateAttr is the only way to make
// an attribute that knows its element (Attr.NamespaceURI needs it); it is
// called with a key no attribute can have, then the name is set, so that
// neither a "prefix:key" string is built nor x:ID is taken for ID.
func copyAttrs(c *etree.Element, attrs []etree.Attr) {
	c.Attr = make([]etree.Attr, 0, len(attrs))
	for _, a := range attrs {
		n := c.CreateAttr("\x00", a.Value)
		n.Space, n.Key = a.Space, a.Key
	}
}

// mergeText joins the character data starting at toks[i] with the text
// that follows it across comments, processing instructions and omit (what
// the canonical form drops), and returns it with the index of the last
// token consumed.
func mergeText(toks []etree.Token, i int, omit *etree.Element) (string, int) {
	first := toks[i].(*etree.CharData).Data
	var b strings.Builder
	j := i + 1
	for ; j < len(toks); j++ {
		switch x := toks[j].(type) {
		case *etree.CharData:
			if b.Len() == 0 {
				b.WriteString(first)
			}
			b.WriteString(x.Data)
			continue
		case *etree.Comment, *etree.ProcInst:
			continue
		case *etree.Element:
			if x == omit {
				continue
			}
		}
		break
	}
	if b.Len() == 0 {
		return first, j - 1
	}
	return b.String(), j - 1
}

func copyCharData(x *etree.CharData) *etree.CharData {
	if x.IsCData() {
		return etree.NewCData(x.Data)
	}
	return etree.NewText(x.Data)
}

// declareInherited declares on c every namespace binding in scope at the
// parent of orig that orig does not declare itself, innermost first
// (inherited, which Serialize writes the same way).
func declareInherited(c, orig *etree.Element) {
	var arr [16]nsBinding
	extra := inherited(orig, arr[:0])
	c.Attr = slices.Grow(c.Attr, len(extra))
	for _, b := range extra {
		if b.prefix == "" {
			c.CreateAttr("xmlns", b.uri)
			continue
		}
		c.CreateAttr("xmlns:"+b.prefix, b.uri)
	}
}
