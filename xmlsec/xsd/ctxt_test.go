//go:build cgo

package xsd

import (
	"fmt"
	"strings"
	"testing"
)

// TestWornParserRetired: a parser context whose dictionary grew past its
// bound in bytes (long unique names) goes back to no pool, and a parse
// that failed does not either, while an ordinary validation's context is
// kept for the next.
func TestWornParserRetired(t *testing.T) {
	s, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	idle := func() int { return len(s.ctxts) }
	valid := []byte(`<saml:Issuer xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">https://idp.example.org/</saml:Issuer>`)
	if err := s.ValidateParsed(valid); err != nil {
		t.Fatal(err)
	}
	if idle() != 1 {
		t.Fatalf("ok/kept: %d idle contexts after a validation, want 1", idle())
	}
	var long strings.Builder
	long.WriteString("<r")
	for i := range 30 {
		fmt.Fprintf(&long, " a%d%s=\"x\"", i, strings.Repeat("n", 45000))
	}
	long.WriteString("/>")
	if err := s.ValidateParsed([]byte(long.String())); err == nil {
		t.Fatal("an unknown root validated")
	}
	if idle() != 0 {
		t.Fatalf("fail/worn: %d idle contexts after a dictionary of over 1 MB, want 0", idle())
	}
	if err := s.ValidateParsed([]byte("<r>")); err == nil {
		t.Fatal("a malformed document validated")
	}
	if idle() != 0 {
		t.Fatalf("fail/parse-failed: %d idle contexts after a failed parse, want 0", idle())
	}
	if err := s.ValidateParsed(valid); err != nil {
		t.Fatal(err)
	}
}
