package wss

import (
	"crypto/rand"
	"encoding/hex"
	"io"
	"strconv"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/xmlsec"
)

// idNames are the local names of the attributes counted as IDs when the
// whole document is checked for duplicates: wsu:Id, SAML 2.0 ID, SAML 1.1
// AssertionID, XML-DSig/XML-Enc Id, and the unqualified id ZXID puts on
// the Body. They are counted whatever their prefix, so that no element can
// share an ID with the one a Reference resolves to (XML-DSig Best
// Practices, W3C Note 2013, §2.2).
var idNames = []string{"Id", "ID", "AssertionID", "id"}

// resolvableID returns the ID a Reference may name el by: its wsu:Id, else
// an unprefixed ID, AssertionID or Id attribute, else, only when
// unqualified is set, an unprefixed id (IDWSF2.md §11 item 18).
func resolvableID(el *etree.Element, unqualified bool) (string, bool) {
	var best string
	rank := 0
	for i := range el.Attr {
		if r := idRank(&el.Attr[i], unqualified); r > rank {
			best, rank = el.Attr[i].Value, r
		}
	}
	return best, rank > 0
}

// idRank orders the ID attributes an element may carry: 4 for wsu:Id,
// 3 to 1 for ID/AssertionID, Id and (when allowed) id, 0 for anything else.
func idRank(a *etree.Attr, unqualified bool) int {
	if a.Space != "" {
		if a.Key == "Id" && a.Space != "xmlns" && a.NamespaceURI() == NSWSU {
			return 4
		}
		return 0
	}
	switch a.Key {
	case "ID", "AssertionID":
		return 3
	case "Id":
		return 2
	case "id":
		if unqualified {
			return 1
		}
	}
	return 0
}

// indexIDs maps every resolvable ID under root to the elements carrying it,
// walking the tree with an explicit stack (the tree's size bounds it).
func indexIDs(root *etree.Element, unqualified bool) map[string][]*etree.Element {
	idx := make(map[string][]*etree.Element, 16)
	stack := make([]*etree.Element, 1, 32)
	stack[0] = root
	for len(stack) > 0 {
		el := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for i := range el.Attr {
			if idRank(&el.Attr[i], unqualified) > 0 {
				v := el.Attr[i].Value
				idx[v] = append(idx[v], el)
			}
		}
		for i := len(el.Child) - 1; i >= 0; i-- {
			if c, ok := el.Child[i].(*etree.Element); ok {
				stack = append(stack, c)
			}
		}
	}
	return idx
}

// lookupID returns the one element idx holds for id: none is ErrReference,
// several ErrDuplicateID.
func lookupID(idx map[string][]*etree.Element, id string) (*etree.Element, error) {
	switch els := idx[id]; len(els) {
	case 0:
		return nil, xmlsec.Errorf(xmlsec.KindReference, "no element with ID %q", id)
	case 1:
		return els[0], nil
	}
	return nil, xmlsec.Errorf(xmlsec.KindDuplicateID, "ID %q appears more than once", id)
}

// idMaker hands out fresh wsu:Id values that no attribute of the document
// carries yet.
type idMaker struct {
	rnd   io.Reader
	taken map[string]bool
}

func newIDMaker(rnd io.Reader, root *etree.Element) *idMaker {
	if rnd == nil {
		rnd = rand.Reader
	}
	m := &idMaker{rnd: rnd, taken: make(map[string]bool, 16)}
	for id := range indexIDs(root, true) {
		m.taken[id] = true
	}
	return m
}

// next returns local + "-" + 8 random hex digits, an NCName not yet used;
// it gives up after a few draws that collide (a broken Rand).
func (m *idMaker) next(local string) (string, error) {
	var b [4]byte
	for range 8 {
		if _, err := io.ReadFull(m.rnd, b[:]); err != nil {
			return "", xmlsec.Wrap(xmlsec.KindMalformed, err, "drawing a wsu:Id")
		}
		id := local + "-" + hex.EncodeToString(b[:])
		if !m.taken[id] {
			m.taken[id] = true
			return id, nil
		}
	}
	return "", xmlsec.Errorf(xmlsec.KindDuplicateID, "no fresh wsu:Id after 8 draws")
}

// ensureID returns the ID el can be referenced by, adding a wsu:Id when it
// has none (the unqualified id is not used: our verifier does not resolve
// it by default).
func (m *idMaker) ensureID(el *etree.Element) (string, error) {
	if id, ok := resolvableID(el, false); ok {
		return id, nil
	}
	id, err := m.next(el.Tag)
	if err != nil {
		return "", err
	}
	p := ensurePrefix(el, "wsu", NSWSU)
	el.CreateAttr(p+":Id", id)
	return id, nil
}

// inScopePrefix returns a prefix bound to uri at el (declarations on el
// and its ancestors, the innermost binding of each prefix winning).
func inScopePrefix(el *etree.Element, uri string) (string, bool) {
	seen := make(map[string]bool, 8)
	for e := el; e != nil; e = e.Parent() {
		for _, a := range e.Attr {
			if a.Space != "xmlns" || seen[a.Key] {
				continue
			}
			seen[a.Key] = true
			if a.Value == uri {
				return a.Key, true
			}
		}
	}
	return "", false
}

// ensurePrefix returns a prefix bound to uri at el, declaring one on the
// root of el's tree when none is in scope: preferred, or preferred
// followed by a number when preferred is already bound on the way. The
// declaration goes on the root, never on el: xmlsec.Parse's round-trip
// check refuses an element that declares the prefix of one of its own
// attributes (encoding/xml re-encodes it wrongly), so a receiver could not
// read what we send.
func ensurePrefix(el *etree.Element, preferred, uri string) string {
	if p, ok := inScopePrefix(el, uri); ok {
		return p
	}
	p := preferred
	for i := 1; boundElsewhere(el, p) && i < 1000; i++ {
		p = preferred + strconv.Itoa(i)
	}
	xmlsec.DocumentRoot(el).CreateAttr("xmlns:"+p, uri)
	return p
}

// boundElsewhere reports whether prefix is already declared at el, to
// another namespace (ensurePrefix found none bound to its own).
func boundElsewhere(el *etree.Element, prefix string) bool {
	for e := el; e != nil; e = e.Parent() {
		for _, a := range e.Attr {
			if a.Space == "xmlns" && a.Key == prefix {
				return true
			}
		}
	}
	return false
}
