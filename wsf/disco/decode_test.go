package disco

import (
	"strings"
	"testing"

	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

const (
	nsDecl = `xmlns:disco="urn:liberty:disco:2006-08" xmlns:lu="urn:liberty:util:2006-08" xmlns:sbf="urn:liberty:sb"`
	okLU   = `<lu:Status code="OK"/>`
)

// svcMD wraps the children of one disco:SvcMD in an SvcMDRegister.
func svcMD(inner string) string {
	return `<disco:SvcMDRegister ` + nsDecl + `><disco:SvcMD>` + inner + `</disco:SvcMD></disco:SvcMDRegister>`
}

const (
	abstractPID = `<disco:Abstract>a</disco:Abstract><disco:ProviderID>https://p/</disco:ProviderID>`
	endpoint    = `<disco:EndpointContext><disco:Address>https://p/s</disco:Address><sbf:Framework version="2.0"/><disco:SecurityMechID>urn:m</disco:SecurityMechID></disco:EndpointContext>`
)

// TestDecodeRefusals: malformed messages are refused with an
// *xmlsec.Error of kind KindMalformed whose text names the problem.
func TestDecodeRefusals(t *testing.T) {
	for _, tc := range []struct{ name, doc, says string }{
		{"fail/not-disco", `<x:Query xmlns:x="urn:liberty:disco:2005-11"/>`, "not a Discovery message"},
		{"fail/unknown-message", `<disco:Frobnicate ` + nsDecl + `/>`, "not a Discovery message"},
		{"fail/query-unknown-child", `<disco:Query ` + nsDecl + `><disco:ServiceType>urn:x</disco:ServiceType></disco:Query>`, "unexpected child"},
		{"fail/query-text", `<disco:Query ` + nsDecl + `>hello</disco:Query>`, "text where only elements"},
		{"fail/query-unqualified-attr", `<disco:Query ` + nsDecl + ` id="x"/>`, "attribute id not allowed"},
		{"fail/query-disco-attr", `<disco:Query ` + nsDecl + ` disco:id="x"/>`, "not allowed"},
		{"fail/requested-service-order", `<disco:Query ` + nsDecl + `><disco:RequestedService><disco:ProviderID>https://p/</disco:ProviderID><disco:ServiceType>urn:x</disco:ServiceType></disco:RequestedService></disco:Query>`, "unexpected child"},
		{"fail/requested-service-no-namespace-child", `<disco:Query ` + nsDecl + `><disco:RequestedService><Extra/></disco:RequestedService></disco:Query>`, "unexpected child"},
		{"fail/results-type", `<disco:Query ` + nsDecl + `><disco:RequestedService resultsType="some"/></disco:Query>`, "resultsType"},
		{"fail/empty-service-type", `<disco:Query ` + nsDecl + `><disco:RequestedService><disco:ServiceType> </disco:ServiceType></disco:RequestedService></disco:Query>`, "is empty"},
		{"fail/service-type-attr", `<disco:Query ` + nsDecl + `><disco:RequestedService><disco:ServiceType x="1">urn:x</disco:ServiceType></disco:RequestedService></disco:Query>`, "not allowed"},
		{"fail/option-holds-element", `<disco:Query ` + nsDecl + `><disco:RequestedService><disco:Options><disco:Option><disco:Option>urn:o</disco:Option></disco:Option></disco:Options></disco:RequestedService></disco:Query>`, "where text is expected"},
		{"fail/framework-without-version", `<disco:Query ` + nsDecl + `><disco:RequestedService><disco:Framework/></disco:RequestedService></disco:Query>`, "lacks attribute version"},
		{"fail/response-without-status", `<disco:QueryResponse ` + nsDecl + `/>`, "Status"},
		{"fail/response-two-statuses", `<disco:QueryResponse ` + nsDecl + `>` + okLU + okLU + `</disco:QueryResponse>`, "want exactly 1"},
		{"fail/status-without-code", `<disco:QueryResponse ` + nsDecl + `><lu:Status/></disco:QueryResponse>`, "lacks attribute code"},
		{"fail/status-unknown-child", `<disco:QueryResponse ` + nsDecl + `><lu:Status code="OK"><disco:Abstract>x</disco:Abstract></lu:Status></disco:QueryResponse>`, "unexpected child"},
		{"fail/status-unknown-attr", `<disco:QueryResponse ` + nsDecl + `><lu:Status code="OK" level="3"/></disco:QueryResponse>`, "attribute level not allowed"},
		{"fail/status-in-disco-strict", `<disco:QueryResponse ` + nsDecl + `><disco:Status code="OK"/></disco:QueryResponse>`, "MisplacedStatus"},
		{"fail/epr-without-address", `<disco:QueryResponse ` + nsDecl + ` xmlns:wsa="http://www.w3.org/2005/08/addressing">` + okLU + `<wsa:EndpointReference/></disco:QueryResponse>`, "Address"},
		{"fail/register-empty", `<disco:SvcMDRegister ` + nsDecl + `/>`, "at least 1"},
		{"fail/svcmd-without-abstract", svcMD(`<disco:ProviderID>https://p/</disco:ProviderID><disco:ServiceContext><disco:ServiceType>urn:x</disco:ServiceType>` + endpoint + `</disco:ServiceContext>`), "Abstract"},
		{"fail/svcmd-without-service-context", svcMD(abstractPID), "ServiceContext"},
		{"fail/service-context-without-endpoint", svcMD(abstractPID + `<disco:ServiceContext><disco:ServiceType>urn:x</disco:ServiceType></disco:ServiceContext>`), "EndpointContext"},
		{"fail/endpoint-disco-framework", svcMD(abstractPID + `<disco:ServiceContext><disco:ServiceType>urn:x</disco:ServiceType><disco:EndpointContext><disco:Address>https://p/s</disco:Address><disco:Framework version="2.0"/><disco:SecurityMechID>urn:m</disco:SecurityMechID></disco:EndpointContext></disco:ServiceContext>`), "Framework"},
		{"fail/endpoint-without-mechanism", svcMD(abstractPID + `<disco:ServiceContext><disco:ServiceType>urn:x</disco:ServiceType><disco:EndpointContext><disco:Address>https://p/s</disco:Address><sbf:Framework version="2.0"/></disco:EndpointContext></disco:ServiceContext>`), "SecurityMechID"},
		{"fail/svcmd-unknown-attr", `<disco:SvcMDRegister ` + nsDecl + `><disco:SvcMD svcMDID="_1" x:y="z" xmlns:x="urn:x">` + abstractPID + `</disco:SvcMD></disco:SvcMDRegister>`, "not allowed"},
		{"fail/delete-no-id", `<disco:SvcMDDelete ` + nsDecl + `/>`, "at least 1"},
		{"fail/delete-empty-id", `<disco:SvcMDDelete ` + nsDecl + `><disco:SvcMDID> </disco:SvcMDID></disco:SvcMDDelete>`, "is empty"},
		{"fail/association-add-no-id", `<disco:SvcMDAssociationAdd ` + nsDecl + `/>`, "at least 1"},
		{"fail/association-delete-svcmd", `<disco:SvcMDAssociationDelete ` + nsDecl + `><disco:SvcMD/></disco:SvcMDAssociationDelete>`, "SvcMDID"},
		{"fail/keys-empty", `<disco:SvcMDRegisterResponse ` + nsDecl + `>` + okLU + `<disco:Keys/></disco:SvcMDRegisterResponse>`, "KeyDescriptor"},
		{"fail/keys-before-ids", `<disco:SvcMDRegisterResponse ` + nsDecl + ` xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">` + okLU + `<disco:Keys><md:KeyDescriptor/></disco:Keys><disco:SvcMDID>_1</disco:SvcMDID></disco:SvcMDRegisterResponse>`, "unexpected child"},
		{"fail/replace-response-extra", `<disco:SvcMDReplaceResponse ` + nsDecl + `>` + okLU + `<disco:SvcMDID>_1</disco:SvcMDID></disco:SvcMDReplaceResponse>`, "unexpected child"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Decode(parse(t, tc.doc), wsf.Strict)
			mustMalformed(t, err)
			if m != nil || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("got %v, %v; want an error saying %q", m, err, tc.says)
			}
		})
	}
}

