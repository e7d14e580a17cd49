package saml

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/internal/testkit/golden"
	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
	"github.com/renkei-idwsf/renkei/xmlsec/xmlenc"
	"github.com/renkei-idwsf/renkei/xmlsec/xsd"
)

var t0 = time.Date(2024, 5, 2, 10, 5, 1, 0, time.UTC)

// sampleToken is an ID-WSF token as the DS mints it: holder-of-key for the
// WSC's certificate, audience the WSP, an AuthnStatement and a bootstrap-like
// attribute with element content.
func sampleToken(wsc *x509.Certificate) *Assertion {
	epr := etree.NewElement("wsa:EndpointReference")
	epr.CreateAttr("xmlns:wsa", "http://www.w3.org/2005/08/addressing")
	epr.CreateElement("wsa:Address").SetText("https://idp.example.org/disco")
	return &Assertion{
		ID: "_b1c2d3e4f5a6", IssueInstant: t0,
		Issuer: Issuer{Value: "https://idp.example.org/saml"},
		Subject: &Subject{
			NameID: &NameID{Value: "Qm9hZ3Vz", Format: NameIDPersistent, NameQualifier: "https://idp.example.org/saml", SPNameQualifier: "https://pp.example.org/wsp"},
			Confirmations: []SubjectConfirmation{{Method: CMHolderOfKey, Data: &SubjectConfirmationData{
				NotOnOrAfter: t0.Add(time.Hour), KeyInfos: []KeyInfo{{Certificates: []*x509.Certificate{wsc}}}}}},
		},
		Conditions: &Conditions{NotBefore: t0.Add(-5 * time.Minute), NotOnOrAfter: t0.Add(time.Hour),
			AudienceRestrictions: []AudienceRestriction{{Audiences: []string{"https://pp.example.org/wsp"}}}},
		AuthnStatements:     []AuthnStatement{{AuthnInstant: t0.Add(-3 * time.Minute), SessionIndex: "s1", ClassRef: ACSmartcardPKI}},
		AttributeStatements: []AttributeStatement{{Attributes: []Attribute{{Name: "urn:liberty:disco:2006-08:DiscoveryEPR", NameFormat: AttrNameFormatURI, Values: []AttributeValue{{Elements: []*etree.Element{epr}}}}}}},
	}
}

func issuer() (*dsig.Signer, *dsig.Verifier) {
	p := pki.MustGet()
	return &dsig.Signer{Key: p.RSA.Key, Certificates: []*x509.Certificate{p.RSA.Cert}},
		&dsig.Verifier{Trust: xmlsec.NewTrustSet([]*x509.Certificate{p.RSA.Cert})}
}

func TestAssertionRoundTrip(t *testing.T) {
	p := pki.MustGet()
	s, v := issuer()
	want := sampleToken(p.P256.Cert)
	signed, err := SignAssertion(want, s)
	if err != nil {
		t.Fatal(err)
	}
	got, el, err := VerifyAssertion(signed, v)
	if err != nil {
		t.Fatalf("ok/signed-token: %v", err)
	}
	if el == nil || !isAssertion(el) {
		t.Fatal("VerifyAssertion returned no verified element")
	}
	assertSameAssertion(t, got, want)
}

// assertSameAssertion compares two assertions, element content by its
// serialized form.
func assertSameAssertion(t *testing.T, got, want *Assertion) {
	t.Helper()
	g, w := *got, *want
	g.AttributeStatements, w.AttributeStatements = nil, nil
	if !reflect.DeepEqual(&g, &w) {
		t.Errorf("decoded assertion differs:\n got %+v\nwant %+v", g, w)
	}
	ga, _ := got.Attribute("urn:liberty:disco:2006-08:DiscoveryEPR")
	wa, _ := want.Attribute("urn:liberty:disco:2006-08:DiscoveryEPR")
	if len(ga.Values) != 1 || len(ga.Values[0].Elements) != 1 {
		t.Fatalf("attribute values %+v", ga.Values)
	}
	if a, b := canon(t, ga.Values[0].Elements[0]), canon(t, wa.Values[0].Elements[0]); a != b {
		t.Errorf("attribute element\n got %s\nwant %s", a, b)
	}
}

