//go:build cgo

package xsd

import (
	"errors"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/xmlsec"
)

// TestValidateElement validates the assertion inside a signed Response as a
// document of its own: its saml prefix is declared on the Response only.
func TestValidateElement(t *testing.T) {
	s := mustDefault(t)
	doc := signedResponse(t)
	assertion := func(t *testing.T, b []byte) *etree.Element {
		root, err := xmlsec.ParseElement(b, xmlsec.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		a := root.SelectElement("Assertion")
		if a == nil || a.Space != "saml" || a.SelectAttr("xmlns:saml") != nil {
			t.Fatalf("want a saml:Assertion inheriting its prefix, got %v", a)
		}
		return a
	}
	t.Run("ok/assertion-subtree", func(t *testing.T) {
		if err := s.ValidateElement(assertion(t, doc)); err != nil {
			t.Fatalf("ValidateElement: %v", err)
		}
	})
	t.Run("fail/assertion-signature-after-subject", func(t *testing.T) {
		got := messages(t, s.ValidateElement(assertion(t, moveSignatureAfterSubject(t, doc))))
		if len(got) != 1 || !strings.HasPrefix(got[0], "Element '{http://www.w3.org/2000/09/xmldsig#}Signature': This element is not expected.") {
			t.Fatalf("messages %q", got)
		}
	})
	t.Run("fail/directive-in-tree", func(t *testing.T) {
		a := assertion(t, doc)
		a.AddChild(etree.NewDirective(`DOCTYPE x [<!ENTITY e "y">]`))
		if err := s.ValidateElement(a); !errors.Is(err, xmlsec.ErrDoctype) {
			t.Fatalf("ValidateElement = %v, want ErrDoctype", err)
		}
	})
	t.Run("fail/too-deep-tree", func(t *testing.T) {
		root := etree.NewElement("a")
		for e, i := root, 0; i < 60; i++ {
			e = e.CreateElement("a")
		}
		if err := s.ValidateElement(root); !errors.Is(err, xmlsec.ErrTooDeep) {
			t.Fatalf("ValidateElement = %v, want ErrTooDeep", err)
		}
	})
}

// TestSerialize checks the namespace context added to a subtree, nearest
// declaration first after the element's own attributes, and the escaping
// of special characters.
func TestSerialize(t *testing.T) {
	doc := etree.NewDocument()
	if err := doc.ReadFromString(`<a xmlns="urn:d" xmlns:p="urn:outer" xmlns:q="urn:q"><b xmlns:p="urn:inner"><p:c q:x="1&amp;&#10;2">t&lt;&#13;</p:c></b></a>`); err != nil {
		t.Fatal(err)
	}
	c := doc.FindElement("//c")
	got := string(serialize(c))
	want := `<p:c q:x="1&amp;&#xA;2" xmlns:p="urn:inner" xmlns:q="urn:q" xmlns="urn:d">t&lt;&#xD;</p:c>`
	if got != want {
		t.Fatalf("serialize:\n got %s\nwant %s", got, want)
	}
	if got, want := string(serialize(doc.Root())), `<a xmlns="urn:d" xmlns:p="urn:outer" xmlns:q="urn:q"><b xmlns:p="urn:inner"><p:c q:x="1&amp;&#xA;2">t&lt;&#xD;</p:c></b></a>`; got != want {
		t.Fatalf("a root inherits nothing:\n got %s\nwant %s", got, want)
	}
}

// TestValidateParsed checks that skipping the second xmlsec.Parse changes
// no verdict on bytes Parse accepted: the signed Response passes, and the
// one with its Signature moved fails with the same libxml2 message.
func TestValidateParsed(t *testing.T) {
	s := mustDefault(t)
	doc := signedResponse(t)
	if err := s.ValidateParsed(doc); err != nil {
		t.Fatalf("ok/signed-response: %v", err)
	}
	bad := moveSignatureAfterSubject(t, doc)
	want := messages(t, s.Validate(bad))
	got := messages(t, s.ValidateParsed(bad))
	if len(got) == 0 || strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("fail/signature-after-subject: ValidateParsed %q, Validate %q", got, want)
	}
	// ValidateParsed is for bytes xmlsec.Parse accepted; given others, it
	// still refuses them, with libxml2's reasons in the error.
	for name, in := range map[string]string{
		"fail/undeclared-prefix": soapOpen + `<S:Body><p:a/></S:Body></S:Envelope>`,
		"fail/unclosed":          soapOpen + `<S:Body></S:Envelope>`,
		"fail/not-utf8":          soapOpen + "<S:Body>\xff</S:Body></S:Envelope>",
		"fail/empty":             "",
		// xs:ID values are checked on libxml2's document: one ID twice.
		"fail/duplicate-id": sameIDs(t, doc),
	} {
		if err := s.ValidateParsed([]byte(in)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// sameIDs gives the second ID attribute of doc the first one's value.
func sameIDs(t *testing.T, doc []byte) string {
	t.Helper()
	s := string(doc)
	const attr = ` ID="`
	i := strings.Index(s, attr)
	j := i + len(attr) + strings.Index(s[i+len(attr):], attr) + len(attr)
	if i < 0 || j <= i+len(attr) {
		t.Fatal("no two ID attributes")
	}
	first := s[i+len(attr) : i+len(attr)+strings.IndexByte(s[i+len(attr):], '"')]
	end := j + strings.IndexByte(s[j:], '"')
	return s[:j] + first + s[end:]
}
