package xmlsec1

import (
	"strings"
	"testing"
)

func TestVersion(t *testing.T) {
	out, err := New(t).Run("--version")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "openssl") {
		t.Fatalf("want the OpenSSL build of xmlsec1, got %q", out)
	}
}