// canon returns the exclusive canonical form of el.
func canon(t *testing.T, el *etree.Element) string {
	t.Helper()
	b, err := xmlsec.C14N{}.Canonicalize(el)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func render(el *etree.Element) string {
	d := etree.NewDocument()
	d.SetRoot(el.Copy())
	s, _ := d.WriteToString()
	return s
}

// TestAssertionGolden pins the wire form of an unsigned token (the golden
// file is named after the test; -update rewrites it) and checks it against
// the SAML 2.0 schema.
func TestAssertionGolden(t *testing.T) {
	cert := pki.MustGet().P256.Cert
	got := []byte(render(sampleToken(cert).Element()))
	// The certificate is generated per run: compare with it masked.
	masked := bytes.ReplaceAll(got, []byte(b64(cert.Raw)), []byte("CERT"))
	golden.Check(t, t.Name()+".xml", masked)
	if err := xsd.Validate(got); err != nil {
		t.Errorf("ok/schema-valid: %v", err)
	}
}

func TestVerifyAssertionRefusals(t *testing.T) {
	p := pki.MustGet()
	s, v := issuer()
	signed, err := SignAssertion(sampleToken(p.P256.Cert), s)
	if err != nil {
		t.Fatal(err)
	}
	tampered := signed.Copy()
	tampered.FindElement(".//Audience").SetText("https://evil.example.org")
	foreign := &dsig.Signer{Key: p.ForeignRSA.Key, Certificates: []*x509.Certificate{p.ForeignRSA.Cert}}
	other, _ := SignAssertion(sampleToken(p.P256.Cert), foreign)
	badVersion := sampleToken(p.P256.Cert).Element()
	badVersion.CreateAttr("Version", "1.1")
	badVersionSigned, _ := s.Sign(badVersion)
	for _, tc := range []struct {
		name string
		el   *etree.Element
		want error
	}{
		{"fail/unsigned", sampleToken(p.P256.Cert).Element(), xmlsec.ErrNoSignature},
		{"fail/tampered-audience", tampered, xmlsec.ErrDigest},
		{"fail/untrusted-issuer-key", other, xmlsec.ErrUntrustedKey},
		{"fail/version-1.1", badVersionSigned, ErrVersion},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := VerifyAssertion(tc.el, v); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func TestCheckConditions(t *testing.T) {
	a := sampleToken(pki.MustGet().P256.Cert)
	const aud = "https://pp.example.org/wsp"
	skew := 2 * time.Minute
	for _, tc := range []struct {
		name     string
		now      time.Time
		audience string
		want     error
	}{
		{"ok/in-window", t0, aud, nil},
		{"ok/notbefore-within-skew", t0.Add(-6 * time.Minute), aud, nil},
		{"fail/not-yet-valid", t0.Add(-8 * time.Minute), aud, ErrNotYetValid},
		{"ok/just-before-expiry-with-skew", t0.Add(time.Hour + time.Minute), aud, nil},
		{"fail/expired", t0.Add(time.Hour + skew), aud, ErrExpired},
		{"fail/other-audience", t0, "https://other.example.org/wsp", ErrAudience},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := a.CheckConditions(tc.now, skew, tc.audience)
			if (tc.want == nil && err != nil) || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	t.Run("fail/no-audience-restriction", func(t *testing.T) {
		b := *a
		b.Conditions = &Conditions{NotOnOrAfter: t0.Add(time.Hour)}
		if err := b.CheckConditions(t0, skew, aud); !errors.Is(err, ErrAudience) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("fail/two-restrictions-one-unmet", func(t *testing.T) {
		b := *a
		c := *a.Conditions
		c.AudienceRestrictions = append(c.AudienceRestrictions, AudienceRestriction{Audiences: []string{"x"}})
		b.Conditions = &c
		if err := b.CheckConditions(t0, skew, aud); !errors.Is(err, ErrAudience) {
			t.Fatalf("got %v", err)
		}
	})
}

func TestEncryptedIDRoundTrip(t *testing.T) {
	key, cert := rsaRecipient(t)
	n := &NameID{Value: "pairwise-1", Format: NameIDPersistent, SPProvidedID: "patient:0042"}
	enc, err := EncryptNameID(n, &xmlenc.Encrypter{}, xmlenc.Recipient{Cert: cert})
	if err != nil {
		t.Fatal(err)
	}
	got, err := enc.Decrypt(&xmlenc.Decrypter{Key: key})
	if err != nil {
		t.Fatalf("ok/decrypt: %v", err)
	}
	if *got != *n {
		t.Errorf("got %+v, want %+v", got, n)
	}
	other, _ := rsaRecipient(t)
	if _, err := enc.Decrypt(&xmlenc.Decrypter{Key: other}); !errors.Is(err, xmlsec.ErrDecrypt) {
		t.Errorf("fail/wrong-key: got %v", err)
	}
}

func rsaRecipient(t *testing.T) (*rsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	id, err := pki.MustGet().CA.Issue("recipient", pki.RSA2048)
	if err != nil {
		t.Fatal(err)
	}
	return id.Key.(*rsa.PrivateKey), id.Cert
}

func TestDecodeRefusesMalformed(t *testing.T) {
	_, v := issuer()
	s, _ := issuer()
	cert := pki.MustGet().P256.Cert
	for _, tc := range []struct {
		name   string
		mutate func(*etree.Element)
	}{
		{"fail/no-issuer", func(el *etree.Element) { el.RemoveChild(el.SelectElement("saml:Issuer")) }},
		{"fail/unknown-condition", func(el *etree.Element) {
			el.SelectElement("saml:Conditions").CreateElement("saml:Condition")
		}},
		{"fail/issue-instant-not-utc", func(el *etree.Element) { el.CreateAttr("IssueInstant", "2024-05-02T10:05:01+09:00") }},
		{"fail/nameid-and-encryptedid", func(el *etree.Element) {
			el.SelectElement("saml:Subject").CreateElement("saml:EncryptedID")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			el := sampleToken(cert).Element()
			tc.mutate(el)
			signed, err := s.Sign(el)
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := VerifyAssertion(signed, v); !errors.Is(err, xmlsec.ErrMalformed) {
				t.Fatalf("got %v, want malformed", err)
			}
		})
	}
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
