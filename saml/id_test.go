package saml

import (
	"bytes"
	"regexp"
	"testing"
)

// TestNewID: "_" and 32 hex digits from the reader given, and the
// reader's failure when it runs dry.
func TestNewID(t *testing.T) {
	id, err := NewID(bytes.NewReader(bytes.Repeat([]byte{0xab}, 16)))
	if err != nil || id != "_"+string(bytes.Repeat([]byte("ab"), 16)) {
		t.Fatalf("ok/from-reader: %q %v", id, err)
	}
	if id, err := NewID(nil); err != nil || !regexp.MustCompile(`^_[0-9a-f]{32}$`).MatchString(id) {
		t.Fatalf("ok/crypto-rand: %q %v", id, err)
	}
	if id, err := NewID(bytes.NewReader(make([]byte, 15))); err == nil || id != "" {
		t.Fatalf("fail/short-randomness: %q %v", id, err)
	}
}
