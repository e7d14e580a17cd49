package xsd

import (
	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/xmlsec"
)

// ValidateElement validates el as a document of its own, for instance the
// subtree a signature check returned. It serializes el once, adding the
// namespace declarations it inherits from its ancestors, and refuses trees
// that xmlsec.Parse would refuse: a Directive token (ErrDoctype), or more
// depth or elements than the Config's limits.
func (s *Schema) ValidateElement(el *etree.Element) error {
	if err := checkTree(el, s.cfg.Limits); err != nil {
		return err
	}
	return s.validateChecked(serialize(el))
}

// checkTree walks el once, iteratively, for directives and the limits.
func checkTree(el *etree.Element, lim xmlsec.Limits) error {
	lim = withDefaults(lim)
	type item struct {
		e     *etree.Element
		depth int
	}
	stack, count := []item{{el, 1}}, 0
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if count++; count > lim.MaxElements {
			return xmlsec.Errorf(xmlsec.KindTooLarge, "over %d elements", lim.MaxElements)
		}
		if it.depth > lim.MaxDepth {
			return xmlsec.Errorf(xmlsec.KindTooDeep, "depth over %d", lim.MaxDepth)
		}
		for _, t := range it.e.Child {
			switch c := t.(type) {
			case *etree.Directive:
				return xmlsec.Errorf(xmlsec.KindDoctype, "directive token in the tree")
			case *etree.Element:
				stack = append(stack, item{c, it.depth + 1})
			}
		}
	}
	return nil
}

// withDefaults fills zero limits from xmlsec.DefaultLimits, as xmlsec.Parse
// does.
func withDefaults(l xmlsec.Limits) xmlsec.Limits {
	d := xmlsec.DefaultLimits
	if l.MaxBytes <= 0 {
		l.MaxBytes = d.MaxBytes
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = d.MaxDepth
	}
	if l.MaxElements <= 0 {
		l.MaxElements = d.MaxElements
	}
	return l
}

// serialize writes el as a standalone document (xmlsec.Serialize): the
// namespace declarations in scope at el that el does not make itself are
// written on it, and tabs, line ends and carriage returns in values as
// character references, so that libxml2 reads back the same values.
func serialize(el *etree.Element) []byte {
	b, _ := xmlsec.Serialize(el) // writing to memory never fails
	return b
}
