package samlp

import (
	"crypto/x509"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/internal/testkit/golden"
	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
	"github.com/renkei-idwsf/renkei/xmlsec/xsd"
)

var t0 = time.Date(2024, 5, 2, 10, 5, 1, 0, time.UTC)

func u16(v uint16) *uint16 { return &v }

func sampleRequest() *AuthnRequest {
	pc := 2
	return &AuthnRequest{
		RequestHeader: RequestHeader{ID: "_q9f8e7d6c5b4a39281706f5e4d3c2b1a0", IssueInstant: t0,
			Destination: "https://idp.example.org/saml/sso", Consent: ConsentObtained,
			Issuer: &saml.Issuer{Value: "https://portal.example.org/saml"}},
		Subject:      &saml.Subject{NameID: &saml.NameID{Value: "Qm9hZ3Vz", Format: saml.NameIDPersistent}},
		NameIDPolicy: &NameIDPolicy{Format: saml.NameIDPersistent, SPNameQualifier: "https://portal.example.org/saml", AllowCreate: true},
		Conditions: &saml.Conditions{NotOnOrAfter: t0.Add(5 * time.Minute),
			AudienceRestrictions: []saml.AudienceRestriction{{Audiences: []string{"https://idp.example.org/saml"}}}},
		RequestedAuthnContext: &RequestedAuthnContext{Comparison: ComparisonMinimum, ClassRefs: []string{saml.ACX509, saml.ACSmartcardPKI}},
		Scoping: &Scoping{ProxyCount: &pc, RequesterIDs: []string{"https://requester.example.org"},
			IDPList: &IDPList{Entries: []IDPEntry{{ProviderID: "https://idp.example.org/saml", Name: "IdP", Loc: "https://idp.example.org/saml/sso"}}}},
		ForceAuthn: true, IsPassive: false,
		AssertionConsumerServiceURL: "https://portal.example.org/saml/acs", ProtocolBinding: BindingHTTPPOST,
		AttributeConsumingServiceIndex: u16(0), ProviderName: "My Portal",
	}
}

func sampleResponse(t *testing.T) *Response {
	t.Helper()
	p := pki.MustGet()
	signed, err := saml.SignAssertion(sampleAssertion(), &dsig.Signer{Key: p.RSA.Key, Certificates: []*x509.Certificate{p.RSA.Cert}})
	if err != nil {
		t.Fatal(err)
	}
	return &Response{StatusResponseHeader: StatusResponseHeader{ID: "_r1", InResponseTo: "_q9f8e7d6c5b4a39281706f5e4d3c2b1a0",
		IssueInstant: t0, Destination: "https://portal.example.org/saml/acs",
		Issuer: &saml.Issuer{Value: "https://idp.example.org/saml", Format: saml.NameIDEntity},
		Status: Status{Code: StatusCode{Value: StatusSuccess}}}, Assertions: []*etree.Element{signed}}
}

func sampleAssertion() *saml.Assertion {
	return &saml.Assertion{ID: "_a1", IssueInstant: t0, Issuer: saml.Issuer{Value: "https://idp.example.org/saml"},
		Subject: &saml.Subject{NameID: &saml.NameID{Value: "x", Format: saml.NameIDTransient}},
		Conditions: &saml.Conditions{NotOnOrAfter: t0.Add(time.Minute),
			AudienceRestrictions: []saml.AudienceRestriction{{Audiences: []string{"https://portal.example.org/saml"}}}}}
}

func validate(t *testing.T, el *etree.Element) []byte {
	t.Helper()
	b, err := xmlsec.Serialize(el)
	if err != nil {
		t.Fatal(err)
	}
	if err := xsd.Validate(b); err != nil {
		t.Fatalf("schema: %v\n%s", err, b)
	}
	return b
}

func TestAuthnRequestGolden(t *testing.T) {
	want := sampleRequest()
	b := validate(t, want.Element())
	golden.Check(t, "TestAuthnRequestGolden_request.xml", b)
	el, err := xmlsec.ParseElement(b, xmlsec.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeAuthnRequest(el)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, want)
	}
}

