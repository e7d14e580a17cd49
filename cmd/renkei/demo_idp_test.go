package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/idp"
)

// TestDemoIdPEndpoints: the demo's IdP is renkei-idp's, assembled by
// internal/idpserver; besides SSO it serves Single Logout (Redirect,
// SOAP, IdP-initiated) and ManageNameID. A malformed request there reaches
// the endpoint, which refuses it with a SAML error page or a SOAP fault
// and logs the cause, where a missing endpoint would be a bare 404. The
// first four steps run; no card is needed.
func TestDemoIdPEndpoints(t *testing.T) {
	d := &demo{out: io.Discard, dir: t.TempDir(), now: time.Now().UTC().Truncate(time.Second)}
	defer d.close()
	ctx := context.Background()
	for _, s := range d.steps()[:4] {
		if err := s.fn(ctx); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
	}
	client, err := d.portalClient()
	if err != nil {
		t.Fatal(err)
	}
	soap := `<soap11:Envelope xmlns:soap11="http://schemas.xmlsoap.org/soap/envelope/"><soap11:Body><nothing/></soap11:Body></soap11:Envelope>`
	for _, c := range []struct {
		name, method, path, body string
		status                   int
		want                     string // in the body
	}{
		{"ok/slo-redirect-refuses", http.MethodGet, idp.PathSLO, "", http.StatusBadRequest, "<html"},
		{"ok/slo-post-refuses", http.MethodPost, idp.PathSLO, "", http.StatusBadRequest, "<html"},
		{"ok/slo-soap-fault", http.MethodPost, idp.PathSLOSOAP, soap, http.StatusInternalServerError, "Fault>"},
		{"ok/nim-soap-fault", http.MethodPost, idp.PathNIM, soap, http.StatusInternalServerError, "Fault>"},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, body := call(t, client, c.method, d.idpURL+c.path, c.body)
			if status != c.status || !strings.Contains(body, c.want) {
				t.Fatalf("%s %s: HTTP %d, want %d with %q:\n%s", c.method, c.path, status, c.status, c.want, body)
			}
			if got := d.idpLog.last(); !strings.HasPrefix(got, c.method+" "+c.path+": ") {
				t.Fatalf("the IdP logged %q, not a refusal at %s", got, c.path)
			}
		})
	}
	if status, _ := call(t, client, http.MethodGet, d.idpURL+"/no-such-endpoint", ""); status != http.StatusNotFound {
		t.Errorf("fail/no-such-endpoint: HTTP %d, want 404", status)
	}
}

func call(t *testing.T, client *http.Client, method, url, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "text/xml")
		if body == "" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}
