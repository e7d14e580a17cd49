package xsd

import (
	"slices"
	"testing"

	"github.com/beevik/etree"
)

// TestIDsAreAttributes: every use of xs:ID in the embedded schemas is the
// type of an attribute, and no type derives from it or lists it, so an ID
// is always an attribute value, and IDAttributes names every attribute
// that can hold one. wsf/server relies on both when it leaves a part it has
// validated before out of a message's validation.
func TestIDsAreAttributes(t *testing.T) {
	n := 0
	err := eachSchema(func(path string, doc *etree.Document) {
		for _, u := range xsIDUses(doc) {
			n++
			if u.el.Tag != "attribute" || u.key != "type" {
				t.Errorf("%s: xs:ID in %s of <%s>", path, u.key, u.el.Tag)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 10 {
		t.Fatalf("%d uses of xs:ID found: the walk misses them", n)
	}
	var s *Schema
	names := s.IDAttributes()
	for _, want := range []string{"ID", "Id", "id", "name"} {
		if !slices.Contains(names, want) {
			t.Errorf("IDAttributes %v lacks %s", names, want)
		}
	}
	if slices.Contains(names, "ref") || slices.Contains(names, "Version") {
		t.Errorf("IDAttributes %v names an attribute that is no ID", names)
	}
}
