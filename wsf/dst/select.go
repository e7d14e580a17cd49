package dst

import (
	"strings"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/xmlsec/wire"
)

// Select is a Select (or TestOp) in the restricted XPath every Renkei
// service answers (ARCHITECTURE "Service types"). Three forms, each with
// any prefix bound to the service's namespace in the element's scope:
//
//	/p:Item                  every item of that type
//	/p:Item[@id='v']         the item whose id is v (v not empty)
//	/p:Item[p:Field='v']     the items whose Field is v (a Filter field)
//
// Quotes may be single or double; the literal holds no quote of its kind
// and no escapes. Anything else, an unknown item type or a field that is
// not a filter, is InvalidSelect.
type Select struct {
	Item  string
	ID    string
	Field string
	Value string
}

// MaxSelectLen bounds a Select's text.
const MaxSelectLen = 512

// ParseSelect reads text, resolving prefixes in el's scope, against svc.
// It returns a *SelectError when text is outside the subset.
func ParseSelect(el *etree.Element, svc *Service, text string) (*Select, error) {
	s := strings.TrimSpace(text)
	bad := func(why string) (*Select, error) { return nil, &SelectError{Text: text, Why: why} }
	if len(text) > MaxSelectLen {
		return bad("longer than the limit")
	}
	if !strings.HasPrefix(s, "/") {
		return bad("not an absolute path")
	}
	s = s[1:]
	step, pred, hasPred := strings.Cut(s, "[")
	item, err := name(el, svc, step)
	if err != nil {
		return bad(err.Error())
	}
	t := svc.Item(item)
	if t == nil {
		return bad("no item type " + item + " in " + svc.NS)
	}
	sel := &Select{Item: item}
	if !hasPred {
		return sel, nil
	}
	if !strings.HasSuffix(pred, "]") {
		return bad("predicate not closed")
	}
	lhs, lit, ok := strings.Cut(pred[:len(pred)-1], "=")
	if !ok {
		return bad("predicate is not a comparison")
	}
	v, ok := literal(strings.TrimSpace(lit))
	if !ok {
		return bad("predicate value is not a quoted literal")
	}
	lhs = strings.TrimSpace(lhs)
	if lhs == "@id" {
		if v == "" {
			// No item has an empty id: as ID "" the Select would name
			// every item of the type.
			return bad("@id is compared with an empty literal")
		}
		sel.ID = v
		return sel, nil
	}
	field, err := name(el, svc, lhs)
	if err != nil {
		return bad(err.Error())
	}
	if fl := t.Field(field); fl == nil || !fl.Filter {
		return bad(field + " is not a field of " + item + " one may select by")
	}
	sel.Field, sel.Value = field, v
	return sel, nil
}

// name resolves a prefixed name to its local part, requiring the prefix
// to be bound to svc's namespace.
func name(el *etree.Element, svc *Service, qn string) (string, error) {
	prefix, local, ok := strings.Cut(qn, ":")
	if !ok || prefix == "" || local == "" || strings.ContainsAny(local, "[]()@*:=/ \t\n'\"") {
		return "", errf("step %q is not a prefixed name", qn)
	}
	ns, found := wire.LookupPrefix(el, prefix)
	if !found || ns != svc.NS {
		return "", errf("prefix %q is not bound to %s", prefix, svc.NS)
	}
	return local, nil
}

func literal(s string) (string, bool) {
	if len(s) < 2 || (s[0] != '\'' && s[0] != '"') || s[len(s)-1] != s[0] {
		return "", false
	}
	v := s[1 : len(s)-1]
	if strings.IndexByte(v, s[0]) >= 0 {
		return "", false
	}
	return v, true
}

// String renders the Select with the prefix p.
func (s *Select) String(p string) string {
	out := "/" + p + ":" + s.Item
	switch {
	case s.ID != "":
		out += "[@id=" + quote(s.ID) + "]"
	case s.Field != "":
		out += "[" + p + ":" + s.Field + "=" + quote(s.Value) + "]"
	}
	return out
}

func quote(v string) string {
	if strings.Contains(v, "'") {
		return `"` + v + `"`
	}
	return "'" + v + "'"
}

// SelectError is a Select outside the subset: InvalidSelect.
type SelectError struct {
	Text string
	Why  string
}

func (e *SelectError) Error() string { return "dst: Select " + e.Text + ": " + e.Why }
