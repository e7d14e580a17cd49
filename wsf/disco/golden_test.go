package disco

import (
	"encoding/xml"
	"reflect"
	"testing"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/internal/testkit/golden"
	"github.com/renkei-idwsf/renkei/wsf"
)

const (
	clinical = "urn:renkei:svc:clinical:1.0"
	hospital = "https://hospital.example.org/wsp"
)

func sampleSvcMD(id string) *SvcMD {
	return &SvcMD{ID: id, Abstract: "Clinical results and prescriptions", ProviderID: hospital,
		ServiceContexts: []ServiceContext{{
			ServiceTypes: []string{clinical},
			Options:      []Options{{"urn:liberty:dst:multipleQueryItems"}, nil},
			EndpointContexts: []EndpointContext{{
				Addresses:       []string{"https://hospital.example.org/idwsf/clinical"},
				Frameworks:      []Framework{{Version: wsf.FrameworkVersion}},
				SecurityMechIDs: []string{string(wsf.ClientTLSSAMLV2), string(wsf.ClientTLSPeerSAMLV2)},
				Actions:         []string{clinical + ":Query"},
			}},
		}}}
}

func sampleQuery(t testing.TB) *Query {
	ext := parse(t, `<r:Purpose xmlns:r="urn:renkei:test">treatment</r:Purpose>`)
	return &Query{
		Attrs: []xml.Attr{{Name: xml.Name{Space: "urn:renkei:test", Local: "tenant"}, Value: "h1"}},
		RequestedServices: []RequestedService{
			{ReqID: "r1", ResultsType: ResultsOnlyOne, ServiceTypes: []string{clinical, "urn:renkei:svc:checkup:1.0"},
				ProviderIDs: []string{hospital}, Options: []Options{{"urn:liberty:dst:multipleQueryItems"}},
				SecurityMechIDs: []string{string(wsf.ClientTLSSAMLV2)},
				Frameworks:      []Framework{{Version: wsf.FrameworkVersion}},
				Actions:         []string{clinical + ":Query"}, Extensions: []*etree.Element{ext}},
			{ServiceTypes: []string{"urn:renkei:svc:pension:1.0"}},
		}}
}

func sampleQueryResponse(t testing.TB) *QueryResponse {
	tok := parse(t, `<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" Version="2.0" ID="_t1" IssueInstant="2024-05-02T10:05:01Z"><saml:Issuer>https://ds.example.org/disco</saml:Issuer></saml:Assertion>`)
	return &QueryResponse{Status: wsf.Status{Code: OK}, EPRs: []*wsf.EPR{{
		Address: "https://hospital.example.org/idwsf/clinical",
		Metadata: &wsf.EPRMetadata{Abstract: "Clinical results", ProviderID: hospital, ServiceType: clinical,
			Framework: wsf.FrameworkVersion,
			SecurityContexts: []wsf.SecurityContext{{Mechanisms: []string{string(wsf.ClientTLSSAMLV2)},
				Tokens: []wsf.Token{{Usage: wsf.UsageSecurityToken, Element: tok}}}}},
	}}}
}

func sampleKeys(t testing.TB) []Keys {
	kd := parse(t, `<md:KeyDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" use="encryption"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:KeyName>ds-encryption</ds:KeyName></ds:KeyInfo></md:KeyDescriptor>`)
	return []Keys{{KeyDescriptors: []*etree.Element{kd}}}
}

var failed = wsf.Status{Code: Failed, Comment: "one of them", Sub: []wsf.Status{{Code: NotFound, Ref: "_m2"}}}

type goldenCase struct {
	name   string
	msg    Message
	decode func(*etree.Element) (Message, error) // the typed decoder
	plain  bool                                  // no element inside: compare with reflect.DeepEqual
}

