package wsf

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/xsd"
)

// fullHeader sets every header block the binding writes.
func fullHeader(t *testing.T) *Header {
	return &Header{
		Framework: Framework{Version: FrameworkVersion},
		Sender:    &Sender{ProviderID: "https://portal.example.org/wsc", AffiliationID: "https://aff.example.org"},
		MessageID: "urn:uuid:5b1f1c5e-7d2a-4c39-9a55-0f6c2f8d1a01",
		RelatesTo: "urn:uuid:00000000-0000-4000-8000-000000000000",
		Action:    "urn:liberty:disco:2006-08:Query",
		To:        "https://idp.example.org/disco",
		ReplyTo:   &EPR{Address: Anonymous},
		FaultTo:   &EPR{Address: Anonymous},
		TargetIdentity: &TargetIdentity{Token: el(t,
			`<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" Version="2.0" ID="_t" IssueInstant="2024-05-02T10:00:00Z"><saml:Issuer>https://idp.example.org/saml</saml:Issuer></saml:Assertion>`)},
		UserInteraction: &UserInteraction{Interact: DoNotInteractForData, Language: []string{"ja", "en"}, Redirect: true,
			MaxInteractTime: 2 * time.Minute, InteractionServices: []*EPR{{Address: "https://is.example.org/"}}},
		Consent:            &Consent{URI: ConsentObtained, Timestamp: time.Date(2024, 5, 2, 10, 0, 0, 0, time.UTC)},
		UsageDirectives:    []UsageDirective{{Ref: IDBody, Policies: []*etree.Element{el(t, `<p:Purpose xmlns:p="urn:renkei:purpose">treatment</p:Purpose>`)}}},
		EndpointUpdate:     &EndpointUpdate{EPR: EPR{Address: "https://new.example.org/disco"}, UpdateType: EndpointUpdatePartial},
		Timeout:            30 * time.Second,
		ProcessingContext:  ProcessingContextSimulate,
		CredentialsContext: &CredentialsContext{Mechanisms: []string{string(ClientTLSSAMLV2)}},
		ApplicationEPRs:    []*EPR{{Address: "https://portal.example.org/callback"}},
	}
}

func TestHeaderRoundTrip(t *testing.T) {
	want := fullHeader(t)
	payload := el(t, `<disco:Query xmlns:disco="urn:liberty:disco:2006-08"/>`)
	b := mustBytes(t, NewEnvelope(want, payload))
	if err := xsd.Validate(b); err != nil {
		t.Fatalf("ok/schema-valid-envelope: %v", err)
	}
	got := decodeAll(t, mustParse(t, b))
	if g, w := canon(t, got.TargetIdentity.Token), canon(t, want.TargetIdentity.Token); g != w {
		t.Errorf("TargetIdentity token\n got %s\nwant %s", g, w)
	}
	if g, w := canon(t, got.UsageDirectives[0].Policies[0]), canon(t, want.UsageDirectives[0].Policies[0]); g != w {
		t.Errorf("UsageDirective policy\n got %s\nwant %s", g, w)
	}
	got.TargetIdentity, want.TargetIdentity = nil, nil
	got.UsageDirectives[0].Policies, want.UsageDirectives[0].Policies = nil, nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("header round trip:\n got %+v\nwant %+v", got, want)
	}
}

func TestParseEnvelopeShape(t *testing.T) {
	const hdr = `<S:Header/>`
	for _, tc := range []struct {
		name, doc string
		want      error
	}{
		{"fail/soap12-envelope", `<S:Envelope xmlns:S="http://www.w3.org/2003/05/soap-envelope">` + hdr + `<S:Body><x/></S:Body></S:Envelope>`, ErrMsgNotUnderstood},
		{"fail/no-header", `<S:Envelope xmlns:S="` + NSSOAP + `"><S:Body><x/></S:Body></S:Envelope>`, ErrMsgNotUnderstood},
		{"fail/two-body-children", `<S:Envelope xmlns:S="` + NSSOAP + `">` + hdr + `<S:Body><x/><y/></S:Body></S:Envelope>`, ErrMsgNotUnderstood},
		{"fail/empty-body", `<S:Envelope xmlns:S="` + NSSOAP + `">` + hdr + `<S:Body/></S:Envelope>`, ErrMsgNotUnderstood},
		{"fail/trailer-after-body", `<S:Envelope xmlns:S="` + NSSOAP + `">` + hdr + `<S:Body><x/></S:Body><t/></S:Envelope>`, ErrMsgNotUnderstood},
		{"fail/doctype", `<!DOCTYPE S:Envelope [<!ENTITY x "y">]><S:Envelope xmlns:S="` + NSSOAP + `">` + hdr + `<S:Body><x/></S:Body></S:Envelope>`, xmlsec.ErrDoctype},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseEnvelope([]byte(tc.doc), xmlsec.Limits{})
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if f := FaultFor(err); f.StatusCode() != IDStarMsgNotUnderstood {
				t.Fatalf("fault %v, want IDStarMsgNotUnderstood", f)
			}
		})
	}
}

func TestParseEnvelopeOversized(t *testing.T) {
	doc := `<S:Envelope xmlns:S="` + NSSOAP + `"><S:Header/><S:Body><x>` + strings.Repeat("a", 4096) + `</x></S:Body></S:Envelope>`
	_, err := ParseEnvelope([]byte(doc), xmlsec.Limits{MaxBytes: 1024})
	if !errors.Is(err, xmlsec.ErrTooLarge) {
		t.Fatalf("fail/oversized-body: got %v", err)
	}
	if f := FaultFor(err); f.Code != FaultClient || f.StatusCode() != IDStarMsgNotUnderstood {
		t.Fatalf("fault %+v", f)
	}
}

