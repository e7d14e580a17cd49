package dsig

import (
	"bytes"
	"testing"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

func TestSignVerify(t *testing.T) {
	p := pki.MustGet()
	cases := []struct {
		name   string
		id     *pki.Identity
		method string
		digest string
	}{
		{"ok/rsa-sha256", p.RSA, "", ""},
		{"ok/rsa-sha384", p.RSA, xmlsec.RSASHA384, xmlsec.DigestSHA384},
		{"ok/rsa-sha512", p.RSA, xmlsec.RSASHA512, xmlsec.DigestSHA512},
		{"ok/ecdsa-p256-sha256", p.P256, "", ""},
		{"ok/ecdsa-p384-sha384", p.P384, "", xmlsec.DigestSHA384},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			doc := parse(t, readFile(t, "response.xml"))
			before := serialize(t, doc.Root().Copy())
			a := assertion(doc.Root())
			s := signerFor(c.id)
			s.SignatureMethod, s.DigestMethod = c.method, c.digest
			signed, err := s.Sign(a)
			if err != nil {
				t.Fatal(err)
			}
			if after := serialize(t, doc.Root().Copy()); !bytes.Equal(before, after) {
				t.Fatal("Sign changed the caller's document")
			}
			// Through bytes, as a receiver gets it.
			got, err := verifierFor(p.RSA, p.P256, p.P384).Verify(parse(t, serialize(t, signed)).Root())
			if err != nil {
				t.Fatal(err)
			}
			if n := nameID(got); n != signedNameID {
				t.Fatalf("NameID %q, want %q", n, signedNameID)
			}
			assertDigestedOnly(t, got)
		})
	}
}

func TestSignPlacement(t *testing.T) {
	p := pki.MustGet()
	cases := []struct {
		name, xml, after string
	}{
		{"ok/after-issuer", `<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_l1" Version="2.0" IssueInstant="2026-11-25T10:00:00Z"> <saml:Issuer>https://portal.example.org/saml</saml:Issuer> <saml:NameID>n</saml:NameID></samlp:LogoutRequest>`, "Issuer"},
		{"ok/first-child-of-entity-descriptor", `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" ID="_m1" entityID="https://idp.example.org/saml"> <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/></md:EntityDescriptor>`, ""},
		{"ok/first-child-of-entities-descriptor", `<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" ID="_m2"><md:EntityDescriptor entityID="x"/></md:EntitiesDescriptor>`, ""},
		{"ok/issuer-not-saml-is-not-skipped", `<x:R xmlns:x="urn:x" ID="_r"><x:Issuer>i</x:Issuer></x:R>`, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			signed, err := signerFor(p.RSA).Sign(parse(t, []byte(c.xml)).Root())
			if err != nil {
				t.Fatal(err)
			}
			kids := signed.ChildElements()
			i := 0
			if c.after != "" {
				if kids[0].Tag != c.after {
					t.Fatalf("first child %s, want %s", kids[0].Tag, c.after)
				}
				i = 1
			}
			if kids[i].Tag != "Signature" {
				t.Fatalf("child %d is %s, want Signature", i, kids[i].Tag)
			}
			if _, err := verifierFor(p.RSA).Verify(parse(t, serialize(t, signed)).Root()); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestSignDetachedContext signs an Assertion whose namespaces, including
// the xs prefix used only in xsi:type values, are declared on the
// Response: the signed copy must carry them and sign the xs binding.
func TestSignDetachedContext(t *testing.T) {
	p := pki.MustGet()
	doc := parse(t, readFile(t, "response.xml"))
	signed, err := signerFor(p.RSA).Sign(assertion(doc.Root()))
	if err != nil {
		t.Fatal(err)
	}
	standalone := parse(t, serialize(t, signed)).Root()
	if v := standalone.FindElement(".//AttributeValue"); v == nil || v.SelectAttr("xsi:type").NamespaceURI() != nsXSI {
		t.Fatal("xsi prefix does not resolve in the signed copy")
	}
	if !bytes.Contains(serialize(t, standalone), []byte(`PrefixList="xs"`)) {
		t.Fatal("the xs prefix of xsi:type values is not in the PrefixList")
	}
	got, err := verifierFor(p.RSA).Verify(standalone)
	if err != nil {
		t.Fatal(err)
	}
	if ns := got.FindElement(".//AttributeValue").SelectAttr("xsi:type").Value; ns != "xs:string" {
		t.Fatalf("xsi:type %q", ns)
	}
	if uri := findNS(got, "xs"); uri != "http://www.w3.org/2001/XMLSchema" {
		t.Fatalf("xs bound to %q in the verified copy", uri)
	}
}

func findNS(el *etree.Element, prefix string) string {
	for _, a := range el.Attr {
		if a.Space == "xmlns" && a.Key == prefix {
			return a.Value
		}
	}
	return ""
}

func TestSignCustomIDAttr(t *testing.T) {
	p := pki.MustGet()
	el := parse(t, []byte(`<w:Thing xmlns:w="urn:w" AssertionID="_t1"><w:v>x</w:v></w:Thing>`)).Root()
	s := signerFor(p.P256)
	s.IDAttr = "AssertionID"
	signed, err := s.Sign(el)
	if err != nil {
		t.Fatal(err)
	}
	v := verifierFor(p.P256)
	v.IDAttr = "AssertionID"
	if _, err := v.Verify(parse(t, serialize(t, signed)).Root()); err != nil {
		t.Fatal(err)
	}
	if _, err := verifierFor(p.P256).Verify(parse(t, serialize(t, signed)).Root()); err == nil {
		t.Fatal("verified without the ID attribute configured")
	}
}

func TestSignRefuses(t *testing.T) {
	p := pki.MustGet()
	el := parse(t, readFile(t, "response.xml")).Root()
	t.Run("fail/sha1-not-allowed", func(t *testing.T) {
		s := signerFor(p.RSA)
		s.SignatureMethod = xmlsec.RSASHA1
		_, err := s.Sign(el)
		wantErr(t, err, xmlsec.ErrAlgorithm)
	})
	t.Run("fail/ecdsa-method-rsa-key", func(t *testing.T) {
		s := signerFor(p.RSA)
		s.SignatureMethod = xmlsec.ECDSASHA256
		_, err := s.Sign(el)
		wantErr(t, err, xmlsec.ErrAlgorithm)
	})
	t.Run("fail/no-id", func(t *testing.T) {
		_, err := signerFor(p.RSA).Sign(parse(t, []byte(`<a/>`)).Root())
		wantErr(t, err, xmlsec.ErrReference)
	})
	t.Run("fail/already-signed", func(t *testing.T) {
		signed, err := signerFor(p.RSA).Sign(el)
		if err != nil {
			t.Fatal(err)
		}
		_, err = signerFor(p.RSA).Sign(signed)
		wantErr(t, err, xmlsec.ErrMalformed)
	})
}