func TestResponseGolden(t *testing.T) {
	r := sampleResponse(t)
	r.Status = Status{Code: StatusCode{Value: StatusResponder, Code: &StatusCode{Value: StatusNoPassive}}, Message: "not logged in"}
	r.Assertions = []*etree.Element{sampleAssertion().Element()} // unsigned: the test PKI is fresh each run
	b := validate(t, r.Element())
	golden.Check(t, "TestResponseGolden_response.xml", b)
	el, err := xmlsec.ParseElement(b, xmlsec.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeResponse(el)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != r.ID || got.InResponseTo != r.InResponseTo || got.Status.Second() != StatusNoPassive || got.Status.Message != "not logged in" || len(got.Assertions) != 1 {
		t.Errorf("round trip: %+v", got)
	}
	if got.Status.Success() {
		t.Error("error status reads as Success")
	}
}

func TestSignVerify(t *testing.T) {
	p := pki.MustGet()
	s := &dsig.Signer{Key: p.RSA.Key, Certificates: []*x509.Certificate{p.RSA.Cert}}
	v := &dsig.Verifier{Trust: xmlsec.NewTrustSet([]*x509.Certificate{p.RSA.Cert})}
	untrusted := &dsig.Verifier{Trust: xmlsec.NewTrustSet([]*x509.Certificate{p.ForeignRSA.Cert})}
	t.Run("ok/authnrequest", func(t *testing.T) {
		el, err := Sign(sampleRequest(), s)
		if err != nil {
			t.Fatal(err)
		}
		validate(t, el)
		checkSignatureAfterIssuer(t, el)
		r, _, err := VerifyAuthnRequest(el, v)
		if err != nil || !r.Signed || r.ProviderName != "My Portal" {
			t.Fatalf("verify: %v %+v", err, r)
		}
		if _, _, err := VerifyAuthnRequest(el, untrusted); !errors.Is(err, xmlsec.ErrUntrustedKey) {
			t.Fatalf("fail/untrusted-key: %v", err)
		}
	})
	t.Run("ok/response", func(t *testing.T) {
		el, err := Sign(sampleResponse(t), s)
		if err != nil {
			t.Fatal(err)
		}
		validate(t, el)
		checkSignatureAfterIssuer(t, el)
		r, _, err := VerifyResponse(el, v)
		if err != nil || !r.Signed || !r.Status.Success() || len(r.Assertions) != 1 {
			t.Fatalf("verify: %v %+v", err, r)
		}
		if _, _, err := saml.VerifyAssertion(r.Assertions[0], v); err != nil {
			t.Fatalf("assertion inside the verified response: %v", err)
		}
	})
	t.Run("fail/tampered", func(t *testing.T) {
		el, err := Sign(sampleRequest(), s)
		if err != nil {
			t.Fatal(err)
		}
		el.CreateAttr("AssertionConsumerServiceURL", "https://evil.example.org/acs")
		if _, _, err := VerifyAuthnRequest(el, v); !errors.Is(err, xmlsec.ErrDigest) {
			t.Fatalf("got %v", err)
		}
	})
}

func checkSignatureAfterIssuer(t *testing.T, el *etree.Element) {
	t.Helper()
	cs := el.ChildElements()
	if len(cs) < 2 || cs[0].Tag != "Issuer" || cs[1].Tag != "Signature" || cs[1].NamespaceURI() != xmlsec.NSDSig {
		t.Fatalf("ds:Signature is not right after saml:Issuer")
	}
}

func TestDecodeAuthnRequestFailures(t *testing.T) {
	base := sampleRequest()
	base.Subject, base.Conditions, base.Scoping = nil, nil, nil
	cases := []struct {
		name string
		edit func(el *etree.Element)
		want error
	}{
		{"fail/acs-index-and-url", func(el *etree.Element) { el.CreateAttr("AssertionConsumerServiceIndex", "1") }, ErrACSChoice},
		{"fail/version-1.1", func(el *etree.Element) { el.CreateAttr("Version", "1.1") }, saml.ErrVersion},
		{"fail/bad-comparison", func(el *etree.Element) {
			firstChild(el, NS, "RequestedAuthnContext").CreateAttr("Comparison", "roughly")
		}, xmlsec.ErrMalformed},
		{"fail/class-and-decl-refs", func(el *etree.Element) {
			firstChild(el, NS, "RequestedAuthnContext").CreateElement("saml:AuthnContextDeclRef").SetText("urn:x")
		}, xmlsec.ErrMalformed},
		{"fail/out-of-order", func(el *etree.Element) {
			p := firstChild(el, NS, "NameIDPolicy")
			el.RemoveChild(p)
			el.AddChild(p)
		}, xmlsec.ErrMalformed},
		{"fail/subject-confirmation", func(el *etree.Element) {
			s := el.CreateElement("saml:Subject")
			s.CreateElement("saml:NameID").SetText("x")
			s.CreateElement("saml:SubjectConfirmation").CreateAttr("Method", saml.CMBearer)
			el.RemoveChild(s)
			el.InsertChildAt(firstChild(el, NS, "NameIDPolicy").Index(), s)
		}, ErrSubject},
		{"fail/bad-index", func(el *etree.Element) { el.CreateAttr("AttributeConsumingServiceIndex", "70000") }, xmlsec.ErrMalformed},
		{"fail/no-id", func(el *etree.Element) { el.RemoveAttr("ID") }, xmlsec.ErrMalformed},
		{"fail/local-time", func(el *etree.Element) { el.CreateAttr("IssueInstant", "2024-05-02T10:05:01") }, xmlsec.ErrMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			el := base.Element()
			tc.edit(el)
			b, err := xmlsec.Serialize(el)
			if err != nil {
				t.Fatal(err)
			}
			parsed, err := xmlsec.ParseElement(b, xmlsec.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := DecodeAuthnRequest(parsed); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func TestStatusFailures(t *testing.T) {
	r := sampleResponse(t)
	r.Assertions = nil
	for name, code := range map[string]string{"fail/second-level-on-top": StatusNoPassive, "fail/empty": ""} {
		t.Run(name, func(t *testing.T) {
			r.Status = Status{Code: StatusCode{Value: code}}
			b, _ := xmlsec.Serialize(r.Element())
			el, err := xmlsec.ParseElement(b, xmlsec.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := DecodeResponse(el); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	t.Run("fail/no-status", func(t *testing.T) {
		el := r.Element()
		el.RemoveChild(firstChild(el, NS, "Status"))
		if _, err := DecodeResponse(el); !errors.Is(err, ErrStatus) {
			t.Fatalf("got %v", err)
		}
	})
}

func TestPeek(t *testing.T) {
	p := pki.MustGet()
	el, err := Sign(sampleResponse(t), &dsig.Signer{Key: p.P256.Key})
	if err != nil {
		t.Fatal(err)
	}
	u, err := PeekResponse(el)
	if err != nil {
		t.Fatal(err)
	}
	if u.Name != "Response" || u.Version != "2.0" || u.Issuer.Value != "https://idp.example.org/saml" || !u.Signed || len(u.Assertions) != 1 || u.Assertions[0].Parent() != el {
		t.Fatalf("peek: %+v", u)
	}
}

func TestCheckIssuer(t *testing.T) {
	r := sampleRequest()
	if err := r.CheckIssuer(); err != nil {
		t.Fatalf("ok/entity: %v", err)
	}
	r.Issuer.Format = saml.NameIDPersistent
	if err := r.CheckIssuer(); !errors.Is(err, ErrIssuer) {
		t.Fatalf("fail/format: %v", err)
	}
	r.Issuer = nil
	if err := r.CheckIssuer(); !errors.Is(err, ErrIssuer) {
		t.Fatalf("fail/missing: %v", err)
	}
}

func TestPeekOtherVersion(t *testing.T) {
	el := sampleRequest().Element()
	el.CreateAttr("Version", "1.1")
	u, err := Peek(el)
	if err != nil || u.Version != "1.1" || u.ID != sampleRequest().ID {
		t.Fatalf("peek: %v %+v", err, u)
	}
	if _, err := DecodeAuthnRequest(el); !errors.Is(err, saml.ErrVersion) {
		t.Fatalf("decode: %v", err)
	}
}

func reparse(t *testing.T, el *etree.Element) *etree.Element {
	t.Helper()
	b, err := xmlsec.Serialize(el)
	if err != nil {
		t.Fatal(err)
	}
	out, err := xmlsec.ParseElement(b, xmlsec.Limits{})
	if err != nil {
		t.Fatalf("re-encoded message does not parse: %v\n%s", err, b)
	}
	return out
}

// TestResponseKeepsInheritedNamespaces: assertions taken in place from a
// received Response (their prefix declared on the Response only) are
// re-encoded standalone, still schema-valid.
func TestResponseKeepsInheritedNamespaces(t *testing.T) {
	doc := `<samlp:Response xmlns:samlp="` + NS + `" xmlns:a="` + saml.NS + `" ID="_r" Version="2.0" IssueInstant="2024-05-02T10:05:01Z">` +
		`<samlp:Status><samlp:StatusCode Value="` + StatusSuccess + `"/></samlp:Status>` +
		`<a:Assertion ID="_a" Version="2.0" IssueInstant="2024-05-02T10:05:01Z"><a:Issuer>https://127.0.0.1/idp</a:Issuer></a:Assertion></samlp:Response>`
	el, err := xmlsec.ParseElement([]byte(doc), xmlsec.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	u, err := PeekResponse(el)
	if err != nil {
		t.Fatal(err)
	}
	r := &Response{StatusResponseHeader: StatusResponseHeader{ID: "_r2", IssueInstant: t0, Status: NewStatus(StatusSuccess, "")}, Assertions: u.Assertions}
	out := etree.NewElement("wrapper")
	out.AddChild(r.Element())
	validate(t, out.ChildElements()[0])
}
