package samlp

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

const digestArtifact = "AAQAAESrBI6xUyYhmiYsHR6PVj6Qs0XTAQIDBAUGBwgJCgsMDQ4PEBESExQ="

// TestArtifactResolveDigestExample decodes the ArtifactResolve of the spec
// digest (examples/saml2-03-artifactresolve-soap.xml), copied to testdata.
func TestArtifactResolveDigestExample(t *testing.T) {
	b, err := os.ReadFile("testdata/TestDigestExamples_artifactresolve.xml")
	if err != nil {
		t.Fatal(err)
	}
	el, err := xmlsec.ParseElement(b, xmlsec.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := DecodeArtifactResolve(el)
	if err != nil {
		t.Fatal(err)
	}
	if r.Artifact != digestArtifact || r.Issuer.Value != "https://portal.example.org/saml" || r.Signed {
		t.Fatalf("ok/decoded: %+v", r)
	}
}

func TestArtifactResolveRefused(t *testing.T) {
	head := `<samlp:ArtifactResolve xmlns:samlp="` + NS + `" xmlns:saml="` + saml.NS + `" ID="_a" Version="2.0" IssueInstant="2026-01-01T00:00:00Z">`
	for name, x := range map[string]string{
		"fail/no-artifact":   head + `<saml:Issuer>https://sp</saml:Issuer></samlp:ArtifactResolve>`,
		"fail/two-artifacts": head + `<samlp:Artifact>a</samlp:Artifact><samlp:Artifact>b</samlp:Artifact></samlp:ArtifactResolve>`,
		"fail/empty":         head + `<samlp:Artifact></samlp:Artifact></samlp:ArtifactResolve>`,
		"fail/huge":          head + `<samlp:Artifact>` + strings.Repeat("A", 300) + `</samlp:Artifact></samlp:ArtifactResolve>`,
		"fail/child-element": head + `<samlp:Artifact><x/></samlp:Artifact></samlp:ArtifactResolve>`,
		"fail/version-1.1":   strings.Replace(head, `"2.0"`, `"1.1"`, 1) + `<samlp:Artifact>a</samlp:Artifact></samlp:ArtifactResolve>`,
		"fail/order":         head + `<samlp:Artifact>a</samlp:Artifact><saml:Issuer>https://sp</saml:Issuer></samlp:ArtifactResolve>`,
	} {
		el, err := xmlsec.ParseElement([]byte(x), xmlsec.Limits{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := DecodeArtifactResolve(el); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
}

func TestArtifactResponseRoundTrip(t *testing.T) {
	inner := (&Response{StatusResponseHeader: StatusResponseHeader{ID: "_r", IssueInstant: time.Unix(0, 0).UTC(),
		Status: NewStatus(StatusSuccess, "")}}).Element()
	for name, msg := range map[string]*etree.Element{"ok/with-message": inner, "ok/empty": nil} {
		r := &ArtifactResponse{StatusResponseHeader: StatusResponseHeader{ID: "_ar", InResponseTo: "_q",
			IssueInstant: time.Unix(0, 0).UTC(), Issuer: &saml.Issuer{Value: "https://idp"}, Status: NewStatus(StatusSuccess, "")}, Message: msg}
		back, err := DecodeArtifactResponse(reparse(t, r.Element()))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if back.InResponseTo != "_q" || (back.Message == nil) != (msg == nil) {
			t.Fatalf("%s: %+v", name, back)
		}
		if msg != nil && back.Message.SelectAttrValue("ID", "") != "_r" {
			t.Fatalf("%s: message %v", name, back.Message)
		}
	}
}

// FuzzArtifactResolve feeds arbitrary bytes to the decoders of the
// artifact resolution protocol, seeded with the digest's ArtifactResolve
// (testdata/fuzz/FuzzArtifactResolve): they refuse or decode, never panic,
// and what they decode encodes and decodes again to the same artifact.
func FuzzArtifactResolve(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		el, err := xmlsec.ParseElement(b, xmlsec.Limits{MaxBytes: 64 << 10})
		if err != nil {
			return
		}
		if r, err := DecodeArtifactResolve(el); err == nil {
			again, err := DecodeArtifactResolve(reparse(t, r.Element()))
			if err != nil || again.ID != r.ID || again.Artifact != r.Artifact {
				t.Fatalf("resolve round trip: %v", err)
			}
		}
		if r, err := DecodeArtifactResponse(el); err == nil {
			again, err := DecodeArtifactResponse(reparse(t, r.Element()))
			if err != nil || again.ID != r.ID || (again.Message == nil) != (r.Message == nil) {
				t.Fatalf("response round trip: %v", err)
			}
		}
	})
}
