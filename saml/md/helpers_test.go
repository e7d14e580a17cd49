package md

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/xsd"
)

var t0 = time.Date(2026, 5, 2, 10, 0, 0, 0, time.UTC)

func ptr(b bool) *bool { return &b }

// testCert reads one of the fixed certificates of testdata, so that golden
// files stay the same from run to run.
func testCert(t testing.TB, name string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name+".crt"))
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatalf("%s: no PEM", name)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// sampleIDP is the IdP's metadata: two signing keys (a rollover), an
// encryption key with its methods, every IdP endpoint kind.
func sampleIDP(t testing.TB) *EntityDescriptor {
	a, b, enc := testCert(t, "signing-a"), testCert(t, "signing-b"), testCert(t, "encryption")
	return &EntityDescriptor{
		EntityID: "https://idp.renkei.test/metadata", ID: "_idp", CacheDuration: 6 * time.Hour,
		IDPSSO: []*IDPSSODescriptor{{
			SSO: SSO{
				Role: Role{ProtocolSupport: []string{ProtocolSAML2}, ErrorURL: "https://idp.renkei.test/error",
					Keys: []KeyDescriptor{
						{Use: UseSigning, Certificates: []*x509.Certificate{a}},
						{Use: UseSigning, Certificates: []*x509.Certificate{b}},
						{Use: UseEncryption, Certificates: []*x509.Certificate{enc}, EncryptionMethods: []string{"http://www.w3.org/2009/xmlenc11#aes256-gcm", "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"}},
					}},
				ArtifactResolution: []IndexedEndpoint{{Endpoint: Endpoint{Binding: BindingSOAP, Location: "https://idp.renkei.test/saml/artifact"}, Index: 0, IsDefault: ptr(true)}},
				SingleLogout: []Endpoint{
					{Binding: BindingHTTPRedirect, Location: "https://idp.renkei.test/saml/slo", ResponseLocation: "https://idp.renkei.test/saml/slo-resp"},
					{Binding: BindingSOAP, Location: "https://idp.renkei.test/saml/slo-soap"},
				},
				ManageNameID:  []Endpoint{{Binding: BindingSOAP, Location: "https://idp.renkei.test/saml/mni"}},
				NameIDFormats: []string{"urn:oasis:names:tc:SAML:2.0:nameid-format:persistent", "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"},
			},
			WantAuthnRequestsSigned: true,
			SingleSignOn: []Endpoint{
				{Binding: BindingHTTPRedirect, Location: "https://idp.renkei.test/saml/sso"},
				{Binding: BindingHTTPPOST, Location: "https://idp.renkei.test/saml/sso"},
				{Binding: BindingSOAP, Location: "https://idp.renkei.test/saml/ecp"},
			},
			NameIDMapping: []Endpoint{{Binding: BindingSOAP, Location: "https://idp.renkei.test/saml/nim"}},
			Attributes: []Attribute{{Name: DiscoveryEPRAttribute, NameFormat: "urn:oasis:names:tc:SAML:2.0:attrname-format:uri", FriendlyName: "DiscoveryEPR"},
				{Name: "urn:renkei:attr:cardType", Values: []string{"HIC", "MNC"}}},
		}},
		Organization: &Organization{
			Names:        []Localized{{"en", "Renkei IdP"}, {"ja", "連携 IdP"}},
			DisplayNames: []Localized{{"en", "Renkei Identity Provider"}},
			URLs:         []Localized{{"en", "https://idp.renkei.test/"}},
		},
		Contacts: []ContactPerson{{Type: "technical", Company: "Renkei", GivenName: "Aiko", SurName: "Sato", Emails: []string{"mailto:ops@renkei.test"}, Phones: []string{"+81-3-0000-0000"}}},
	}
}

