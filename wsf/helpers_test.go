package wsf

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/xmlsec"
)

// readFile returns a file of testdata; examples are copies of
// shared/spec/examples, captures of shared/captures (HTTP headers removed).
func readFile(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustParse(t testing.TB, b []byte) *Envelope {
	t.Helper()
	env, err := ParseEnvelope(b, xmlsec.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func decodeAll(t testing.TB, env *Envelope) *Header {
	t.Helper()
	blocks, err := CheckMustUnderstand(env.Header)
	if err != nil {
		t.Fatal(err)
	}
	h, err := DecodeHeader(blocks)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func mustBytes(t testing.TB, env *Envelope) []byte {
	t.Helper()
	b, err := env.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func el(t testing.TB, s string) *etree.Element {
	t.Helper()
	e, err := xmlsec.ParseElement([]byte(s), xmlsec.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func canon(t testing.TB, e *etree.Element) string {
	t.Helper()
	b, err := xmlsec.C14N{}.Canonicalize(e)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
