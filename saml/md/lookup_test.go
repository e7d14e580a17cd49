package md

import (
	"crypto/x509"
	"strings"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/xmlsec/xmlenc"
)

func TestSPLookups(t *testing.T) {
	sp, err := sampleSP(t).SP()
	if err != nil {
		t.Fatal(err)
	}
	if e, err := sp.AssertionConsumerServiceByLocation("https://portal.renkei.test/saml/acs", BindingHTTPPOST); err != nil || e.Index != 1 {
		t.Fatalf("ok/acs-by-location: %v", err)
	}
	if e, err := sp.AssertionConsumerServiceByLocation("https://portal.renkei.test/saml/acs-art", ""); err != nil || e.Binding != BindingHTTPArtifact {
		t.Fatalf("ok/acs-any-binding: %v", err)
	}
	for _, c := range []struct{ name, loc, binding string }{
		{"fail/acs-wrong-binding", "https://portal.renkei.test/saml/acs", BindingHTTPArtifact},
		{"fail/acs-trailing-slash", "https://portal.renkei.test/saml/acs/", BindingHTTPPOST},
		{"fail/acs-case", "https://PORTAL.renkei.test/saml/acs", BindingHTTPPOST},
	} {
		_, err := sp.AssertionConsumerServiceByLocation(c.loc, c.binding)
		if !isKind(err, KindNoEndpoint) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	if e, err := sp.AssertionConsumerServiceByIndex(0); err != nil || e.Binding != BindingHTTPArtifact {
		t.Fatalf("ok/acs-by-index: %v", err)
	}
	if _, err := sp.AssertionConsumerServiceByIndex(7); !isKind(err, KindNoEndpoint) {
		t.Fatalf("fail/acs-unknown-index: %v", err)
	}
	if e, err := sp.SingleLogoutService(BindingSOAP); err != nil || e.Location != "https://portal.renkei.test/saml/slo-soap" {
		t.Fatalf("ok/slo-soap: %v", err)
	}
	if _, err := sp.SingleLogoutService(BindingHTTPPOST); !isKind(err, KindNoEndpoint) {
		t.Fatalf("fail/slo-post: %v", err)
	}
	if !sp.WantsDiscoveryBootstrap() {
		t.Fatal("ok/wants-bootstrap: not seen")
	}
	sp.AttributeConsuming[0].Requested = sp.AttributeConsuming[0].Requested[1:]
	if sp.WantsDiscoveryBootstrap() {
		t.Fatal("fail/no-bootstrap-request: reported as wanted")
	}
}

// TestDefaultEndpoint follows SAML Metadata §2.2.3: first isDefault="true",
// else first without isDefault, else the first; document order, not index.
func TestDefaultEndpoint(t *testing.T) {
	ep := func(index uint16, def *bool) IndexedEndpoint {
		return IndexedEndpoint{Endpoint: Endpoint{Binding: BindingHTTPPOST, Location: "https://sp/acs"}, Index: index, IsDefault: def}
	}
	cases := []struct {
		name string
		eps  []IndexedEndpoint
		want uint16
	}{
		{"ok/explicit-true-wins", []IndexedEndpoint{ep(0, nil), ep(1, ptr(false)), ep(5, ptr(true)), ep(6, ptr(true))}, 5},
		{"ok/first-without-attribute", []IndexedEndpoint{ep(0, ptr(false)), ep(9, nil), ep(1, nil)}, 9},
		{"ok/all-false-takes-first", []IndexedEndpoint{ep(3, ptr(false)), ep(1, ptr(false))}, 3},
		{"ok/document-order-not-index", []IndexedEndpoint{ep(4, nil), ep(0, nil)}, 4},
	}
	for _, c := range cases {
		got, err := DefaultEndpoint(c.eps)
		if err != nil || got.Index != c.want {
			t.Errorf("%s: got %v, %v; want index %d", c.name, got, err, c.want)
		}
	}
	if _, err := DefaultEndpoint(nil); !isKind(err, KindNoEndpoint) {
		t.Errorf("fail/empty: %v", err)
	}
	sp, _ := sampleSP(t).SP()
	if d, err := sp.DefaultAssertionConsumerService(); err != nil || d.Index != 2 {
		t.Errorf("sample SP default: %v %v", d, err)
	}
}

func TestKeys(t *testing.T) {
	idp, err := sampleIDP(t).IDP()
	if err != nil {
		t.Fatal(err)
	}
	a, b, enc := testCert(t, "signing-a"), testCert(t, "signing-b"), testCert(t, "encryption")
	got := idp.SigningCertificates()
	if len(got) != 2 || !got[0].Equal(a) || !got[1].Equal(b) {
		t.Fatalf("ok/rollover-two-signing-keys: %d certificates", len(got))
	}
	if _, err := idp.TrustSet().ByCertificate(b.Raw); err != nil {
		t.Fatalf("ok/trust-new-key: %v", err)
	}
	if _, err := idp.TrustSet().ByCertificate(enc.Raw); err == nil {
		t.Fatal("fail/encryption-key-trusted-for-signing")
	}
	r, err := idp.EncryptionRecipient("https://idp.renkei.test/metadata")
	if err != nil || !r.Cert.Equal(enc) || len(r.Methods) != 2 {
		t.Fatalf("ok/encryption-recipient: %+v %v", r, err)
	}
	if algs, err := xmlenc.Choose(r.Methods); err != nil || algs.Data != xmlenc.AES256GCM {
		t.Fatalf("recipient methods do not choose GCM: %+v %v", algs, err)
	}
	sp, _ := sampleSP(t).SP()
	if r, err := sp.EncryptionRecipient("x"); err != nil || !r.Cert.Equal(enc) || r.Methods[0] != xmlenc.AES128GCM {
		t.Fatalf("ok/no-use-key-encrypts: %+v %v", r, err)
	}
	if got := sp.SigningCertificates(); len(got) != 2 {
		t.Fatalf("ok/no-use-key-signs-too: %d", len(got))
	}
	sp.Keys = []KeyDescriptor{{Use: UseSigning, Certificates: []*x509.Certificate{a}}}
	if _, err := sp.EncryptionRecipient("x"); !isKind(err, KindNoKey) {
		t.Fatalf("fail/no-encryption-key: %v", err)
	}
	if e, err := idp.SingleSignOnService(BindingSOAP); err != nil || e.Location != "https://idp.renkei.test/saml/ecp" {
		t.Fatalf("ok/sso-soap: %v", err)
	}
	if _, err := idp.SingleSignOnService(BindingHTTPArtifact); !isKind(err, KindNoEndpoint) {
		t.Fatalf("fail/sso-artifact: %v", err)
	}
}

// TestBooleansAndRoles: xs:boolean as 1/0/true/false, an IdP or SP without
// SAML 2.0 in its protocolSupportEnumeration is not returned, and bad
// values are refused.
func TestBooleansAndRoles(t *testing.T) {
	const sp = `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://sp.example.org/">` +
		`<md:SPSSODescriptor AuthnRequestsSigned="1" WantAssertionsSigned="0" protocolSupportEnumeration="urn:oasis:names:tc:SAML:1.1:protocol urn:oasis:names:tc:SAML:2.0:protocol">` +
		`<md:AssertionConsumerService index="0" isDefault="1" Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://sp.example.org/acs"/>` +
		`</md:SPSSODescriptor><md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:1.1:protocol">` +
		`<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://sp.example.org/sso"/></md:IDPSSODescriptor></md:EntityDescriptor>`
	doc, err := DecodeUnsigned(parse(t, []byte(sp)))
	if err != nil {
		t.Fatal(err)
	}
	s, err := doc.Entity.SP()
	if err != nil || !s.AuthnRequestsSigned || s.WantAssertionsSigned || !*s.AssertionConsumer[0].IsDefault {
		t.Fatalf("ok/booleans-1-0: %+v %v", s, err)
	}
	if _, err := doc.Entity.IDP(); !isKind(err, KindNotFound) {
		t.Fatalf("fail/saml11-only-idp: %v", err)
	}
	for name, in := range map[string]string{
		"fail/bad-boolean":    strings.Replace(sp, `AuthnRequestsSigned="1"`, `AuthnRequestsSigned="yes"`, 1),
		"fail/bad-index":      strings.Replace(sp, `index="0"`, `index="70000"`, 1),
		"fail/no-acs":         strings.Replace(sp, `<md:AssertionConsumerService index="0"`, `<md:Other index="0"`, 1),
		"fail/bad-use":        strings.Replace(sp, `<md:AssertionConsumerService`, `<md:KeyDescriptor use="both"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"/></md:KeyDescriptor><md:AssertionConsumerService`, 1),
		"fail/bad-cert":       strings.Replace(sp, `<md:AssertionConsumerService`, `<md:KeyDescriptor><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>AAAA</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor><md:AssertionConsumerService`, 1),
		"fail/bad-duration":   strings.Replace(sp, `entityID=`, `cacheDuration="P1X" entityID=`, 1),
		"fail/local-time":     strings.Replace(sp, `entityID=`, `validUntil="2026-01-01T00:00:00" entityID=`, 1),
		"fail/no-entityID":    strings.Replace(sp, `entityID="https://sp.example.org/"`, ``, 1),
		"fail/no-protocols":   strings.Replace(sp, `protocolSupportEnumeration="urn:oasis:names:tc:SAML:1.1:protocol urn:oasis:names:tc:SAML:2.0:protocol"`, ``, 1),
		"fail/empty-location": strings.Replace(sp, `Location="https://sp.example.org/acs"`, `Location=" "`, 1),
	} {
		if in == sp {
			t.Fatalf("%s: replacement did nothing", name)
		}
		if _, err := DecodeUnsigned(parse(t, []byte(in))); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestDuration(t *testing.T) {
	for _, c := range []struct {
		in   string
		want time.Duration
	}{
		{"PT1H", time.Hour}, {"P1D", 24 * time.Hour}, {"PT1H30M", 90 * time.Minute}, {"PT0.5S", 500 * time.Millisecond},
		{"P1Y", 365 * 24 * time.Hour}, {"P1M", 30 * 24 * time.Hour}, {"P1DT2H3M4S", 26*time.Hour + 3*time.Minute + 4*time.Second}, {"PT0S", 0},
	} {
		got, err := ParseDuration(c.in)
		if err != nil || got != c.want {
			t.Errorf("ok/%s: %v %v", c.in, got, err)
		}
		if c.want > 0 && c.in != "P1Y" && c.in != "P1M" {
			if again, err := ParseDuration(FormatDuration(got)); err != nil || again != got {
				t.Errorf("round trip %s -> %s: %v", c.in, FormatDuration(got), err)
			}
		}
	}
	for _, in := range []string{"", "P", "PT", "1H", "-PT1H", "P1H", "PT1D", "P1DT", "PT1.5M", "P1M1Y", "PT1H1H", "P999999999Y", "PTxS", "P1D2"} {
		if _, err := ParseDuration(in); err == nil {
			t.Errorf("fail/%q: accepted", in)
		}
	}
}
