package disco

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/xsd"
)

var update = flag.Bool("update", false, "rewrite golden files")

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

// golden compares b with testdata/<name>.xml, rewriting it under -update.
func golden(t *testing.T, name string, b []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".xml")
	if *update {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, want) {
		t.Errorf("%s differs from the golden file:\n%s", name, b)
	}
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

// canon returns the exclusive canonical form of el.
func canon(t testing.TB, el *etree.Element) string {
	t.Helper()
	b, err := xmlsec.C14N{}.Canonicalize(el)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