// TestDecodeAccepts covers what strictness must still let through.
func TestDecodeAccepts(t *testing.T) {
	t.Run("ok/zxid-fail-read-as-failed", func(t *testing.T) {
		r, err := DecodeSvcMDDeleteResponse(parse(t, `<disco:SvcMDDeleteResponse `+nsDecl+`><lu:Status code="Fail"><lu:Status code="Fail"/></lu:Status></disco:SvcMDDeleteResponse>`))
		if err != nil || r.Status.Code != Failed || r.Status.Sub[0].Code != Failed {
			t.Fatalf("got %+v, %v", r, err)
		}
	})
	t.Run("ok/extensions-and-foreign-attributes-kept", func(t *testing.T) {
		q, err := DecodeQuery(parse(t, `<disco:Query `+nsDecl+` xmlns:x="urn:x" x:a="1" xml:lang="ja"><disco:RequestedService reqID="r"><disco:Action>urn:a</disco:Action><x:One/><x:Two>t</x:Two></disco:RequestedService></disco:Query>`))
		if err != nil {
			t.Fatal(err)
		}
		rs := q.RequestedServices[0]
		if len(q.Attrs) != 2 || q.Attrs[0].Name.Space != "urn:x" || q.Attrs[1].Name.Space != xmlsec.NSXML || len(rs.Extensions) != 2 ||
			rs.Extensions[1].Tag != "Two" || rs.Extensions[1].NamespaceURI() != "urn:x" || rs.ReqID != "r" {
			t.Fatalf("got %+v %+v", q, rs)
		}
		if back := q.Element(); back.SelectAttrValue("xml:lang", "") != "ja" {
			t.Fatalf("xml:lang not written back: %+v", back.Attr)
		}
	})
	t.Run("ok/framework-extensions-kept", func(t *testing.T) {
		q, err := DecodeQuery(parse(t, `<disco:Query `+nsDecl+`><disco:RequestedService><disco:Framework version="2.0" xmlns:p="urn:liberty:sb:profile" p:profile="urn:p"><disco:Option>urn:o</disco:Option></disco:Framework></disco:RequestedService></disco:Query>`))
		if err != nil {
			t.Fatal(err)
		}
		fw := q.RequestedServices[0].Frameworks[0]
		if fw.Version != "2.0" || len(fw.Attrs) != 1 || fw.Attrs[0].Value != "urn:p" || len(fw.Extensions) != 1 {
			t.Fatalf("got %+v", fw)
		}
	})
	t.Run("ok/whitespace-and-comments", func(t *testing.T) {
		_, err := DecodeSvcMDQuery(parse(t, "<disco:SvcMDQuery "+nsDecl+">\n  <!-- x -->\n  <disco:SvcMDID> _1 </disco:SvcMDID>\n</disco:SvcMDQuery>"))
		if err != nil {
			t.Fatal(err)
		}
	})
}

