package wsf

import (
	"errors"
	"reflect"
	"testing"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/wire"
	"github.com/renkei-idwsf/renkei/xmlsec/xsd"
)

// firstEPR finds the first wsa:EndpointReference under root.
func firstEPR(t *testing.T, root *etree.Element) *etree.Element {
	t.Helper()
	stack := []*etree.Element{root}
	for i := 0; i < len(stack) && i < 100000; i++ {
		if wire.Is(stack[i], NSWSA, "EndpointReference") {
			return stack[i]
		}
		stack = append(stack, stack[i].ChildElements()...)
	}
	t.Fatal("no EPR")
	return nil
}

func TestDecodeEPRFromQueryResponse(t *testing.T) {
	env := mustParse(t, readFile(t, "examples/idwsf2-02-disco-query-response.xml"))
	e, err := DecodeEPR(firstEPR(t, env.Payload()))
	if err != nil {
		t.Fatal(err)
	}
	m := e.Metadata
	if e.Address != "https://pp.example.org/idwsf/pp" || m == nil || m.ProviderID != "https://pp.example.org/wsp" ||
		m.ServiceType != "urn:liberty:id-sis-pp:2003-08" || m.Framework != "2.0" || m.Abstract != "Personal profile of the principal" {
		t.Fatalf("decoded %+v %+v", e, m)
	}
	if len(m.SecurityContexts) != 1 || m.SecurityContexts[0].Mechanisms[0] != string(ClientTLSSAMLV2) {
		t.Fatalf("security contexts %+v", m.SecurityContexts)
	}
	tok := m.SecurityContexts[0].Tokens[0]
	if tok.EffectiveUsage() != UsageSecurityToken || !wire.Is(tok.Element, NSSAML, "Assertion") {
		t.Fatalf("token %+v", tok)
	}
	// The token is a standalone copy: its prefixes resolve without the envelope.
	if tok.Element.Parent() != nil || tok.Element.NamespaceURI() != NSSAML {
		t.Fatal("token is not standalone")
	}
}

func TestEPRRoundTrip(t *testing.T) {
	tok := el(t, `<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" Version="2.0" ID="_x" IssueInstant="2024-05-02T10:00:00Z"><saml:Issuer>https://idp.example.org/saml</saml:Issuer></saml:Assertion>`)
	want := &EPR{
		Address:             "https://pp.example.org/idwsf/pp",
		ReferenceParameters: []*etree.Element{el(t, `<r:Tenant xmlns:r="urn:renkei:test">h1</r:Tenant>`)},
		Metadata: &EPRMetadata{Abstract: "Clinical results", ProviderID: "https://hospital.example.org/wsp",
			ServiceType: "urn:renkei:svc:clinical:1.0", Framework: "2.0", Options: []string{"urn:liberty:dst:multipleQueryItems"},
			Actions: []string{"urn:renkei:svc:clinical:1.0:Query"},
			SecurityContexts: []SecurityContext{{Mechanisms: []string{string(ClientTLSSAMLV2), string(TLSSAMLV2)},
				Tokens: []Token{{Usage: UsageSecurityToken, Element: tok}}}}},
	}
	out := want.Element()
	d := etree.NewDocument()
	d.SetRoot(out)
	b, _ := d.WriteToBytes()
	if err := xsd.Validate(b); err != nil {
		t.Fatalf("ok/schema-valid-epr: %v", err)
	}
	got, err := DecodeEPR(el(t, string(b)))
	if err != nil {
		t.Fatal(err)
	}
	if canon(t, got.Metadata.SecurityContexts[0].Tokens[0].Element) != canon(t, tok) ||
		canon(t, got.ReferenceParameters[0]) != canon(t, want.ReferenceParameters[0]) {
		t.Fatal("token or reference parameter changed")
	}
	got.Metadata.SecurityContexts[0].Tokens[0].Element, want.Metadata.SecurityContexts[0].Tokens[0].Element = nil, nil
	got.ReferenceParameters, want.ReferenceParameters = nil, nil
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got.Metadata, want.Metadata)
	}
}

// TestQuirkEPRFramework: IDWSF2 §11 item 1, disco:Framework read as sbf:Framework.
func TestQuirkEPRFramework(t *testing.T) {
	e, err := DecodeEPR(el(t, `<wsa:EndpointReference xmlns:wsa="`+NSWSA+`" xmlns:disco="`+NSDisco+`"><wsa:Address>https://x/</wsa:Address><wsa:Metadata><disco:Framework version="2.0"/></wsa:Metadata></wsa:EndpointReference>`))
	if err != nil || e.Metadata.Framework != "2.0" {
		t.Fatalf("got %+v %v", e, err)
	}
}