func TestMustUnderstand(t *testing.T) {
	wrap := func(block string) string {
		return `<S:Envelope xmlns:S="` + NSSOAP + `" xmlns:x="urn:x" xmlns:sb="` + NSSB + `"><S:Header>` + block + `</S:Header><S:Body><x:b/></S:Body></S:Envelope>`
	}
	for _, tc := range []struct {
		name, block string
		want        error
	}{
		{"fail/unknown-must-understand", `<x:Ext S:mustUnderstand="1"/>`, ErrMustUnderstand},
		{"fail/invocation-identity-must-understand", `<sb:InvocationIdentity S:mustUnderstand="1"/>`, ErrMustUnderstand},
		{"ok/unknown-optional", `<x:Ext S:mustUnderstand="0"/>`, nil},
		{"ok/unknown-for-other-actor", `<x:Ext S:mustUnderstand="1" S:actor="urn:other-node"/>`, nil},
		{"ok/unknown-for-next-actor-optional", `<x:Ext S:actor="` + ActorNext + `"/>`, nil},
		{"fail/must-understand-yes", `<x:Ext S:mustUnderstand="yes"/>`, ErrInvalidMustUnderstand},
		{"fail/empty-actor", `<x:Ext S:actor=""/>`, ErrInvalidActor},
		{"ok/known-must-understand", `<sb:Sender S:mustUnderstand="1" providerID="urn:p"/>`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := CheckMustUnderstand(mustParse(t, []byte(wrap(tc.block))).Header)
			if (tc.want == nil) != (err == nil) || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func TestMustUnderstandFaultHasNoDetail(t *testing.T) {
	f := FaultFor(&Error{Code: CodeMustUnderstand, Detail: "x"})
	if f.Code != FaultMustUnderstand || f.Status != nil {
		t.Fatalf("got %+v", f)
	}
	if strings.Contains(canon(t, f.Element()), "detail") {
		t.Fatal("S:MustUnderstand fault carries a detail")
	}
}

// TestExamplesDecode reads the header blocks of the digest's SOAP examples.
func TestExamplesDecode(t *testing.T) {
	for _, tc := range []struct {
		file, sender, mid, action, relates string
	}{
		{"idwsf2-01-disco-query-request.xml", "https://portal.example.org/wsc", "urn:uuid:5b1f1c5e-7d2a-4c39-9a55-0f6c2f8d1a01", "urn:liberty:disco:2006-08:Query", ""},
		{"idwsf2-02-disco-query-response.xml", "https://idp.example.org/disco", "urn:uuid:9d0e8a3c-1b2f-4e5d-8c7b-6a5f4e3d2c01", "", "urn:uuid:5b1f1c5e-7d2a-4c39-9a55-0f6c2f8d1a01"},
		{"idwsf2-03-wsp-request.xml", "https://portal.example.org/wsc", "urn:uuid:0c4e2a11-6f3b-4a8e-b5d2-7e9f1a2b3c04", "urn:liberty:dst:2006-08:ref:Query", ""},
		{"idwsf2-04-wsp-response.xml", "https://pp.example.org/wsp", "urn:uuid:7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c05", "", "urn:uuid:0c4e2a11-6f3b-4a8e-b5d2-7e9f1a2b3c04"},
	} {
		t.Run("ok/"+tc.file, func(t *testing.T) {
			h := decodeAll(t, mustParse(t, readFile(t, "examples/"+tc.file)))
			if h.Framework.Version != "2.0" || h.Sender == nil || h.Sender.ProviderID != tc.sender ||
				h.MessageID != tc.mid || h.Action != tc.action || h.RelatesTo != tc.relates {
				t.Fatalf("decoded %+v", h)
			}
		})
	}
	h := decodeAll(t, mustParse(t, readFile(t, "examples/idwsf2-03-wsp-request.xml")))
	if u := h.UserInteraction; u == nil || !u.Redirect || u.MaxInteractTime != 2*time.Minute || u.EffectiveInteract() != InteractIfNeeded {
		t.Fatalf("UserInteraction %+v", h.UserInteraction)
	}
	if h.ReplyTo == nil || !IsAnonymous(h.ReplyTo.Address) {
		t.Fatalf("ReplyTo %+v", h.ReplyTo)
	}
}

// TestQuirkAnonymousErrata: IDWSF2 §11 item 3, both anonymous spellings.
func TestQuirkAnonymousErrata(t *testing.T) {
	for _, a := range []string{Anonymous, AnonymousErrata} {
		if !IsAnonymous(a) {
			t.Errorf("ok/%s not anonymous", a)
		}
	}
	if IsAnonymous("https://portal.example.org/reply") {
		t.Error("fail/real-address-read-as-anonymous")
	}
}

// TestQuirkInteractCase: IDWSF2 §11 item 6, Lasso's capitalised values.
func TestQuirkInteractCase(t *testing.T) {
	for in, want := range map[string]string{"InteractIfNeeded": InteractIfNeeded, "DoNotInteract": DoNotInteract,
		"DoNotInteractForData": DoNotInteractForData, "": InteractIfNeeded} {
		if got := (&UserInteraction{Interact: in}).EffectiveInteract(); got != want {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
	}
}

func TestRepeatedHeaderRefused(t *testing.T) {
	doc := `<S:Envelope xmlns:S="` + NSSOAP + `" xmlns:wsa="` + NSWSA + `"><S:Header><wsa:MessageID>urn:a</wsa:MessageID><wsa:MessageID>urn:b</wsa:MessageID></S:Header><S:Body><x/></S:Body></S:Envelope>`
	blocks, err := CheckMustUnderstand(mustParse(t, []byte(doc)).Header)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := DecodeHeader(blocks); !errors.Is(err, ErrMsgNotUnderstood) {
		t.Fatalf("fail/two-message-ids: got %v", err)
	}
}
