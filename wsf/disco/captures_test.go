package disco

import (
	"strings"
	"testing"

	"github.com/renkei-idwsf/renkei/wsf"
)

// The Lasso captures (shared/captures/lasso) decode, and the values a DS
// or a WSC acts on come out.

func TestLassoSvcMDRegister(t *testing.T) {
	r, err := DecodeSvcMDRegister(captureBody(t, "lasso-01-SvcMDRegister-req.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.SvcMDs) != 1 {
		t.Fatalf("%d SvcMDs", len(r.SvcMDs))
	}
	m := r.SvcMDs[0]
	if m.ID != "" || m.Abstract != "PP service" || m.ProviderID != "http://sp5/metadata" {
		t.Fatalf("SvcMD %+v", m)
	}
	ec := m.ServiceContexts[0].EndpointContexts[0]
	if m.ServiceContexts[0].ServiceTypes[0] != "urn:liberty:id-sis-pp:2005-05" || ec.Addresses[0] != "http://sp1/soapEndpoint" ||
		ec.Frameworks[0].Version != "2.0" || ec.SecurityMechIDs[0] != "urn:liberty:security:2005-02:null:Bearer" {
		t.Fatalf("service context %+v", m.ServiceContexts[0])
	}
}

// TestLassoSvcMDRegisterResponse: Lasso's Status is in the namespace
// "util" (IDWSF2 §11 item 19): refused strictly, read under wsf.Lasso.
func TestLassoSvcMDRegisterResponse(t *testing.T) {
	body := captureBody(t, "lasso-01-SvcMDRegister-resp.xml")
	t.Run("fail/strict", func(t *testing.T) {
		_, err := DecodeSvcMDRegisterResponse(body)
		mustMisplaced(t, err)
	})
	t.Run("ok/lasso-profile", func(t *testing.T) {
		m, err := Decode(body, wsf.Lasso)
		if err != nil {
			t.Fatal(err)
		}
		r := m.(*SvcMDRegisterResponse)
		if r.Status.Code != OK || len(r.SvcMDIDs) != 1 || r.SvcMDIDs[0] != "_CB97C94C58D55FA6E3F352D4ADF34634" {
			t.Fatalf("response %+v", r)
		}
	})
}

func TestLassoQuery(t *testing.T) {
	for _, tc := range []struct{ name, file, serviceType string }{
		{"ok/lasso-in-process", "lasso-02-Query-req.xml", "urn:liberty:id-sis-pp:2005-05"},
		{"ok/lasso-to-zxid", "lasso2zxid-2-Query-req.xml", "urn:x-echo"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, err := DecodeQuery(captureBody(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if len(q.RequestedServices) != 1 {
				t.Fatalf("%d requested services", len(q.RequestedServices))
			}
			rs := q.RequestedServices[0]
			if len(rs.ServiceTypes) != 1 || rs.ServiceTypes[0] != tc.serviceType || rs.ResultsType.Effective() != ResultsAll {
				t.Fatalf("requested service %+v", rs)
			}
		})
	}
}

// TestLassoQueryResponse: Lasso's in-process DS puts its Status in the
// disco namespace (IDWSF2 §11 item 19): refused strictly, read under
// wsf.Lasso.
func TestLassoQueryResponse(t *testing.T) {
	body := captureBody(t, "lasso-02-QueryResponse-resp.xml")
	t.Run("fail/strict", func(t *testing.T) {
		_, err := DecodeQueryResponse(body)
		mustMisplaced(t, err)
	})
	t.Run("ok/lasso-profile", func(t *testing.T) {
		m, err := Decode(body, wsf.Lasso)
		if err != nil {
			t.Fatal(err)
		}
		checkEPRs(t, m.(*QueryResponse), "http://sp1/soapEndpoint", "http://sp5/metadata", "urn:liberty:id-sis-pp:2005-05",
			"urn:liberty:security:2005-02:null:Bearer")
	})
}

// TestZXIDQueryResponse: ZXID's DS answering a Lasso WSC writes lu:Status
// and decodes strictly; its unqualified notOnOrAfter on the EPR is
// ignored by wsf.DecodeEPR (IDWSF2 §11 item 7).
func TestZXIDQueryResponse(t *testing.T) {
	r, err := DecodeQueryResponse(captureBody(t, "lasso2zxid-2-Query-resp.xml"))
	if err != nil {
		t.Fatal(err)
	}
	checkEPRs(t, r, "http://127.0.0.1:8082/zxidwspcgi", "http://127.0.0.1:8082/zxidwspcgi?o=B", "urn:x-echo",
		string(wsf.TLSBearer))
}

func checkEPRs(t *testing.T, r *QueryResponse, address, providerID, serviceType, mech string) {
	t.Helper()
	if r.Status.Code != OK || len(r.EPRs) != 1 {
		t.Fatalf("status %+v, %d EPRs", r.Status, len(r.EPRs))
	}
	e := r.EPRs[0]
	m := e.Metadata
	if e.Address != address || m == nil || m.ProviderID != providerID || m.ServiceType != serviceType {
		t.Fatalf("EPR %+v %+v", e, m)
	}
	if len(m.SecurityContexts) != 1 || m.SecurityContexts[0].Mechanisms[0] != mech || len(m.SecurityContexts[0].Tokens) != 1 {
		t.Fatalf("security contexts %+v", m.SecurityContexts)
	}
}

func mustMisplaced(t *testing.T, err error) {
	t.Helper()
	mustMalformed(t, err)
	if !strings.Contains(err.Error(), "MisplacedStatus") {
		t.Fatalf("error does not say why: %v", err)
	}
}
