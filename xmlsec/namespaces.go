package xmlsec

import (
	"encoding/xml"
)

// The two namespaces whose prefixes are reserved (Namespaces in XML 1.0 §3).
const (
	nsXMLNS = "http://www.w3.org/2000/xmlns/"
	nsXMLPf = "http://www.w3.org/XML/1998/namespace"
)

// nsScope tracks the prefix bindings in force while scanning raw tokens, to
// enforce the namespace constraints of Namespaces in XML 1.0 that
// encoding/xml does not: every prefix declared (§5 "Prefix Declared"), the
// reserved prefixes and names left alone (§3 "Reserved Prefixes and
// Namespace Names"), no empty prefixed binding (§3 "No Prefix Undeclaring",
// XML 1.0 namespaces), and no attribute twice, by name (XML 1.0 §3.1
// "Unique Att Spec") or by expanded name (§6.3). Each of these lets two
// readers of one document disagree about a name or an attribute value, which
// is what signature wrapping feeds on.
type nsScope struct {
	frames []map[string]string // one per open element; nil when it binds nothing
}

func (s *nsScope) pop() {
	if n := len(s.frames); n > 0 {
		s.frames = s.frames[:n-1]
	}
}

func (s *nsScope) lookup(prefix string) (string, bool) {
	if prefix == "xml" {
		return nsXMLPf, true
	}
	for i := len(s.frames) - 1; i >= 0; i-- {
		if uri, ok := s.frames[i][prefix]; ok {
			return uri, true
		}
	}
	return "", false
}

// push records the bindings t declares and checks t's names against them.
func (s *nsScope) push(t xml.StartElement) error {
	frame, err := declarations(t)
	if err != nil {
		return err
	}
	s.frames = append(s.frames, frame)
	if t.Name.Space == "xmlns" {
		return Errorf(KindMalformed, "element name uses the reserved prefix xmlns")
	}
	if err := s.declared(t.Name.Space); err != nil {
		return err
	}
	return s.uniqueAttrs(t.Attr)
}

// declarations returns the prefix bindings t makes, refusing reserved ones.
func declarations(t xml.StartElement) (map[string]string, error) {
	var frame map[string]string
	for _, a := range t.Attr {
		prefix, ok := bindingPrefix(a.Name)
		if !ok {
			continue
		}
		if err := checkBinding(prefix, a.Value); err != nil {
			return nil, err
		}
		if frame == nil {
			frame = map[string]string{}
		}
		frame[prefix] = a.Value
	}
	return frame, nil
}

// bindingPrefix reports whether n declares a namespace, and for which prefix
// ("" for the default namespace).
func bindingPrefix(n xml.Name) (string, bool) {
	switch {
	case n.Space == "" && n.Local == "xmlns":
		return "", true
	case n.Space == "xmlns":
		return n.Local, true
	}
	return "", false
}

func checkBinding(prefix, uri string) error {
	switch {
	case prefix == "xmlns":
		return Errorf(KindMalformed, "the prefix xmlns cannot be declared")
	case prefix == "xml" && uri != nsXMLPf, prefix != "xml" && uri == nsXMLPf:
		return Errorf(KindMalformed, "the prefix xml and its namespace go only together")
	case uri == nsXMLNS:
		return Errorf(KindMalformed, "the xmlns namespace cannot be bound")
	case prefix != "" && uri == "":
		return Errorf(KindMalformed, "prefix %q bound to the empty name", prefix)
	}
	return nil
}

func (s *nsScope) declared(prefix string) error {
	if prefix == "" {
		return nil
	}
	if _, ok := s.lookup(prefix); !ok {
		return Errorf(KindMalformed, "prefix %q is not declared", prefix)
	}
	return nil
}

// uniqueAttrs refuses an attribute given twice, by its name as written or
// by its expanded name, and a prefixed attribute whose prefix is undeclared.
func (s *nsScope) uniqueAttrs(attrs []xml.Attr) error {
	var seen map[xml.Name]bool
	if len(attrs) > 1 {
		seen = make(map[xml.Name]bool, len(attrs))
	}
	for _, a := range attrs {
		key, err := s.expanded(a.Name)
		if err != nil {
			return err
		}
		if seen == nil {
			continue
		}
		if seen[key] {
			return Errorf(KindMalformed, "attribute %s:%s given twice", a.Name.Space, a.Name.Local)
		}
		seen[key] = true
	}
	return nil
}

// expanded returns the name an attribute is compared by: its namespace URI
// (in braces, so it cannot collide with a prefix) and local name when
// prefixed, as written otherwise.
func (s *nsScope) expanded(n xml.Name) (xml.Name, error) {
	if _, isNS := bindingPrefix(n); isNS || n.Space == "" {
		return n, nil
	}
	uri, ok := s.lookup(n.Space)
	if !ok {
		return n, Errorf(KindMalformed, "prefix %q is not declared", n.Space)
	}
	return xml.Name{Space: "{" + uri + "}", Local: n.Local}, nil
}
