package xmlsec

import (
	"slices"
	"strings"

	"github.com/beevik/etree"
)

// NSXML is the namespace the "xml" prefix is bound to by definition.
const NSXML = "http://www.w3.org/XML/1998/namespace"

// C14N holds the parameters of one Exclusive XML Canonicalization 1.0
// (W3C xml-exc-c14n, 2002) of an element, without comments.
type C14N struct {
	// PrefixList is the InclusiveNamespaces PrefixList (§3): prefixes
	// rendered by the rules of inclusive c14n; "#default" names the
	// default namespace.
	PrefixList []string
	// Omit, when set, is left out together with its subtree: the
	// enveloped-signature transform (XML-DSig §6.6.4) of that Signature.
	Omit *etree.Element
}

// Canonicalize returns the exclusive canonical form of el, which may sit
// anywhere inside a larger document: the namespace declarations of its
// ancestors are in scope, as the specification wants for a document
// subset. The caller's tree is only read, never changed.
func (c C14N) Canonicalize(el *etree.Element) ([]byte, error) {
	return c.Append(make([]byte, 0, 4096), el)
}

// Append is Canonicalize appending to dst, so a caller can reuse a buffer.
func (c C14N) Append(dst []byte, el *etree.Element) ([]byte, error) {
	w := c14nWriter{buf: dst, omit: c.Omit, incl: normalizePrefixList(c.PrefixList)}
	w.scope = ancestorScope(el, make([]nsBinding, 0, 16))
	w.rendered = make([]nsBinding, 0, 16)
	if err := w.element(el); err != nil {
		return dst, err
	}
	return w.buf, nil
}

// nsBinding is one namespace declaration: prefix ("" for the default
// namespace) bound to uri ("" undeclares the default namespace).
type nsBinding struct{ prefix, uri string }

// lookupNS finds the innermost binding of prefix in a stack of bindings.
func lookupNS(stack []nsBinding, prefix string) (string, bool) {
	for i := len(stack) - 1; i >= 0; i-- {
		if stack[i].prefix == prefix {
			return stack[i].uri, true
		}
	}
	return "", false
}

// ancestorScope appends the namespace declarations in force at el's
// parent, outermost first, so that lookups find the innermost.
func ancestorScope(el *etree.Element, dst []nsBinding) []nsBinding {
	var arr [32]*etree.Element
	chain := arr[:0]
	for p := el.Parent(); p != nil; p = p.Parent() {
		chain = append(chain, p)
	}
	for i := len(chain) - 1; i >= 0; i-- {
		dst = appendDecls(dst, chain[i])
	}
	return dst
}

// appendDecls appends the namespace declarations carried by el.
func appendDecls(dst []nsBinding, el *etree.Element) []nsBinding {
	for _, a := range el.Attr {
		if p, ok := declPrefix(a); ok {
			dst = append(dst, nsBinding{p, a.Value})
		}
	}
	return dst
}

// declPrefix reports whether a is a namespace declaration and the prefix it
// declares ("" for xmlns="...").
func declPrefix(a etree.Attr) (string, bool) {
	if a.Space == "xmlns" {
		return a.Key, true
	}
	if a.Space == "" && a.Key == "xmlns" {
		return "", true
	}
	return "", false
}

func normalizePrefixList(list []string) []string {
	out := make([]string, 0, len(list))
	for _, p := range list {
		if p == "#default" {
			p = ""
		}
		out = append(out, p)
	}
	return out
}

// nsXSI is the namespace of xsi:type, whose QName values use prefixes
// that no element or attribute name shows.
const nsXSI = "http://www.w3.org/2001/XMLSchema-instance"

