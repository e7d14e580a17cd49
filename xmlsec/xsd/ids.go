package xsd

import (
	"io/fs"
	"slices"
	"strings"
	"sync"

	"github.com/beevik/etree"
)

// nsXS is the namespace of XML Schema's own types.
const nsXS = "http://www.w3.org/2001/XMLSchema"

// IDAttributes returns the local names of the attributes the embedded
// schemas declare with type xs:ID ("ID", "Id", "id",
// "name", ...). Every xs:ID of the set is an attribute's type, none
// derived or listed (TestIDsAreAttributes), so these are the only places
// an ID can be: a receiver that leaves out of validation a part it has
// validated before checks with them that no ID of that part repeats
// elsewhere. The names are matched whatever the attribute's namespace,
// which can only widen the set. None (nil) means the set could not be
// read: a caller must then assume an ID can be anywhere.
func (s *Schema) IDAttributes() []string { return slices.Clone(idAttributes()) }

// idAttributes reads the names once; nil when any schema cannot be read,
// so that a receiver leaves nothing out rather than miss an ID.
var idAttributes = sync.OnceValue(func() []string {
	var out []string
	err := eachSchema(func(_ string, doc *etree.Document) {
		for _, u := range xsIDUses(doc) {
			if name := u.el.SelectAttrValue("name", ""); u.el.Tag == "attribute" && u.key == "type" && name != "" && !slices.Contains(out, name) {
				out = append(out, name)
			}
		}
	})
	if err != nil {
		return nil
	}
	slices.Sort(out)
	return out
})

// eachSchema calls fn with every embedded schema document, parsed.
func eachSchema(fn func(path string, doc *etree.Document)) error {
	return fs.WalkDir(schemaFiles, "schemas", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".xsd") {
			return err
		}
		b, err := fs.ReadFile(schemaFiles, path)
		if err != nil {
			return err
		}
		doc := etree.NewDocument()
		if err := doc.ReadFromBytes(b); err != nil {
			return err
		}
		fn(path, doc)
		return nil
	})
}

// xsIDUse is an element of a schema that names xs:ID in attribute key.
type xsIDUse struct {
	el  *etree.Element
	key string
}

// xsIDUses finds every use of xs:ID in a schema document: in type, base,
// itemType and memberTypes, each QName resolved in its element's scope.
func xsIDUses(doc *etree.Document) []xsIDUse {
	var out []xsIDUse
	for _, el := range doc.FindElements("//*") {
		if el.NamespaceURI() != nsXS {
			continue
		}
		for _, key := range []string{"type", "base", "itemType", "memberTypes"} {
			for _, qn := range strings.Fields(el.SelectAttrValue(key, "")) {
				prefix, local, ok := strings.Cut(qn, ":")
				if !ok {
					prefix, local = "", qn
				}
				if local == "ID" && resolvePrefix(el, prefix) == nsXS {
					out = append(out, xsIDUse{el: el, key: key})
				}
			}
		}
	}
	return out
}

// resolvePrefix returns the namespace that prefix is bound to at el (""
// when unbound).
func resolvePrefix(el *etree.Element, prefix string) string {
	for e := el; e != nil; e = e.Parent() {
		for _, a := range e.Attr {
			if prefix == "" && a.Space == "" && a.Key == "xmlns" || prefix != "" && a.Space == "xmlns" && a.Key == prefix {
				return a.Value
			}
		}
	}
	return ""
}
