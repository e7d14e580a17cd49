package xmlsec

import "github.com/beevik/etree"

// DefaultIDAttrs are the attribute local names treated as XML IDs when a
// caller names none: SAML's ID, wsu:Id and XML-DSig/XML-Enc's Id, and the
// unqualified id some ID-WSF peers put on the SOAP Body (ZXID's id="BDY").
var DefaultIDAttrs = []string{"ID", "Id", "id"}

// DocumentRoot returns the outermost element above el (el itself when it
// has no parent element).
func DocumentRoot(el *etree.Element) *etree.Element {
	for p := el.Parent(); p != nil && p.Tag != ""; p = p.Parent() {
		el = p
	}
	return el
}

// CheckUniqueIDs walks the whole tree under root and refuses with
// ErrDuplicateID a value carried by two attributes whose local names are in
// names (any prefix): a Reference must resolve to exactly one element, the
// defence XML-DSig Best Practices (W3C Note 2013) §2.2 asks for against
// signature wrapping.
func CheckUniqueIDs(root *etree.Element, names []string) error {
	seen := make(map[string]struct{}, 8)
	return walkIDs(root, names, func(_ *etree.Element, v string) error {
		if _, dup := seen[v]; dup {
			return Errorf(KindDuplicateID, "ID %q appears more than once", v)
		}
		seen[v] = struct{}{}
		return nil
	})
}

// CheckIDs is the duplicate-ID check a verifier runs over the whole
// document under root: every ID unique (CheckUniqueIDs), or, for a peer
// with the UnrelatedDuplicateIDs quirk, only the referenced ones.
func (p Policy) CheckIDs(root *etree.Element, referenced, names []string) error {
	if !p.UnrelatedDuplicateIDs {
		return CheckUniqueIDs(root, names)
	}
	for _, id := range referenced {
		if _, err := FindByID(root, id, names); err != nil {
			return err
		}
	}
	return nil
}

// FindByID returns the single element under root whose ID attribute (local
// name in names) equals id: ErrReference when none, ErrDuplicateID when
// several carry it.
func FindByID(root *etree.Element, id string, names []string) (*etree.Element, error) {
	var found *etree.Element
	err := walkIDs(root, names, func(el *etree.Element, v string) error {
		if v != id {
			return nil
		}
		if found != nil {
			return Errorf(KindDuplicateID, "ID %q appears more than once", v)
		}
		found = el
		return nil
	})
	if err != nil {
		return nil, err
	}
	if found == nil {
		return nil, Errorf(KindReference, "no element with ID %q", id)
	}
	return found, nil
}

// walkIDs calls fn for every ID attribute under root, depth first, with an
// explicit stack (the tree's size bounds the loop).
func walkIDs(root *etree.Element, names []string, fn func(*etree.Element, string) error) error {
	stack := make([]*etree.Element, 1, 32)
	stack[0] = root
	for len(stack) > 0 {
		el := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, a := range el.Attr {
			if a.Space != "xmlns" && isIDName(a.Key, names) {
				if err := fn(el, a.Value); err != nil {
					return err
				}
			}
		}
		for i := len(el.Child) - 1; i >= 0; i-- {
			if c, ok := el.Child[i].(*etree.Element); ok {
				stack = append(stack, c)
			}
		}
	}
	return nil
}

func isIDName(key string, names []string) bool {
	for _, n := range names {
		if key == n {
			return true
		}
	}
	return false
}

// AttrValue returns the value of el's unprefixed attribute key. Unlike
// etree's SelectAttr it never matches a prefixed attribute (x:ID is not
// ID), which would let a planted attribute stand in for the real one.
func AttrValue(el *etree.Element, key string) (string, bool) {
	for _, a := range el.Attr {
		if a.Space == "" && a.Key == key {
			return a.Value, true
		}
	}
	return "", false
}