// TestQuirkZXIDEPRNotOnOrAfter: IDWSF2 §11 item 7, ZXID's unqualified
// notOnOrAfter on the EPR is ignored; the EPR still decodes. The EPR is cut
// from the recorded QueryResponse: the whole ZXID envelope is refused by
// xmlsec.Parse's round-trip check (xmlsec/xsd's captures test records it);
// the cut adds the xmlns:di declaration the EPR inherited.
func TestQuirkZXIDEPRNotOnOrAfter(t *testing.T) {
	e, err := DecodeEPR(el(t, string(readFile(t, "captures/zxid-13-epr.xml"))))
	if err != nil {
		t.Fatal(err)
	}
	if e.Metadata == nil || e.Metadata.ServiceType != "urn:x-echo" || len(e.Metadata.SecurityContexts) == 0 {
		t.Fatalf("decoded %+v", e.Metadata)
	}
	tok := e.Metadata.SecurityContexts[0].Tokens[0]
	if !wire.Is(tok.Element, NSSAML, "EncryptedAssertion") || tok.Usage != "" {
		t.Fatalf("ZXID token %+v", tok)
	}
}

func TestDecodeLassoBootstrapEPR(t *testing.T) {
	e, err := DecodeEPR(el(t, string(readFile(t, "captures/lasso-00-bootstrap-epr.xml"))))
	if err != nil {
		t.Fatal(err)
	}
	m := e.Metadata
	if m.ServiceType != ServiceTypeDisco || m.SecurityContexts[0].Mechanisms[0] != "urn:liberty:security:2005-02:null:Bearer" {
		t.Fatalf("decoded %+v", m)
	}
	if _, ok := ParseMechanism(m.SecurityContexts[0].Mechanisms[0]); ok {
		t.Fatal("fail/null-bearer-is-not-implemented")
	}
}

func TestDecodeEPRRefusals(t *testing.T) {
	for _, tc := range []struct{ name, doc string }{
		{"fail/no-address", `<wsa:EndpointReference xmlns:wsa="` + NSWSA + `"/>`},
		{"fail/empty-address", `<wsa:EndpointReference xmlns:wsa="` + NSWSA + `"><wsa:Address> </wsa:Address></wsa:EndpointReference>`},
		{"fail/security-context-without-mech", `<wsa:EndpointReference xmlns:wsa="` + NSWSA + `" xmlns:disco="` + NSDisco + `"><wsa:Address>https://x/</wsa:Address><wsa:Metadata><disco:SecurityContext/></wsa:Metadata></wsa:EndpointReference>`},
		{"fail/empty-token", `<wsa:EndpointReference xmlns:wsa="` + NSWSA + `" xmlns:disco="` + NSDisco + `" xmlns:sec="` + NSSec + `"><wsa:Address>https://x/</wsa:Address><wsa:Metadata><disco:SecurityContext><disco:SecurityMechID>` + string(TLSBearer) + `</disco:SecurityMechID><sec:Token/></disco:SecurityContext></wsa:Metadata></wsa:EndpointReference>`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := DecodeEPR(el(t, tc.doc)); !errors.Is(err, xmlsec.ErrMalformed) {
				t.Fatalf("got %v", err)
			}
		})
	}
}

// TestQuirkPeerSAMLV2Date: IDWSF2 §11 item 4, both dates accepted, 2006-08 emitted.
func TestQuirkPeerSAMLV2Date(t *testing.T) {
	for _, urn := range []string{"urn:liberty:security:2006-08:ClientTLS:peerSAMLV2", "urn:liberty:security:2005-02:ClientTLS:peerSAMLV2"} {
		if m, ok := ParseMechanism(urn); !ok || m != ClientTLSPeerSAMLV2 {
			t.Errorf("%s: got %q %v", urn, m, ok)
		}
	}
	for _, urn := range []string{"urn:liberty:security:2006-08:ClientTLS:SAMLV2", "urn:liberty:security:2006-08:TLS:SAMLV2",
		"urn:liberty:security:2005-02:TLS:Bearer", "urn:liberty:security:2005-02:ClientTLS:X509"} {
		if m, ok := ParseMechanism(urn); !ok || string(m) != urn {
			t.Errorf("ok/%s: got %q %v", urn, m, ok)
		}
	}
	for _, urn := range []string{"urn:liberty:security:2005-02:TLS:SAMLV2", "urn:liberty:security:2003-08:null:null", ""} {
		if _, ok := ParseMechanism(urn); ok {
			t.Errorf("fail/%q accepted", urn)
		}
	}
}
