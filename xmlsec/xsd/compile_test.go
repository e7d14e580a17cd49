//go:build cgo

package xsd

import (
	"encoding/xml"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/renkei-idwsf/renkei/xmlsec"
)

// TestTempDirRemoved checks that New leaves nothing in the temporary
// directory and that the compiled schema still works without the files.
func TestTempDirRemoved(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	s, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	left, err := os.ReadDir(tmp)
	if err != nil || len(left) != 0 || s.dir != "" {
		t.Fatalf("after New: %d entries left in TMPDIR (%v), dir %q", len(left), err, s.dir)
	}
	if err := s.Validate(readTestdata(t, "examples/idwsf2-03-wsp-request.xml")); err != nil {
		t.Fatalf("Validate after the schema files are gone: %v", err)
	}
}

// TestWriteTreePermissions checks that only the owner can read the
// written schema tree.
func TestWriteTreePermissions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "set")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := writeTree(schemaFiles, dir); err != nil {
		t.Fatal(err)
	}
	n := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		want := fs.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		} else {
			n++
		}
		if info.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", p, info.Mode().Perm(), want)
		}
		return nil
	})
	if err != nil || n != 39 {
		t.Fatalf("wrote %d files (%v), want the 39 of the set", n, err)
	}
}

// TestCompileErrorIsClear compiles a broken set: the error names the file
// and libxml2's reason, which the binding alone prints only to stderr.
func TestCompileErrorIsClear(t *testing.T) {
	fsys := fstest.MapFS{
		"schemas/all.xsd": {Data: []byte(`<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:w">` +
			`<xs:import namespace="urn:b" schemaLocation="sub/b.xsd"/></xs:schema>`)},
		"schemas/sub/b.xsd": {Data: []byte(`<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:b">` + "\n" +
			`<xs:element name="e" type="xs:noSuchType"/></xs:schema>`)},
	}
	_, _, err := compile(fsys, "schemas/all.xsd")
	var ce *CompileError
	if !errors.As(err, &ce) {
		t.Fatalf("compile = %v, want a *CompileError", err)
	}
	msg := err.Error()
	for _, want := range []string{"schemas/all.xsd", "schemas/sub/b.xsd:2:", "noSuchType"} {
		if !strings.Contains(msg, want) {
			t.Errorf("compile error lacks %q:\n%s", want, msg)
		}
	}
}

// TestSchemaLocations checks that every import, include and redefine of the
// embedded set names a relative file that is in the set, so libxml2 has
// nothing to fetch. xmldsig11's import of xmldsig has no location (see
// schemas/README.md); it is the only one.
func TestSchemaLocations(t *testing.T) {
	var missing []string
	err := fs.WalkDir(schemaFiles, "schemas", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		for _, loc := range schemaRefs(t, p) {
			if loc == "" {
				missing = append(missing, p)
				continue
			}
			if strings.Contains(loc, ":") {
				t.Errorf("%s: absolute schemaLocation %q", p, loc)
				continue
			}
			if _, err := fs.Stat(schemaFiles, path.Join(path.Dir(p), loc)); err != nil {
				t.Errorf("%s: schemaLocation %q is not in the set", p, loc)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(missing) != 1 || missing[0] != "schemas/xmldsig11-schema.xsd" {
		t.Fatalf("imports without schemaLocation in %v, want only xmldsig11", missing)
	}
}

// schemaRefs returns the schemaLocation of every xs:import, xs:include and
// xs:redefine of the schema file p ("" when absent).
func schemaRefs(t *testing.T, p string) []string {
	b, err := fs.ReadFile(schemaFiles, p)
	if err != nil {
		t.Fatal(err)
	}
	d := xml.NewDecoder(strings.NewReader(strings.TrimPrefix(string(b), "\ufeff")))
	d.CharsetReader = func(label string, r io.Reader) (io.Reader, error) {
		if !strings.EqualFold(label, "US-ASCII") {
			return nil, errors.New("unexpected encoding " + label)
		}
		return r, nil // a subset of UTF-8
	}
	var locs []string
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return locs
		}
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Space != "http://www.w3.org/2001/XMLSchema" {
			continue
		}
		if se.Name.Local == "import" || se.Name.Local == "include" || se.Name.Local == "redefine" {
			locs = append(locs, attr(se, "schemaLocation"))
		}
	}
}

func attr(se xml.StartElement, name string) string {
	for _, a := range se.Attr {
		if a.Name.Space == "" && a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func TestClose(t *testing.T) {
	s, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	doc := readTestdata(t, "examples/saml2-01-authnrequest.xml")
	if err := s.Validate(doc); err != nil {
		t.Fatalf("before Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(doc); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v, want ErrClosed", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := mustDefault(t).Close(); err == nil {
		t.Fatal("Close of the shared default schema succeeded")
	}
	if err := Validate(doc); err != nil {
		t.Fatalf("default schema after refusing Close: %v", err)
	}
}

// TestLimits checks that Config.Limits reach xmlsec.Parse.
func TestLimits(t *testing.T) {
	s, err := New(Config{Limits: xmlsec.Limits{MaxBytes: 512}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	doc := readTestdata(t, "examples/saml2-01-authnrequest.xml")
	if err := s.Validate(doc); !errors.Is(err, xmlsec.ErrTooLarge) {
		t.Fatalf("Validate of %d bytes with MaxBytes 512: %v, want ErrTooLarge", len(doc), err)
	}
}
