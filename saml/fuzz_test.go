package saml

import (
	"os"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/xmlsec"
)

// FuzzDecodeAssertion feeds arbitrary bytes to the assertion decoder that
// runs on every verified copy, seeded with the golden token: it must
// refuse with an error or decode, never panic, and what it decodes must
// encode and decode again to an assertion with the same ID and issuer, and
// its conditions checks must not panic.
func FuzzDecodeAssertion(f *testing.F) {
	golden, err := os.ReadFile("testdata/TestAssertionGolden.xml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(golden)
	f.Add([]byte(`<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" Version="2.0" ID="_a" IssueInstant="2024-05-02T10:00:00Z"><saml:Issuer>https://idp.example.org/saml</saml:Issuer></saml:Assertion>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		el, err := xmlsec.ParseElement(b, xmlsec.Limits{MaxBytes: 64 << 10})
		if err != nil {
			return
		}
		a, err := decodeAssertion(el)
		if err != nil {
			return
		}
		_ = a.CheckConditions(time.Date(2024, 5, 2, 10, 5, 0, 0, time.UTC), time.Minute, "https://pp.example.org/wsp")
		again, err := decodeAssertion(a.Element())
		if err != nil {
			t.Fatalf("re-encoded assertion does not decode: %v", err)
		}
		if again.ID != a.ID || again.Issuer != a.Issuer {
			t.Fatalf("round trip changed ID or Issuer: %q/%q -> %q/%q", a.ID, a.Issuer.Value, again.ID, again.Issuer.Value)
		}
	})
}