// QNamePrefixes lists the prefixes of the QNames in xsi:type values under
// el ("#default" for an unprefixed one), sorted and without repeats: a
// signer puts them in the InclusiveNamespaces PrefixList, since exclusive
// c14n would otherwise leave their bindings unsigned (exc-c14n §3, last
// paragraph), and goxmldsig's canonicalizer, run in place, could even drop
// them.
func QNamePrefixes(el *etree.Element) []string {
	var out []string
	stack := []*etree.Element{el}
	for len(stack) > 0 {
		e := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for i := range e.Attr {
			a := &e.Attr[i]
			if a.Key == "type" && a.Space != "" && a.NamespaceURI() == nsXSI {
				out = append(out, qnamePrefix(a.Value))
			}
		}
		stack = append(stack, e.ChildElements()...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func qnamePrefix(v string) string {
	if p, _, ok := strings.Cut(strings.TrimSpace(v), ":"); ok {
		return p
	}
	return "#default"
}

// ParsePrefixList splits an InclusiveNamespaces PrefixList attribute
// (xsd:NMTOKENS) into its prefixes.
func ParsePrefixList(s string) []string { return strings.Fields(s) }

type c14nWriter struct {
	buf      []byte
	scope    []nsBinding // declarations in scope in the input
	rendered []nsBinding // declarations rendered by output ancestors
	incl     []string
	omit     *etree.Element
}

// attrOut is an attribute with its namespace URI, for canonical ordering.
type attrOut struct {
	uri string
	a   *etree.Attr
}

func (w *c14nWriter) element(el *etree.Element) error {
	scopeMark, rendMark := len(w.scope), len(w.rendered)
	if err := w.pushScope(el); err != nil {
		return err
	}
	if err := w.startTag(el); err != nil {
		return err
	}
	if err := w.children(el); err != nil {
		return err
	}
	w.buf = append(w.buf, "</"...)
	w.buf = appendQName(w.buf, el.Space, el.Tag)
	w.buf = append(w.buf, '>')
	w.scope, w.rendered = w.scope[:scopeMark], w.rendered[:rendMark]
	return nil
}

// pushScope adds el's declarations to the scope, refusing the
// redeclarations Namespaces in XML 1.0 §3 forbids and relative URIs.
func (w *c14nWriter) pushScope(el *etree.Element) error {
	for _, a := range el.Attr {
		p, ok := declPrefix(a)
		if !ok {
			continue
		}
		if err := checkDecl(p, a.Value); err != nil {
			return err
		}
		w.scope = append(w.scope, nsBinding{p, a.Value})
	}
	return nil
}

func checkDecl(prefix, uri string) error {
	switch {
	case prefix == "xmlns":
		return Errorf(KindMalformed, "the xmlns prefix may not be declared")
	case prefix == "xml" && uri != NSXML, prefix != "xml" && uri == NSXML:
		return Errorf(KindMalformed, "the xml prefix and namespace are bound to each other only")
	case prefix != "" && uri == "":
		return Errorf(KindMalformed, "prefix %q undeclared (XML 1.1 only)", prefix)
	case uri != "" && !absoluteURI(uri):
		return Errorf(KindMalformed, "relative namespace URI %q", uri)
	}
	return nil
}

// absoluteURI reports whether s starts with a URI scheme (RFC 3986 §3.1).
// C14N 1.0 §2 (and so exc-c14n) MUST fail on relative namespace URIs, as
// libxml2 does.
func absoluteURI(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'):
		case i > 0 && c == ':':
			return true
		default:
			return false
		}
	}
	return false
}

func (w *c14nWriter) startTag(el *etree.Element) error {
	var nsArr [8]nsBinding
	ns, err := w.namespacesToRender(nsArr[:0], el)
	if err != nil {
		return err
	}
	var atArr [16]attrOut
	attrs, err := w.sortedAttrs(atArr[:0], el)
	if err != nil {
		return err
	}
	w.buf = append(w.buf, '<')
	w.buf = appendQName(w.buf, el.Space, el.Tag)
	for _, b := range ns {
		w.writeNS(b)
	}
	for _, a := range attrs {
		w.buf = append(w.buf, ' ')
		w.buf = appendQName(w.buf, a.a.Space, a.a.Key)
		w.buf = append(w.buf, `="`...)
		w.buf = appendEscapedAttr(w.buf, a.a.Value)
		w.buf = append(w.buf, '"')
	}
	w.buf = append(w.buf, '>')
	return nil
}

func (w *c14nWriter) writeNS(b nsBinding) {
	if b.prefix == "" {
		w.buf = append(w.buf, ` xmlns="`...)
	} else {
		w.buf = append(w.buf, " xmlns:"...)
		w.buf = append(w.buf, b.prefix...)
		w.buf = append(w.buf, `="`...)
	}
	w.buf = appendEscapedAttr(w.buf, b.uri)
	w.buf = append(w.buf, '"')
	w.rendered = append(w.rendered, b)
}

// namespacesToRender applies exc-c14n §3: a prefix visibly utilized by the
// element or its attributes, or named in the PrefixList and in scope, is
// rendered unless the nearest output ancestor rendered the same binding.
// The result is sorted by prefix, the default namespace first.
func (w *c14nWriter) namespacesToRender(ns []nsBinding, el *etree.Element) ([]nsBinding, error) {
	ns, err := w.need(ns, el.Space, true)
	if err != nil {
		return nil, err
	}
	for _, a := range el.Attr {
		if _, isDecl := declPrefix(a); isDecl || a.Space == "" || a.Space == "xml" {
			continue
		}
		if ns, err = w.need(ns, a.Space, true); err != nil {
			return nil, err
		}
	}
	for _, p := range w.incl {
		if ns, err = w.need(ns, p, false); err != nil {
			return nil, err
		}
	}
	sortBindings(ns)
	return ns, nil
}

// need adds prefix to ns when its in-scope binding differs from the one
// rendered by output ancestors. A visibly utilized prefix must be bound;
// a PrefixList entry that is not in scope is ignored.
func (w *c14nWriter) need(ns []nsBinding, prefix string, used bool) ([]nsBinding, error) {
	if prefix == "xml" {
		return ns, nil
	}
	uri, inScope := lookupNS(w.scope, prefix)
	if !inScope && prefix != "" {
		if used {
			return nil, Errorf(KindMalformed, "namespace prefix %q is not declared", prefix)
		}
		return ns, nil
	}
	if r, ok := lookupNS(w.rendered, prefix); r == uri && (ok || prefix == "") {
		return ns, nil
	}
	for _, b := range ns {
		if b.prefix == prefix {
			return ns, nil
		}
	}
	return append(ns, nsBinding{prefix, uri}), nil
}

func sortBindings(ns []nsBinding) {
	for i := 1; i < len(ns); i++ {
		for j := i; j > 0 && ns[j].prefix < ns[j-1].prefix; j-- {
			ns[j], ns[j-1] = ns[j-1], ns[j]
		}
	}
}

// sortedAttrs returns el's attributes other than namespace declarations,
// ordered by namespace URI then local name (C14N 1.0 §2.2).
func (w *c14nWriter) sortedAttrs(out []attrOut, el *etree.Element) ([]attrOut, error) {
	for i := range el.Attr {
		a := &el.Attr[i]
		if _, isDecl := declPrefix(*a); isDecl {
			continue
		}
		uri, err := w.attrURI(a)
		if err != nil {
			return nil, err
		}
		out = append(out, attrOut{uri, a})
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && attrLess(out[j], out[j-1]); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out, nil
}

func (w *c14nWriter) attrURI(a *etree.Attr) (string, error) {
	switch a.Space {
	case "":
		return "", nil
	case "xml":
		return NSXML, nil
	}
	uri, ok := lookupNS(w.scope, a.Space)
	if !ok {
		return "", Errorf(KindMalformed, "attribute prefix %q is not declared", a.Space)
	}
	return uri, nil
}

func attrLess(x, y attrOut) bool {
	if x.uri != y.uri {
		return x.uri < y.uri
	}
	return x.a.Key < y.a.Key
}

func (w *c14nWriter) children(el *etree.Element) error {
	for _, t := range el.Child {
		switch c := t.(type) {
		case *etree.Element:
			if c == w.omit {
				continue
			}
			if err := w.element(c); err != nil {
				return err
			}
		case *etree.CharData:
			w.buf = appendEscapedText(w.buf, c.Data)
		case *etree.ProcInst:
			w.procInst(c)
		}
	}
	return nil
}

// procInst renders a processing instruction: C14N keeps them, with a
// single space between target and a non-empty value.
func (w *c14nWriter) procInst(p *etree.ProcInst) {
	w.buf = append(w.buf, "<?"...)
	w.buf = append(w.buf, p.Target...)
	if p.Inst != "" {
		w.buf = append(w.buf, ' ')
		w.buf = append(w.buf, p.Inst...)
	}
	w.buf = append(w.buf, "?>"...)
}

func appendQName(dst []byte, prefix, local string) []byte {
	if prefix != "" {
		dst = append(dst, prefix...)
		dst = append(dst, ':')
	}
	return append(dst, local...)
}

// appendEscapedText escapes character content as C14N 1.0 §2.3 says.
func appendEscapedText(dst []byte, s string) []byte {
	last := 0
	for i := 0; i < len(s); i++ {
		var esc string
		switch s[i] {
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '\r':
			esc = "&#xD;"
		default:
			continue
		}
		dst = append(append(dst, s[last:i]...), esc...)
		last = i + 1
	}
	return append(dst, s[last:]...)
}

// appendEscapedAttr escapes an attribute value as C14N 1.0 §2.3 says.
func appendEscapedAttr(dst []byte, s string) []byte {
	last := 0
	for i := 0; i < len(s); i++ {
		var esc string
		switch s[i] {
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '"':
			esc = "&quot;"
		case '\t':
			esc = "&#x9;"
		case '\n':
			esc = "&#xA;"
		case '\r':
			esc = "&#xD;"
		default:
			continue
		}
		dst = append(append(dst, s[last:i]...), esc...)
		last = i + 1
	}
	return append(dst, s[last:]...)
}
