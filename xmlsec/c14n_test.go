package xmlsec

import (
	"bytes"
	"errors"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/beevik/etree"
)

// TestC14NSubset checks the canonical form of an element inside a larger
// document: ancestors' namespaces in scope, rendered only where visibly
// used or listed in the PrefixList.
func TestC14NSubset(t *testing.T) {
	doc := `<r:Root xmlns:r="urn:r" xmlns="urn:default" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:unused="urn:unused" xml:lang="ja">` +
		`<r:A b="2" a="1" xsi:type="xs:string" r:z="3"><!-- c --><B>x&amp;y&lt;z&gt;<?pi data?></B><r:C xmlns:r="urn:r"/><D xmlns=""/></r:A></r:Root>`
	cases := []struct {
		name string
		c14n C14N
		want string
	}{
		{"ok/visibly-used-only", C14N{},
			`<r:A xmlns:r="urn:r" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" a="1" b="2" xsi:type="xs:string" r:z="3">` +
				`<B xmlns="urn:default">x&amp;y&lt;z&gt;<?pi data?></B><r:C></r:C><D></D></r:A>`},
		{"ok/prefix-list", C14N{PrefixList: []string{"xs", "#default", "absent"}},
			`<r:A xmlns="urn:default" xmlns:r="urn:r" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" a="1" b="2" xsi:type="xs:string" r:z="3">` +
				`<B>x&amp;y&lt;z&gt;<?pi data?></B><r:C></r:C><D xmlns=""></D></r:A>`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := mustParse(t, doc)
			before, _ := d.WriteToString()
			a := d.Root().SelectElement("r:A")
			got, err := c.c14n.Canonicalize(a)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != c.want {
				t.Errorf("got\n%s\nwant\n%s", got, c.want)
			}
			if after, _ := d.WriteToString(); after != before {
				t.Errorf("the caller's document changed")
			}
		})
	}
}

func TestC14NOmitAndEscapes(t *testing.T) {
	d := mustParse(t, "<a xmlns:ds=\"urn:ds\" at=\"q&quot;&#9;&#10;&#13;&lt;&gt;\">\n <ds:S><ds:I/></ds:S>\n t&#13;</a>")
	root := d.Root()
	got, err := C14N{Omit: root.SelectElement("ds:S")}.Canonicalize(root)
	if err != nil {
		t.Fatal(err)
	}
	want := "<a at=\"q&quot;&#x9;&#xA;&#xD;&lt;>\">\n \n t&#xD;</a>"
	if string(got) != want {
		t.Errorf("got %q want %q", got, want)
	}
}

func TestC14NErrors(t *testing.T) {
	for name, doc := range map[string]string{
		"fail/unbound-element-prefix": `<x:a/>`,
		"fail/unbound-attr-prefix":    `<a x:b="1"/>`,
		"fail/rebind-xml":             `<a xmlns:xml="urn:evil"/>`,
		"fail/relative-namespace-uri": `<a xmlns:n="util"><n:b/></a>`,
	} {
		t.Run(name, func(t *testing.T) {
			d := etree.NewDocument()
			if err := d.ReadFromString(doc); err != nil {
				t.Fatal(err)
			}
			_, err := C14N{}.Canonicalize(d.Root())
			if !isKind(err, KindMalformed) {
				t.Fatalf("got %v, want ErrMalformed", err)
			}
		})
	}
}

// TestC14NAgainstXmllint compares whole-document exclusive c14n with
// libxml2's (xmllint --exc-c14n) over the shared examples and captures.
// xmllint keeps comments, so it is given the document without them.
func TestC14NAgainstXmllint(t *testing.T) {
	if _, err := exec.LookPath("xmllint"); err != nil {
		t.Fatalf("xmllint not found (Debian libxml2-utils; make test installs it): %v", err)
	}
	files := corpus(t)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			doc := etree.NewDocument()
			if err := doc.ReadFromFile(f); err != nil {
				t.Fatal(err)
			}
			want, lintErr := xmllintExcC14N(t, doc)
			got, err := C14N{}.Canonicalize(doc.Root())
			if lintErr != nil || err != nil {
				if (lintErr == nil) != (err == nil) {
					t.Fatalf("xmllint: %v; ours: %v", lintErr, err)
				}
				return
			}
			if !bytes.Equal(got, want) {
				t.Errorf("differs from xmllint:\n got %.300s\nwant %.300s", got, want)
			}
		})
	}
}

func corpus(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "interop", "*", "*.xml"))
	if err != nil || len(files) < 20 {
		t.Fatalf("interop corpus missing: %d files, %v", len(files), err)
	}
	return files
}

func mustParse(t testing.TB, s string) *etree.Document {
	t.Helper()
	d, err := Parse([]byte(s), Limits{})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return d
}

func isKind(err error, k Kind) bool {
	var e *Error
	return err != nil && errors.As(err, &e) && e.Kind == k
}

// xmllintExcC14N writes doc without comments and returns what
// xmllint --exc-c14n makes of it.
func xmllintExcC14N(t *testing.T, doc *etree.Document) ([]byte, error) {
	t.Helper()
	c := doc.Copy()
	dropComments(&c.Element)
	p := filepath.Join(t.TempDir(), "in.xml")
	if err := c.WriteToFile(p); err != nil {
		t.Fatal(err)
	}
	return exec.Command("xmllint", "--exc-c14n", p).Output()
}

func dropComments(el *etree.Element) {
	for i := len(el.Child) - 1; i >= 0; i-- {
		switch c := el.Child[i].(type) {
		case *etree.Comment:
			el.RemoveChildAt(i)
		case *etree.Element:
			dropComments(c)
		}
	}
}
