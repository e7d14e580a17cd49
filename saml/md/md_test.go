package md

import (
	"bytes"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/internal/testkit/golden"
)

// roundTrip checks that the golden file of the test holds exactly the
// encoding of want, that it is schema-valid, and that decoding it and
// encoding again gives the same bytes.
func roundTrip(t *testing.T, el interface{ Element() *etree.Element }) *Document {
	t.Helper()
	b := serialize(t, el.Element())
	golden.Check(t, filepath.Base(t.Name())+".xml", b)
	validate(t, b)
	doc, err := DecodeUnsigned(parse(t, b))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	var again []byte
	if doc.Entity != nil {
		again = serialize(t, doc.Entity.Element())
	} else {
		again = serialize(t, doc.Group.Element())
	}
	if !bytes.Equal(again, b) {
		t.Fatalf("re-encoding differs from byte %d", firstDiff(again, b))
	}
	return doc
}

func TestIDPGolden(t *testing.T) {
	want := sampleIDP(t)
	doc := roundTrip(t, want)
	got := doc.Entity
	if got == nil || !reflect.DeepEqual(got.IDPSSO[0].SingleSignOn, want.IDPSSO[0].SingleSignOn) ||
		got.CacheDuration != 6*time.Hour || len(got.IDPSSO[0].Keys) != 3 || !got.IDPSSO[0].WantAuthnRequestsSigned {
		t.Fatalf("decoded %+v", got)
	}
	if !reflect.DeepEqual(got.Organization, want.Organization) || !reflect.DeepEqual(got.Contacts, want.Contacts) ||
		!reflect.DeepEqual(got.IDPSSO[0].Attributes, want.IDPSSO[0].Attributes) {
		t.Fatal("Organization, ContactPerson or Attributes changed")
	}
}

func TestSPGolden(t *testing.T) {
	want := sampleSP(t)
	got := roundTrip(t, want).Entity
	sp, err := got.SP()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(sp.AssertionConsumer, want.SPSSO[0].AssertionConsumer) ||
		!reflect.DeepEqual(sp.AttributeConsuming, want.SPSSO[0].AttributeConsuming) ||
		!sp.AuthnRequestsSigned || !sp.WantAssertionsSigned || !got.ValidUntil.Equal(want.ValidUntil) {
		t.Fatalf("decoded %+v", sp)
	}
	if !sp.Keys[1].Certificates[0].Equal(want.SPSSO[0].Keys[1].Certificates[0]) || sp.Keys[1].Use != "" {
		t.Fatal("KeyDescriptor without use changed")
	}
}

func TestOtherRolesGolden(t *testing.T) {
	got := roundTrip(t, sampleDS(t)).Entity
	ds, err := got.OtherRole(NS, "AttributeAuthorityDescriptorType")
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.SigningCertificates()) != 1 || len(ds.Endpoints) != 1 || ds.Endpoints[0].Location != "https://ds.renkei.test/disco" || ds.Endpoints[0].Local != "AttributeService" {
		t.Fatalf("discovery role %+v", ds)
	}
	if aa := got.Roles[1]; aa.Local != "AttributeAuthorityDescriptor" || len(aa.Endpoints) != 1 || aa.Endpoints[0].NS != NS {
		t.Fatalf("attribute authority %+v", aa)
	}
}

func TestAggregateGolden(t *testing.T) {
	got := roundTrip(t, sampleAggregate(t)).Group
	if got.Name != "urn:renkei:federation" || len(got.Entities) != 2 || len(got.Groups) != 1 || got.Groups[0].Entities[0].EntityID != "https://ds.renkei.test/metadata" {
		t.Fatalf("decoded %+v", got)
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestUnknownRoleKept: a role descriptor of a type no schema here defines,
// with unknown children and extensions, is decoded without error, its keys
// and endpoints read and its content written back unchanged.
func TestUnknownRoleKept(t *testing.T) {
	const in = `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:x="urn:example:wsp" entityID="https://wsp.example.org/">` +
		`<md:Extensions><x:Anything a="1"/></md:Extensions>` +
		`<md:RoleDescriptor xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="x:WSPType" protocolSupportEnumeration="urn:liberty:soap:2006-08">` +
		`<md:KeyDescriptor><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:KeyName>k</ds:KeyName></ds:KeyInfo></md:KeyDescriptor>` +
		`<x:Service Binding="urn:liberty:soap:2006-08" Location="https://wsp.example.org/soap"><x:Odd/></x:Service><x:Note>text</x:Note>` +
		`</md:RoleDescriptor><md:AffiliationDescriptor affiliationOwnerID="x"/><md:AdditionalMetadataLocation namespace="urn:x">https://x</md:AdditionalMetadataLocation></md:EntityDescriptor>`
	doc, err := DecodeUnsigned(parse(t, []byte(in)))
	if err != nil {
		t.Fatalf("ok/unknown-role: %v", err)
	}
	r, err := doc.Entity.OtherRole("urn:example:wsp", "WSPType")
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Content) != 2 || len(r.Endpoints) != 1 || r.Endpoints[0].Location != "https://wsp.example.org/soap" || len(r.Keys) != 1 || doc.Entity.Extensions == nil {
		t.Fatalf("role %+v", r)
	}
	again, err := DecodeUnsigned(parse(t, serialize(t, doc.Entity.Element())))
	if err != nil {
		t.Fatal(err)
	}
	r2, err := again.Entity.OtherRole("urn:example:wsp", "WSPType")
	if err != nil || len(r2.Content) != 2 || string(serialize(t, r2.Content[0])) != string(serialize(t, r.Content[0])) {
		t.Fatalf("content not kept: %v", err)
	}
}
