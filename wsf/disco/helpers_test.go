package disco

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/xsd"
)

// readFile returns a file of testdata; captures are copies of
// shared/captures/lasso.
func readFile(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// captureBody returns the Body payload of a recorded SOAP message.
func captureBody(t testing.TB, name string) *etree.Element {
	t.Helper()
	env, err := wsf.ParseEnvelope(readFile(t, "captures/"+name), xmlsec.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return env.Payload()
}

// serialize writes el and validates it against the schema set.
func serialize(t *testing.T, el *etree.Element) []byte {
	t.Helper()
	b, err := xmlsec.Serialize(el)
	if err != nil {
		t.Fatal(err)
	}
	if err := xsd.Validate(b); err != nil {
		t.Fatalf("schema: %v\n%s", err, b)
	}
	return b
}

func parse(t testing.TB, s string) *etree.Element {
	t.Helper()
	el, err := xmlsec.ParseElement([]byte(s), xmlsec.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return el
}

func mustMalformed(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, xmlsec.ErrMalformed) {
		t.Fatalf("want a malformed error, got %v", err)
	}
}

// sameTree reports whether a and b hold the same expanded names,
// attributes (namespace declarations aside) and text, recursively: what a
// round trip must keep, whatever prefixes and declarations it moves.
func sameTree(a, b *etree.Element) bool {
	if a.Tag != b.Tag || a.NamespaceURI() != b.NamespaceURI() || attrSet(a) != attrSet(b) || a.Text() != b.Text() {
		return false
	}
	ak, bk := a.ChildElements(), b.ChildElements()
	if len(ak) != len(bk) {
		return false
	}
	for i := range ak {
		if !sameTree(ak[i], bk[i]) {
			return false
		}
	}
	return true
}

func attrSet(el *etree.Element) string {
	var out []string
	for i := range el.Attr {
		a := &el.Attr[i]
		if a.Space == "xmlns" || (a.Space == "" && a.Key == "xmlns") {
			continue
		}
		out = append(out, "{"+attrNS(a)+"}"+a.Key+"="+a.Value)
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}
