package idp

import (
	"net/http"
	"strings"
	"testing"

	"github.com/renkei-idwsf/renkei/saml/binding"
)

// TestSOAPEndpointsBlameTheSender: malformed XML, a DOCTYPE or a body
// that is no SOAP envelope, sent to any SOAP endpoint of the IdP, is the
// sender's fault: an S:Client fault with HTTP 500 (SOAP 1.1 §4.4.1, §6.2;
// SAML Bindings §3.2.3.3), never S:Server.
func TestSOAPEndpointsBlameTheSender(t *testing.T) {
	slo, nim, aq, art := newSLOEnv(t), newNIMEnv(t, "", nil), newAttrEnv(t), newArtifactEnv(t)
	bodies := map[string]string{
		"malformed": `<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body>`,
		"doctype":   `<!DOCTYPE x [<!ENTITY a "b">]><S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body/></S:Envelope>`,
		"not-soap":  `<x/>`,
	}
	for _, ep := range []struct {
		name string
		e    *ssoEnv
		url  string
	}{{"slo-soap", slo.ssoEnv, slo.mainURL + PathSLOSOAP}, {"nim", nim, nim.mainURL + PathNIM}, {"ecp", nim, nim.cardURL + PathECP},
		{"aq", aq, aq.mainURL + PathAttributeQuery}, {"nimap", aq, aq.mainURL + PathNameIDMapping}, {"artifact", art, art.cardURL + PathArtifact}} {
		for name, body := range bodies {
			t.Run("fail/"+ep.name+"-"+name, func(t *testing.T) {
				x := ep.e.postXML(ep.url, "text/xml; charset=utf-8", body)
				if x.Status != http.StatusInternalServerError || !strings.Contains(x.Body, "faultcode") || !strings.Contains(x.Body, ":"+binding.FaultClient+"<") {
					t.Fatalf("HTTP %d, want a Client fault: %s", x.Status, x.Body)
				}
			})
		}
	}
}

// TestECPMediaType: the ECP endpoint takes only text/xml, the SOAP 1.1
// media type the ECP posts with; text/plain, which a form on another site
// can send without a CORS preflight while the browser presents the card,
// and the other form types get 415 and are not read.
func TestECPMediaType(t *testing.T) {
	e := newSSOEnv(t, nil)
	for _, ct := range []string{"text/plain", "text/plain; charset=utf-8", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "", "application/soap+xml"} {
		t.Run("fail/content-type-"+strings.NewReplacer("/", "-", " ", "", ";", "", "=", "").Replace(ct), func(t *testing.T) {
			x := e.postXML(e.cardURL+PathECP, ct, `<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body/></S:Envelope>`)
			if x.Status != http.StatusUnsupportedMediaType || !strings.Contains(x.Body, binding.FaultClient) {
				t.Fatalf("HTTP %d: %s", x.Status, x.Body)
			}
		})
	}
	t.Run("ok/text-xml-is-read", func(t *testing.T) {
		x := e.postXML(e.cardURL+PathECP, "text/xml", `<x/>`)
		if x.Status != http.StatusInternalServerError || !strings.Contains(x.Body, "faultcode") {
			t.Fatalf("HTTP %d: %s", x.Status, x.Body)
		}
	})
}

// postXML posts body with content type ct to u, presenting Alice's card.
func (e *ssoEnv) postXML(u, ct, body string) exchange {
	e.t.Helper()
	r, err := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
	must(e.t, err)
	if ct != "" {
		r.Header.Set("Content-Type", ct)
	}
	return e.do(e.browser(&e.Alice), r)
}