// TestStatusOf: every Discovery response has its lu:Status read, and no
// request has one.
func TestStatusOf(t *testing.T) {
	for _, m := range []Message{&QueryResponse{Status: wsf.Status{Code: NoResults}}, &SvcMDRegisterResponse{Status: wsf.Status{Code: Duplicate}},
		&SvcMDQueryResponse{Status: wsf.Status{Code: NotFound}}, &SvcMDReplaceResponse{Status: wsf.Status{Code: Forbidden}},
		&SvcMDDeleteResponse{Status: wsf.Status{Code: Failed}}, &SvcMDAssociationAddResponse{Status: wsf.Status{Code: OK}},
		&SvcMDAssociationDeleteResponse{Status: wsf.Status{Code: LogicalDuplicate}}, &SvcMDAssociationQueryResponse{Status: wsf.Status{Code: OK}}} {
		if st, ok := StatusOf(m); !ok || st.Code == "" {
			t.Errorf("%T: %v %v", m, st, ok)
		}
	}
	for _, m := range []Message{&Query{}, &SvcMDRegister{}, &SvcMDQuery{}, &SvcMDReplace{}, &SvcMDDelete{},
		&SvcMDAssociationAdd{}, &SvcMDAssociationDelete{}, &SvcMDAssociationQuery{}} {
		if _, ok := StatusOf(m); ok {
			t.Errorf("%T has a status", m)
		}
	}
}