// sampleSP is the portal's metadata: indexed ACSs, SLO, an
// AttributeConsumingService asking for the discovery bootstrap.
func sampleSP(t testing.TB) *EntityDescriptor {
	a, enc := testCert(t, "signing-a"), testCert(t, "encryption")
	return &EntityDescriptor{
		EntityID: "https://portal.renkei.test/metadata", ID: "_portal", ValidUntil: t0.Add(30 * 24 * time.Hour),
		SPSSO: []*SPSSODescriptor{{
			SSO: SSO{
				Role: Role{ProtocolSupport: []string{ProtocolSAML2},
					Keys: []KeyDescriptor{
						{Use: UseSigning, Certificates: []*x509.Certificate{a}},
						{Certificates: []*x509.Certificate{enc}, EncryptionMethods: []string{"http://www.w3.org/2009/xmlenc11#aes128-gcm"}},
					}},
				SingleLogout:  []Endpoint{{Binding: BindingHTTPRedirect, Location: "https://portal.renkei.test/saml/slo"}, {Binding: BindingSOAP, Location: "https://portal.renkei.test/saml/slo-soap"}},
				NameIDFormats: []string{"urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"},
			},
			AuthnRequestsSigned: true, WantAssertionsSigned: true,
			AssertionConsumer: []IndexedEndpoint{
				{Endpoint: Endpoint{Binding: BindingHTTPPOST, Location: "https://portal.renkei.test/saml/acs"}, Index: 1},
				{Endpoint: Endpoint{Binding: BindingHTTPArtifact, Location: "https://portal.renkei.test/saml/acs-art"}, Index: 0, IsDefault: ptr(false)},
				{Endpoint: Endpoint{Binding: BindingPAOS, Location: "https://portal.renkei.test/saml/ecp"}, Index: 2, IsDefault: ptr(true)},
			},
			AttributeConsuming: []AttributeConsumingService{{
				Index: 0, IsDefault: ptr(true),
				ServiceNames: []Localized{{"en", "My Portal"}, {"ja", "マイポータル"}},
				Descriptions: []Localized{{"en", "Citizen portal"}},
				Requested: []RequestedAttribute{
					{Attribute: Attribute{Name: DiscoveryEPRAttribute, NameFormat: "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"}, IsRequired: true},
					{Attribute: Attribute{Name: "urn:renkei:attr:cardType", Values: []string{"HIC"}}},
				},
			}},
		}},
	}
}

// sampleDS is a Discovery Service entity as the other-role path sees it:
// an md:RoleDescriptor whose xsi:type the schema set knows
// (md:AttributeAuthorityDescriptorType, so that the output validates) with
// an endpoint child of that type, and an md:AttributeAuthorityDescriptor.
// TestUnknownRoleKept covers an xsi:type no schema defines.
func sampleDS(t testing.TB) *EntityDescriptor {
	a := testCert(t, "signing-a")
	return &EntityDescriptor{
		EntityID: "https://ds.renkei.test/metadata", CacheDuration: 90 * time.Minute,
		Roles: []*RoleDescriptor{
			{Role: Role{ProtocolSupport: []string{ProtocolSAML2, "urn:liberty:disco:2006-08"}, Keys: []KeyDescriptor{{Use: UseSigning, Certificates: []*x509.Certificate{a}}}},
				TypeNS: NS, TypeLocal: "AttributeAuthorityDescriptorType", Content: []*etree.Element{mdEndpoint("AttributeService", "https://ds.renkei.test/disco")}},
			{Role: Role{ProtocolSupport: []string{ProtocolSAML2}}, Local: "AttributeAuthorityDescriptor", Content: []*etree.Element{mdEndpoint("AttributeService", "https://ds.renkei.test/aa")}},
		},
	}
}

func mdEndpoint(local, loc string) *etree.Element {
	el := etree.NewElement("md:" + local)
	el.CreateAttr("xmlns:md", NS)
	el.CreateAttr("Binding", BindingSOAP)
	el.CreateAttr("Location", loc)
	return el
}

// sampleAggregate is the operator's aggregate: IdP and portal at the top,
// the DS in a nested group.
func sampleAggregate(t testing.TB) *EntitiesDescriptor {
	return &EntitiesDescriptor{
		ID: "_agg", Name: "urn:renkei:federation", ValidUntil: t0.Add(7 * 24 * time.Hour), CacheDuration: time.Hour,
		Entities: []*EntityDescriptor{sampleIDP(t), sampleSP(t)},
		Groups:   []*EntitiesDescriptor{{Name: "services", ValidUntil: t0.Add(48 * time.Hour), Entities: []*EntityDescriptor{sampleDS(t)}}},
	}
}

func serialize(t testing.TB, el *etree.Element) []byte {
	t.Helper()
	b, err := xmlsec.Serialize(el)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func parse(t testing.TB, b []byte) *etree.Element {
	t.Helper()
	el, err := xmlsec.ParseElement(b, xmlsec.Limits{MaxBytes: DefaultMaxBytes})
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, b)
	}
	return el
}

func validate(t testing.TB, b []byte) {
	t.Helper()
	s, err := xsd.Default()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(b); err != nil {
		t.Fatalf("schema: %v", err)
	}
}

func wantErr(t testing.TB, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error %v, want %v", err, target)
	}
}
