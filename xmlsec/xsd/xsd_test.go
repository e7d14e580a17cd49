//go:build cgo

package xsd

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/renkei-idwsf/renkei/xmlsec"
)

// TestExamples validates every XML example of the specification digests
// (shared/spec/examples, copied to testdata/examples; xmllint accepts all 14).
func TestExamples(t *testing.T) {
	s := mustDefault(t)
	files, err := filepath.Glob("testdata/examples/*.xml")
	if err != nil || len(files) != 14 {
		t.Fatalf("want the 14 XML examples, found %d (%v)", len(files), err)
	}
	for _, f := range files {
		t.Run("ok/"+filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Validate(b); err != nil {
				t.Fatalf("Validate: %v", err)
			}
		})
	}
}

func TestSignedResponseFromXmlsec1(t *testing.T) {
	s := mustDefault(t)
	doc := signedResponse(t)
	t.Run("ok/signed-response", func(t *testing.T) {
		if err := s.Validate(doc); err != nil {
			t.Fatalf("Validate: %v", err)
		}
	})
	t.Run("fail/signature-after-subject", func(t *testing.T) {
		got := messages(t, s.Validate(moveSignatureAfterSubject(t, doc)))
		want := []string{"Element '{http://www.w3.org/2000/09/xmldsig#}Signature': This element is not expected. " +
			"Expected is one of ( {urn:oasis:names:tc:SAML:2.0:assertion}Conditions, " +
			"{urn:oasis:names:tc:SAML:2.0:assertion}Advice, {urn:oasis:names:tc:SAML:2.0:assertion}Statement, " +
			"{urn:oasis:names:tc:SAML:2.0:assertion}AuthnStatement, {urn:oasis:names:tc:SAML:2.0:assertion}AuthzDecisionStatement, " +
			"{urn:oasis:names:tc:SAML:2.0:assertion}AttributeStatement )."}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("messages:\n got %q\nwant %q", got, want)
		}
	})
}

const soapOpen = `<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/">`

const authnRequestOpen = `<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"`

func TestInvalid(t *testing.T) {
	s := mustDefault(t)
	cases := []struct {
		name, doc string
		want      []string
	}{
		{"fail/unknown-root-element", `<x:Foo xmlns:x="urn:renkei:test"/>`,
			[]string{"Element '{urn:renkei:test}Foo': No matching global declaration available for the validation root."}},
		{"fail/unknown-child-element", authnRequestOpen + ` ID="_a" Version="2.0" IssueInstant="2026-11-25T08:00:00Z"><samlp:Bogus/></samlp:AuthnRequest>`,
			[]string{"Element '{urn:oasis:names:tc:SAML:2.0:protocol}Bogus': This element is not expected. Expected is one of ( " +
				"{urn:oasis:names:tc:SAML:2.0:assertion}Issuer, {http://www.w3.org/2000/09/xmldsig#}Signature, " +
				"{urn:oasis:names:tc:SAML:2.0:protocol}Extensions, {urn:oasis:names:tc:SAML:2.0:assertion}Subject, " +
				"{urn:oasis:names:tc:SAML:2.0:protocol}NameIDPolicy, {urn:oasis:names:tc:SAML:2.0:assertion}Conditions, " +
				"{urn:oasis:names:tc:SAML:2.0:protocol}RequestedAuthnContext, {urn:oasis:names:tc:SAML:2.0:protocol}Scoping )."}},
		{"fail/missing-required-attribute", authnRequestOpen + ` Version="2.0" IssueInstant="2026-11-25T08:00:00Z"/>`,
			[]string{"Element '{urn:oasis:names:tc:SAML:2.0:protocol}AuthnRequest': The attribute 'ID' is required but missing."}},
		{"fail/wrong-type", authnRequestOpen + ` ID="_a" Version="2.0" IssueInstant="yesterday"/>`,
			[]string{"Element '{urn:oasis:names:tc:SAML:2.0:protocol}AuthnRequest', attribute 'IssueInstant': 'yesterday' is not a valid value of the atomic type 'xs:dateTime'."}},
		{"fail/duplicate-id", authnRequestOpen + ` ID="_a" Version="2.0" IssueInstant="2026-11-25T08:00:00Z"><saml:Issuer>x</saml:Issuer>` +
			`<saml:Subject><saml:EncryptedID><xenc:EncryptedData xmlns:xenc="http://www.w3.org/2001/04/xmlenc#" Id="_a"><xenc:CipherData><xenc:CipherValue>AA==</xenc:CipherValue></xenc:CipherData></xenc:EncryptedData></saml:EncryptedID></saml:Subject></samlp:AuthnRequest>`,
			[]string{"Element '{http://www.w3.org/2001/04/xmlenc#}EncryptedData', attribute 'Id': '_a' is not a valid value of the atomic type 'xs:ID'."}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := messages(t, s.Validate([]byte(c.doc)))
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("messages:\n got %q\nwant %q", got, c.want)
			}
		})
	}
}

