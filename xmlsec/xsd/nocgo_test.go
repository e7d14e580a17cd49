//go:build !cgo

package xsd

import (
	"errors"
	"testing"

	"github.com/beevik/etree"
)

// TestNoCgo checks the stub of a binary built without cgo: every entry
// point fails with ErrNoCgo, none reports success. Run it with
// CGO_ENABLED=0 go test ./xmlsec/xsd.
func TestNoCgo(t *testing.T) {
	if _, err := New(Config{}); !errors.Is(err, ErrNoCgo) {
		t.Fatalf("New = %v, want ErrNoCgo", err)
	}
	if _, err := Default(); !errors.Is(err, ErrNoCgo) {
		t.Fatalf("Default = %v, want ErrNoCgo", err)
	}
	if err := Validate([]byte(`<a/>`)); !errors.Is(err, ErrNoCgo) {
		t.Fatalf("Validate = %v, want ErrNoCgo", err)
	}
	var s Schema
	if err := s.ValidateElement(etree.NewElement("a")); !errors.Is(err, ErrNoCgo) {
		t.Fatalf("ValidateElement = %v, want ErrNoCgo", err)
	}
	if ErrNoCgo.Error() != "xsd: built without cgo: XSD validation needs libxml2" {
		t.Fatalf("ErrNoCgo text %q", ErrNoCgo)
	}
}