func goldenCases(t testing.TB) []goldenCase {
	ids := []string{"_m1", "_m2"}
	return []goldenCase{
		{"query", sampleQuery(t), typed(DecodeQuery), false},
		{"query-empty", &Query{}, typed(DecodeQuery), true},
		{"query-response", sampleQueryResponse(t), typed(DecodeQueryResponse), false},
		{"query-response-noresults", &QueryResponse{Status: wsf.Status{Code: NoResults}}, typed(DecodeQueryResponse), true},
		{"svcmd-register", &SvcMDRegister{SvcMDs: []*SvcMD{sampleSvcMD("")}}, typed(DecodeSvcMDRegister), true},
		{"svcmd-register-response", &SvcMDRegisterResponse{Status: wsf.Status{Code: OK}, SvcMDIDs: ids[:1], Keys: sampleKeys(t)},
			typed(DecodeSvcMDRegisterResponse), false},
		{"svcmd-query", &SvcMDQuery{SvcMDIDs: ids}, typed(DecodeSvcMDQuery), true},
		{"svcmd-query-response", &SvcMDQueryResponse{Status: wsf.Status{Code: OK}, SvcMDs: []*SvcMD{sampleSvcMD("_m1")}},
			typed(DecodeSvcMDQueryResponse), true},
		{"svcmd-replace", &SvcMDReplace{SvcMDs: []*SvcMD{sampleSvcMD("_m1")}}, typed(DecodeSvcMDReplace), true},
		{"svcmd-replace-response", &SvcMDReplaceResponse{Status: wsf.Status{Code: LogicalDuplicate}}, typed(DecodeSvcMDReplaceResponse), true},
		{"svcmd-delete", &SvcMDDelete{SvcMDIDs: ids}, typed(DecodeSvcMDDelete), true},
		{"svcmd-delete-response", &SvcMDDeleteResponse{Status: failed}, typed(DecodeSvcMDDeleteResponse), true},
		{"association-add", &SvcMDAssociationAdd{SvcMDIDs: ids}, typed(DecodeSvcMDAssociationAdd), true},
		{"association-add-response", &SvcMDAssociationAddResponse{Status: wsf.Status{Code: Forbidden}},
			typed(DecodeSvcMDAssociationAddResponse), true},
		{"association-delete", &SvcMDAssociationDelete{SvcMDIDs: ids[1:]}, typed(DecodeSvcMDAssociationDelete), true},
		{"association-delete-response", &SvcMDAssociationDeleteResponse{Status: wsf.Status{Code: OK}},
			typed(DecodeSvcMDAssociationDeleteResponse), true},
		{"association-query", &SvcMDAssociationQuery{}, typed(DecodeSvcMDAssociationQuery), true},
		{"association-query-response", &SvcMDAssociationQueryResponse{Status: wsf.Status{Code: OK}, SvcMDIDs: ids},
			typed(DecodeSvcMDAssociationQueryResponse), true},
	}
}

// typed adapts a typed decoder, keeping a failed decode's Message nil.
func typed[T Message](f func(*etree.Element) (T, error)) func(*etree.Element) (Message, error) {
	return func(el *etree.Element) (Message, error) {
		m, err := f(el)
		if err != nil {
			return nil, err
		}
		return m, nil
	}
}

// TestGolden encodes every message type, validates it against the
// schemas, compares it with testdata/TestGolden_<name>.xml, decodes the
// golden bytes with the typed decoder and with Decode, and encodes the
// result again to the same tree (copies of foreign elements carry the
// declarations they inherited, so bytes may differ).
func TestGolden(t *testing.T) {
	for _, tc := range goldenCases(t) {
		t.Run("ok/"+tc.name, func(t *testing.T) {
			b := serialize(t, tc.msg.Element())
			golden.Check(t, "TestGolden_"+tc.name+".xml", b)
			got, err := tc.decode(parse(t, string(b)))
			if err != nil {
				t.Fatal(err)
			}
			again, err := Decode(parse(t, string(b)), wsf.Strict)
			if err != nil || again.Action() != tc.msg.Action() {
				t.Fatalf("Decode: %v, %T", err, again)
			}
			if !sameTree(parse(t, string(b)), got.Element()) {
				t.Fatalf("round trip changed the message:\n%s", b)
			}
			if tc.plain && !reflect.DeepEqual(got, tc.msg) {
				t.Fatalf("round trip:\n got %+v\nwant %+v", got, tc.msg)
			}
		})
	}
}

// TestTypedDecoderRefusesOtherMessages: each typed decoder reads its own
// element only.
func TestTypedDecoderRefusesOtherMessages(t *testing.T) {
	cases := goldenCases(t)
	for i, tc := range cases {
		other := cases[(i+2)%len(cases)].msg.Element()
		t.Run("fail/"+tc.name+"-given-"+other.Tag, func(t *testing.T) {
			_, err := tc.decode(parse(t, string(serialize(t, other))))
			mustMalformed(t, err)
		})
	}
}

func TestActions(t *testing.T) {
	for _, tc := range goldenCases(t) {
		if want := "urn:liberty:disco:2006-08:" + tc.msg.Element().Tag; tc.msg.Action() != want {
			t.Errorf("fail/%s: action %q, want %q", tc.name, tc.msg.Action(), want)
		}
	}
}

func TestResultsTypeDefault(t *testing.T) {
	if ResultsType("").Effective() != ResultsAll || ResultsBest.Effective() != ResultsBest {
		t.Fatal("fail/default-is-not-all")
	}
}
