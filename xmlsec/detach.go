package xmlsec

import (
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
	for _, a := range el.Attr {
		c.CreateAttr(a.FullKey(), a.Value)
	}
	var text strings.Builder
	pending := false
	flush := func() {
		if pending {
			c.AddChild(etree.NewText(text.String()))
			text.Reset()
			pending = false
		}
	}
	for _, t := range el.Child {
		switch x := t.(type) {
		case *etree.Element:
			if x == omit {
				continue
			}
			flush()
			c.AddChild(copyTree(x, omit, clean))
		case *etree.CharData:
			if !clean {
				c.AddChild(copyCharData(x))
				continue
			}
			text.WriteString(x.Data)
			pending = true
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
	flush()
	return c
}

// declareInherited declares on c every namespace binding in scope at the
// parent of orig that orig does not declare itself, innermost first.
func declareInherited(c, orig *etree.Element) {
	scope := ancestorScope(orig, nil)
	own := appendDecls(nil, orig)
	for i := len(scope) - 1; i >= 0; i-- {
		b := scope[i]
		if _, shadowed := lookupNS(own, b.prefix); shadowed {
			continue
		}
		own = append(own, b)
		if b.prefix == "" {
			if b.uri != "" {
				c.CreateAttr("xmlns", b.uri)
			}
			continue
		}
		c.CreateAttr("xmlns:"+b.prefix, b.uri)
	}
}

func copyCharData(x *etree.CharData) *etree.CharData {
	if x.IsCData() {
		return etree.NewCData(x.Data)
	}
	return etree.NewText(x.Data)
}
