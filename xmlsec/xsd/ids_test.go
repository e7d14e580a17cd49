package xsd

import (
	"io/fs"
	"strings"
	"testing"

	"github.com/beevik/etree"
)

const nsXS = "http://www.w3.org/2001/XMLSchema"

// TestIDsAreAttributes: every use of xs:ID in the embedded schemas is the
// type of an attribute, and no type derives from it or lists it, so an ID
// is always an attribute value. wsf/server relies on it when it leaves a
// token it has validated before out of a message's validation and looks
// for values that could repeat the token's IDs among attribute values
// only.
func TestIDsAreAttributes(t *testing.T) {
	n := 0
	err := fs.WalkDir(schemaFiles, "schemas", func(path string, d fs.DirEntry, err error) error {
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
		for _, el := range doc.FindElements("//*") {
			if el.NamespaceURI() != nsXS {
				continue
			}
			for _, key := range []string{"type", "base", "itemType", "memberTypes"} {
				v := el.SelectAttrValue(key, "")
				for _, qn := range strings.Fields(v) {
					prefix, local, ok := strings.Cut(qn, ":")
					if !ok {
						prefix, local = "", qn
					}
					if local != "ID" || resolve(el, prefix) != nsXS {
						continue
					}
					n++
					if el.Tag != "attribute" || key != "type" {
						t.Errorf("%s: xs:ID in %s of <%s>", path, key, el.Tag)
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 10 {
		t.Fatalf("%d uses of xs:ID found: the walk misses them", n)
	}
}

// resolve returns the namespace that prefix is bound to at el ("" when
// unbound).
func resolve(el *etree.Element, prefix string) string {
	for e := el; e != nil; e = e.Parent() {
		for _, a := range e.Attr {
			if prefix == "" && a.Space == "" && a.Key == "xmlns" || prefix != "" && a.Space == "xmlns" && a.Key == prefix {
				return a.Value
			}
		}
	}
	return ""
}
