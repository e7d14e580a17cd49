package xmlenc

import (
	"encoding/base64"
	"sort"
	"strings"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/wire"
)

// errDecrypt is the one error of every decryption failure. It carries no
// detail, so that its text is the same whatever went wrong.
func errDecrypt() error { return &xmlsec.Error{Kind: xmlsec.KindDecrypt} }

// only returns the single child {ns}local of el, nil when there is none,
// and ErrDecrypt when there are several.
func only(el *etree.Element, ns, local string) (*etree.Element, error) {
	cs := wire.Children(el, ns, local)
	switch len(cs) {
	case 0:
		return nil, nil
	case 1:
		return cs[0], nil
	}
	return nil, errDecrypt()
}

// required is only for a child that must be present.
func required(el *etree.Element, ns, local string) (*etree.Element, error) {
	c, err := only(el, ns, local)
	if err == nil && c == nil {
		err = errDecrypt()
	}
	return c, err
}

// cipherValue returns CipherData/CipherValue of an EncryptedData or
// EncryptedKey. A CipherReference is refused: nothing is ever fetched.
func cipherValue(el *etree.Element) (*etree.Element, error) {
	cd, err := required(el, NSXEnc, "CipherData")
	if err != nil {
		return nil, err
	}
	if len(cd.ChildElements()) != 1 {
		return nil, errDecrypt()
	}
	return required(cd, NSXEnc, "CipherValue")
}

// decodeBase64 decodes the base64 text of el. Text longer than maxChars is
// refused before anything is decoded (ErrTooLarge); anything but text
// inside el, or bad base64, is ErrDecrypt.
func decodeBase64(el *etree.Element, maxChars int) ([]byte, error) {
	var sb strings.Builder
	for _, t := range el.Child {
		cd, ok := t.(*etree.CharData)
		if !ok {
			return nil, errDecrypt()
		}
		if sb.Len()+len(cd.Data) > maxChars {
			return nil, xmlsec.Errorf(xmlsec.KindTooLarge, "%s over %d characters", el.Tag, maxChars)
		}
		sb.WriteString(cd.Data)
	}
	b, err := base64.StdEncoding.DecodeString(stripSpace(sb.String()))
	if err != nil {
		return nil, errDecrypt()
	}
	return b, nil
}

// stripSpace removes the XML white space base64 text may be folded with.
func stripSpace(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, s)
}

// nsDecl is one namespace declaration; prefix "" is the default namespace.
type nsDecl struct{ prefix, uri string }

// declPrefix reports whether a is a namespace declaration, and its prefix.
func declPrefix(a etree.Attr) (string, bool) {
	switch {
	case a.Space == "xmlns":
		return a.Key, true
	case a.Space == "" && a.Key == "xmlns":
		return "", true
	}
	return "", false
}

// inScope returns the namespace declarations in scope at el, its own and
// its ancestors' (the nearest wins), sorted by prefix.
func inScope(el *etree.Element) []nsDecl {
	seen := map[string]bool{}
	var out []nsDecl
	for e := el; e != nil; e = e.Parent() {
		for _, a := range e.Attr {
			p, ok := declPrefix(a)
			if ok && !seen[p] {
				seen[p] = true
				out = append(out, nsDecl{p, a.Value})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].prefix < out[j].prefix })
	return out
}

// declareMissing adds to el the declarations of scope that el does not
// make itself, so that el reads the same once detached from its context.
// All of them are added, used or not: a prefix may also be used inside
// attribute values (xsi:type="saml:..."), which no scan can see.
func declareMissing(el *etree.Element, scope []nsDecl) {
	own := map[string]bool{}
	for _, a := range el.Attr {
		if p, ok := declPrefix(a); ok {
			own[p] = true
		}
	}
	for _, d := range scope {
		switch {
		case own[d.prefix]:
		case d.prefix == "" && d.uri != "":
			el.CreateAttr("xmlns", d.uri)
		case d.prefix != "":
			el.CreateAttr("xmlns:"+d.prefix, d.uri)
		}
	}
}

// unboundPrefix returns a prefix used in el's subtree (element or
// attribute name) that no declaration in scope binds, or "".
func unboundPrefix(el *etree.Element, bound map[string]bool) string {
	local := bound
	for _, a := range el.Attr {
		if p, ok := declPrefix(a); ok && p != "" && !local[p] {
			local = extend(local, p)
		}
	}
	if el.Space != "" && !local[el.Space] {
		return el.Space
	}
	for _, a := range el.Attr {
		if a.Space != "" && a.Space != "xmlns" && !local[a.Space] {
			return a.Space
		}
	}
	for _, c := range el.ChildElements() {
		if p := unboundPrefix(c, local); p != "" {
			return p
		}
	}
	return ""
}

// extend returns a copy of m with p added.
func extend(m map[string]bool, p string) map[string]bool {
	n := make(map[string]bool, len(m)+1)
	for k := range m {
		n[k] = true
	}
	n[p] = true
	return n
}
