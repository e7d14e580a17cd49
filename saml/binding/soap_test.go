package binding

import (
	"bytes"
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/internal/testkit/golden"
	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

func ecpRequestHeaders() *ECPHeaders {
	rs := "ss:mem:5f2a9c"
	return &ECPHeaders{
		PAOSRequest: &PAOSRequest{ResponseConsumerURL: "https://127.0.0.1:8443/sp/ecp-acs", MessageID: "_paos-1"},
		Request: &ECPRequest{ProviderName: "Reception", IsPassive: true, Issuer: saml.Issuer{Value: spEntity},
			IDPList: &samlp.IDPList{Entries: []samlp.IDPEntry{{ProviderID: idpEntity, Name: "IdP"}}}},
		RelayState: &rs,
	}
}

func TestSOAPECPGolden(t *testing.T) {
	req := authnRequest()
	req.ProtocolBinding = samlp.BindingPAOS
	req.AssertionConsumerServiceURL = "https://127.0.0.1:8443/sp/ecp-acs"
	h := ecpRequestHeaders()
	env := &Envelope{Header: h.Elements(), Body: req.Element()}
	b := serialize(t, env.Element())
	validate(t, b)
	golden.Check(t, "TestSOAPECPGolden_paos.xml", b)
	got, err := (&SOAPDecoder{}).Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	gh, err := ReadECPHeaders(got, ECPQuirks{})
	if err != nil {
		t.Fatal(err)
	}
	h.PAOSRequest.Service = ServiceECP
	if *gh.PAOSRequest != *h.PAOSRequest || gh.Request.Issuer != h.Request.Issuer || !gh.Request.IsPassive ||
		gh.Request.ProviderName != "Reception" || len(gh.Request.IDPList.Entries) != 1 || *gh.RelayState != *h.RelayState {
		t.Fatalf("headers %+v", gh)
	}
	if r, err := samlp.DecodeAuthnRequest(got.Body); err != nil || r.ProtocolBinding != samlp.BindingPAOS {
		t.Fatalf("body: %v", err)
	}

	resp := &ECPResponse{AssertionConsumerServiceURL: "https://127.0.0.1:8443/sp/ecp-acs"}
	renv := &Envelope{Header: []*etree.Element{resp.Element()}, Body: (&samlp.Response{StatusResponseHeader: samlp.StatusResponseHeader{
		ID: "_r1", IssueInstant: t0, Issuer: &saml.Issuer{Value: idpEntity}, Status: samlp.NewStatus(samlp.StatusResponder, samlp.StatusNoPassive)}}).Element()}
	rb := serialize(t, renv.Element())
	validate(t, rb)
	golden.Check(t, "TestSOAPECPGolden_response.xml", rb)
	rgot, err := (&SOAPDecoder{}).Decode(bytes.NewReader(rb))
	if err != nil {
		t.Fatal(err)
	}
	rh, err := ReadECPHeaders(rgot, ECPQuirks{})
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckECPResponse(gh.PAOSRequest, rh.Response); err != nil {
		t.Fatal(err)
	}
	if err := CheckECPResponse(gh.PAOSRequest, &ECPResponse{AssertionConsumerServiceURL: "https://127.0.0.1:1/evil"}); !errors.Is(err, ErrSOAP) {
		t.Fatalf("fail/acs-mismatch: %v", err)
	}
}

func TestSOAPDigestExample(t *testing.T) {
	b, err := os.ReadFile("testdata/TestSOAPDigestExample_paos.xml")
	if err != nil {
		t.Fatal(err)
	}
	env, err := (&SOAPDecoder{}).Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	h, err := ReadECPHeaders(env, ECPQuirks{})
	if err != nil {
		t.Fatal(err)
	}
	if h.PAOSRequest.ResponseConsumerURL != "https://portal.example.org/saml/ecp-acs" || h.Request.Issuer.Value != "https://portal.example.org/saml" {
		t.Fatalf("headers %+v", h)
	}
}

func TestFaultRoundTrip(t *testing.T) {
	f := &Fault{Code: FaultClient, String: "no"}
	b := serialize(t, f.Envelope().Element())
	validate(t, b)
	_, err := (&SOAPDecoder{}).Decode(bytes.NewReader(b))
	var got *Fault
	if !errors.As(err, &got) || got.Code != FaultClient || got.String != "no" {
		t.Fatalf("got %v", err)
	}
	foreign := &Fault{Code: "{urn:x}Busy", String: "later"}
	_, err = (&SOAPDecoder{}).Decode(bytes.NewReader(serialize(t, foreign.Envelope().Element())))
	if !errors.As(err, &got) || got.Code != "{urn:x}Busy" {
		t.Fatalf("foreign code: %v", err)
	}
}

const envOpen = `<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/">`

func TestSOAPFailures(t *testing.T) {
	body := `<S:Body><samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_a" Version="2.0" IssueInstant="2024-05-02T10:05:01Z"/></S:Body>`
	paos := `<paos:Request xmlns:paos="urn:liberty:paos:2003-08" responseConsumerURL="https://127.0.0.1/a" service="` + ServiceECP + `" S:mustUnderstand="1" S:actor="` + ActorNext + `"/>`
	cases := []struct {
		name  string
		doc   string
		fault string
		want  error
	}{
		{"fail/unknown-mustunderstand", envOpen + `<S:Header><x:Y xmlns:x="urn:x" S:mustUnderstand="1"/></S:Header>` + body + `</S:Envelope>`, FaultMustUnderstand, nil},
		{"fail/soap12", `<E:Envelope xmlns:E="http://www.w3.org/2003/05/soap-envelope">` + `<E:Body/></E:Envelope>`, FaultVersionMismatch, nil},
		{"fail/fault", envOpen + `<S:Body><S:Fault><faultcode>S:Server</faultcode><faultstring>down</faultstring></S:Fault></S:Body></S:Envelope>`, FaultServer, nil},
		{"fail/two-body-elements", envOpen + `<S:Body><a/><b/></S:Body></S:Envelope>`, "", ErrSOAP},
		{"fail/empty-body", envOpen + `<S:Body/></S:Envelope>`, "", ErrSOAP},
		{"fail/trailer", envOpen + body + `<x:T xmlns:x="urn:x"/></S:Envelope>`, "", ErrSOAP},
		{"fail/not-envelope", `<a/>`, "", ErrSOAP},
		{"fail/bad-mustunderstand", envOpen + `<S:Header><x:Y xmlns:x="urn:x" S:mustUnderstand="yes"/></S:Header>` + body + `</S:Envelope>`, "", ErrSOAP},
		{"fail/unknown-mustunderstand-true", envOpen + `<S:Header><x:Y xmlns:x="urn:x" S:mustUnderstand="true"/></S:Header>` + body + `</S:Envelope>`, FaultMustUnderstand, nil},
		{"fail/unqualified-header", envOpen + `<S:Header><Y/></S:Header>` + body + `</S:Envelope>`, "", ErrSOAP},
		{"fail/doctype", `<!DOCTYPE S:Envelope [<!ENTITY x "y">]>` + envOpen + body + `</S:Envelope>`, "", xmlsec.ErrDoctype},
		{"fail/oversized", envOpen + strings.Repeat(" ", DefaultMaxBody) + body + `</S:Envelope>`, "", xmlsec.ErrTooLarge},
		{"ok/unknown-header-for-other-actor", envOpen + `<S:Header><x:Y xmlns:x="urn:x" S:mustUnderstand="1" S:actor="urn:other"/></S:Header>` + body + `</S:Envelope>`, "", nil},
		{"ok/paos", envOpen + `<S:Header>` + paos + `</S:Header>` + body + `</S:Envelope>`, "", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := (&SOAPDecoder{}).Decode(strings.NewReader(tc.doc))
			var f *Fault
			switch {
			case tc.fault != "":
				if !errors.As(err, &f) || f.Code != tc.fault {
					t.Fatalf("got %v, want fault %s", err, tc.fault)
				}
			case tc.want == nil && err != nil:
				t.Fatalf("got %v", err)
			case tc.want != nil && !errors.Is(err, tc.want):
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	t.Run("fail/paos-not-understood-when-not-configured", func(t *testing.T) {
		_, err := (&SOAPDecoder{Understood: []string{}}).Decode(strings.NewReader(envOpen + `<S:Header>` + paos + `</S:Header>` + body + `</S:Envelope>`))
		var f *Fault
		if !errors.As(err, &f) || f.Code != FaultMustUnderstand {
			t.Fatalf("got %v", err)
		}
	})
}

func TestECPHeaderFailures(t *testing.T) {
	body := `<S:Body><a/></S:Body>`
	ecp := func(attrs, inner string) string {
		return `<ecp:Request xmlns:ecp="` + NSECP + `" xmlns:saml="` + saml.NS + `" ` + attrs + `>` + inner + `</ecp:Request>`
	}
	must := `S:mustUnderstand="1" S:actor="` + ActorNext + `"`
	issuer := `<saml:Issuer>https://127.0.0.1/sp</saml:Issuer>`
	cases := []struct {
		name, header string
		want         error
	}{
		{"fail/no-mustunderstand", ecp(`S:actor="`+ActorNext+`"`, issuer), ErrSOAP},
		{"fail/wrong-actor", ecp(`S:mustUnderstand="1" S:actor="urn:x"`, issuer), ErrSOAP},
		{"fail/unqualified-actor-without-quirk", ecp(`S:mustUnderstand="1" actor="`+ActorNext+`"`, issuer), ErrSOAP},
		{"fail/duplicate-request", ecp(must, issuer) + ecp(must, issuer), ErrSOAP},
		{"fail/no-issuer", ecp(must, ""), xmlsec.ErrMalformed},
		{"fail/bad-ispassive", ecp(must+` IsPassive="maybe"`, issuer), xmlsec.ErrMalformed},
		{"fail/response-without-acs", `<ecp:Response xmlns:ecp="` + NSECP + `" ` + must + `/>`, xmlsec.ErrMalformed},
		{"fail/relaystate-too-long", `<ecp:RelayState xmlns:ecp="` + NSECP + `" ` + must + `>` + strings.Repeat("r", 81) + `</ecp:RelayState>`, ErrRelayState},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env, err := (&SOAPDecoder{}).Decode(strings.NewReader(envOpen + `<S:Header>` + tc.header + `</S:Header>` + body + `</S:Envelope>`))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ReadECPHeaders(env, ECPQuirks{}); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func TestAcceptsPAOS(t *testing.T) {
	cases := []struct {
		name, accept, paos string
		want               bool
	}{
		{"ok/ecp", "text/html; application/vnd.paos+xml", PAOSHeader, true},
		{"ok/list-and-options", "text/html, application/vnd.paos+xml;q=0.9", `ver="urn:liberty:paos:2003-08";"urn:oasis:names:tc:SAML:2.0:profiles:SSO:ecp";"urn:oasis:names:tc:SAML:2.0:profiles:SSO:ecp:2.0:WantAuthnRequestsSigned"`, true},
		{"fail/no-accept", "text/html", PAOSHeader, false},
		{"fail/no-paos", "application/vnd.paos+xml", "", false},
		{"fail/other-service", "application/vnd.paos+xml", `ver="urn:liberty:paos:2003-08";"urn:x"`, false},
		{"fail/other-version", "application/vnd.paos+xml", `ver="urn:liberty:paos:2006-08";"` + ServiceECP + `"`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			h.Set("Accept", tc.accept)
			if tc.paos != "" {
				h.Set("PAOS", tc.paos)
			}
			if got := AcceptsPAOS(h); got != tc.want {
				t.Fatalf("got %v", got)
			}
		})
	}
}
