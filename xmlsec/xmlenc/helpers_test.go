package xmlenc

import (
	"crypto"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// testEntity is the recipient's entityID in tests.
const testEntity = "https://127.0.0.1:8443/portal"

// readFixture parses a file of testdata strictly.
func readFixture(t testing.TB, name string) *etree.Document {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := xmlsec.Parse(b, xmlsec.Limits{})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return doc
}

// assertionIn returns the saml:Assertion child of the fixture Response,
// whose prefixes are declared on the Response only.
func assertionIn(t testing.TB, doc *etree.Document) *etree.Element {
	t.Helper()
	a := doc.Root().SelectElement("saml:Assertion")
	if a == nil {
		t.Fatal("fixture has no saml:Assertion")
	}
	return a
}

func recipientOf(id *pki.Identity) Recipient {
	return Recipient{EntityID: testEntity, Cert: id.Cert}
}

func decrypterOf(id *pki.Identity) *Decrypter {
	return &Decrypter{Key: id.Key.(crypto.Decrypter), EntityID: testEntity, DataAlgorithms: LegacyDataAlgorithms()}
}

// canon renders an element as its expanded names, attributes (namespace
// declarations left out, sorted) and text, so that two trees can be
// compared whatever prefixes and declarations each one uses.
func canon(el *etree.Element) string {
	var sb strings.Builder
	canonInto(&sb, el)
	return sb.String()
}

func canonInto(sb *strings.Builder, el *etree.Element) {
	fmt.Fprintf(sb, "<{%s}%s", el.NamespaceURI(), el.Tag)
	var attrs []string
	for _, a := range el.Attr {
		if _, decl := declPrefix(a); !decl {
			attrs = append(attrs, fmt.Sprintf(" {%s}%s=%q", a.NamespaceURI(), a.Key, a.Value))
		}
	}
	sort.Strings(attrs)
	sb.WriteString(strings.Join(attrs, "") + ">")
	for _, c := range el.Child {
		switch v := c.(type) {
		case *etree.Element:
			canonInto(sb, v)
		case *etree.CharData:
			fmt.Fprintf(sb, "%q", v.Data)
		}
	}
	sb.WriteString("</>")
}

// sameElement fails the test unless got and want are the same tree.
func sameElement(t testing.TB, got, want *etree.Element) {
	t.Helper()
	g, w := canon(got), canon(want)
	if g == w {
		return
	}
	i := 0
	for i < len(g) && i < len(w) && g[i] == w[i] {
		i++
	}
	from := max(0, i-80)
	t.Fatalf("decrypted element differs at %d\n got: …%.200s\nwant: …%.200s", i, g[from:], w[from:])
}

// short returns the fragment of an algorithm URI, for test names.
func short(uri string) string { return uri[strings.LastIndexByte(uri, '#')+1:] }

// wantKind fails the test unless err is an *xmlsec.Error matching want.
func wantKind(t testing.TB, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("got error %v, want %v", err, want)
	}
}

// seeded returns a deterministic reader for tests that need repeatable
// randomness.
func seeded(seed uint64) io.Reader {
	return rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)})
}

// toBytes serialises a detached element, escaping what a parser would
// otherwise normalise (CR, and TAB and LF in attributes).
func toBytes(t testing.TB, el *etree.Element) []byte {
	t.Helper()
	doc := etree.NewDocumentWithRoot(el.Copy())
	doc.WriteSettings = etree.WriteSettings{CanonicalText: true, CanonicalAttrVal: true}
	b, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// reparse serialises el and parses it back strictly, as a receiver would.
func reparse(t testing.TB, el *etree.Element) *etree.Element {
	t.Helper()
	got, err := xmlsec.ParseElement(toBytes(t, el), xmlsec.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return got
}