// TestLaxBody is the positive control of the undeclared-prefix cases: the
// SOAP Body takes any element laxly, so a declared foreign one is valid.
func TestLaxBody(t *testing.T) {
	doc := soapOpen + `<S:Body><y:Foo xmlns:y="urn:y" y:a="1"><bar/></y:Foo></S:Body></S:Envelope>`
	if err := mustDefault(t).Validate([]byte(doc)); err != nil {
		t.Fatalf("Validate: %v", err)
	}
}

// TestRefused checks that what xmlsec.Parse refuses never reaches libxml2
// and keeps its own error kind.
func TestRefused(t *testing.T) {
	s := mustDefault(t)
	cases := []struct {
		name, doc string
		want      error
	}{
		{"fail/doctype-internal-subset", `<!DOCTYPE samlp:AuthnRequest [<!ENTITY x "y">]>` + authnRequestOpen + ` ID="_a" Version="2.0" IssueInstant="2026-11-25T08:00:00Z"/>`, xmlsec.ErrDoctype},
		{"fail/doctype-external", `<!DOCTYPE a SYSTEM "http://127.0.0.1:9/x.dtd"><a/>`, xmlsec.ErrDoctype},
		{"fail/not-well-formed", authnRequestOpen + ` ID="_a" Version="2.0" IssueInstant="2026-11-25T08:00:00Z"><saml:Issuer>x</samlp:AuthnRequest>`, xmlsec.ErrMalformed},
		{"fail/undeclared-prefix-root", `<samlp:AuthnRequest ID="_a"/>`, xmlsec.ErrMalformed},
		{"fail/undeclared-prefix-in-lax-body", soapOpen + `<S:Body><x:Foo/></S:Body></S:Envelope>`, xmlsec.ErrMalformed},
		{"fail/undeclared-attribute-prefix", soapOpen + `<S:Body><y:Foo xmlns:y="urn:y" x:a="1"/></S:Body></S:Envelope>`, xmlsec.ErrMalformed},
		{"fail/latin1", `<?xml version="1.0" encoding="ISO-8859-1"?><a/>`, xmlsec.ErrMalformed},
		{"fail/empty", ``, xmlsec.ErrMalformed},
		{"fail/too-deep", strings.Repeat("<a>", 60) + strings.Repeat("</a>", 60), xmlsec.ErrTooDeep},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := s.Validate([]byte(c.doc))
			if !errors.Is(err, c.want) {
				t.Fatalf("Validate = %v, want %v", err, c.want)
			}
		})
	}
}

// TestManyErrors checks the MaxErrors cap: 40 bad timestamps give 32
// messages and a count of the 8 others.
func TestManyErrors(t *testing.T) {
	var b strings.Builder
	b.WriteString(authnRequestOpen + ` ID="_a" Version="2.0" IssueInstant="2026-11-25T08:00:00Z"><saml:Subject>`)
	for i := 0; i < 40; i++ {
		b.WriteString(`<saml:SubjectConfirmation Method="urn:x"><saml:SubjectConfirmationData NotOnOrAfter="never"/></saml:SubjectConfirmation>`)
	}
	b.WriteString(`</saml:Subject></samlp:AuthnRequest>`)
	err := mustDefault(t).Validate([]byte(b.String()))
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("Validate = %v, want a *ValidationError", err)
	}
	if len(ve.Messages) != MaxErrors || ve.Omitted != 8 {
		t.Fatalf("kept %d messages, omitted %d; want %d and 8", len(ve.Messages), ve.Omitted, MaxErrors)
	}
	if !strings.Contains(err.Error(), "(8 more messages not kept)") {
		t.Fatalf("error text does not say messages were left out: %v", err)
	}
}

// TestHugeValue feeds a 63,000-byte value of the wrong type: libxml2 quotes
// it whole, which overflows the fixed buffer of the binding's own error
// callback (a crash, see clib.go); ours cuts the message.
func TestHugeValue(t *testing.T) {
	doc := authnRequestOpen + ` ID="_a" Version="2.0" IssueInstant="` + strings.Repeat("x", 63000) + `"/>`
	got := messages(t, mustDefault(t).Validate([]byte(doc)))
	if len(got) != 1 || !strings.HasSuffix(got[0], "… [message cut]") || len(got[0]) > 1100 {
		t.Fatalf("want one message cut near 1024 bytes, got %d messages, first %d bytes", len(got), len(got[0]))
	}
	if !strings.HasPrefix(got[0], "Element '{urn:oasis:names:tc:SAML:2.0:protocol}AuthnRequest', attribute 'IssueInstant': 'xxx") {
		t.Fatalf("unexpected message %.120q", got[0])
	}
}
