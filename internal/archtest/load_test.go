package archtest

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestLoad proves the loader keeps each file's imports, marks cgo, and
// leaves out test files, testdata and nested modules.
func TestLoad(t *testing.T) {
	root := t.TempDir()
	write := func(name, src string) {
		t.Helper()
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("idp/sso.go", "package idp\nimport \"errors\"\n")
	write("idp/sso_http.go", "package idp\nimport (\n\"net/http\"\n\"errors\"\n)\n")
	write("idp/sso_test.go", "package idp\nimport \"testing\"\n")
	write("xmlsec/xsd/clib.go", "package xsd\n// #include <stdlib.h>\nimport \"C\"\n")
	write("idp/testdata/x.go", "package x\nimport \"store\"\n")
	write("interop/go.mod", "module interop\n")
	write("interop/peer.go", "package interop\nimport \"github.com/crewjam/saml\"\n")
	pkgs, err := Load(root)
	if err != nil {
		t.Fatal(err)
	}
	want := []Package{
		{Dir: "idp", Imports: map[string]bool{"errors": true, "net/http": true},
			Files: map[string][]string{"sso.go": {"errors"}, "sso_http.go": {"net/http", "errors"}}},
		{Dir: "xmlsec/xsd", Imports: map[string]bool{}, Files: map[string][]string{"clib.go": {}}, Cgo: true},
	}
	if !reflect.DeepEqual(pkgs, want) {
		t.Fatalf("Load = %+v\nwant %+v", pkgs, want)
	}
}
