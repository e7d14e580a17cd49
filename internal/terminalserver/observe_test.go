package terminalserver_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/internal/obs"
	"github.com/renkei-idwsf/renkei/internal/testkit/fedkit"
	"github.com/renkei-idwsf/renkei/internal/testkit/logkit"
	"github.com/renkei-idwsf/renkei/internal/testkit/termkit"
	"github.com/renkei-idwsf/renkei/wsp/sample"
)

// TestEveryRoleObservable: every role of one running federation (the
// IdP process, the DS, hospital A's WSP, the portal and hospital A's
// reception terminal) answers /healthz and /readyz on its admin listener
// and serves metrics that move with the requests made: the portal's
// dashboard counted under its route, the IdP's bootstrap token and the
// DS's tokens minted, signatures made and verified, store calls timed. One
// dashboard's request ID, which the portal assigns, is found in the
// portal's request line and, carried in the MessageIDs, in the DS's and a
// WSP's log of the verified message. A store closed under a running WSP
// makes it not ready.
func TestEveryRoleObservable(t *testing.T) {
	d := termkit.New(t)
	d.Start()
	f := d.Fed
	admins := map[string]string{"idp": f.IdP.AdminURL, "ds": "http://" + f.DS.AdminAddr().String(),
		"wsp": "http://" + f.WSPs[sample.HospitalA].AdminAddr().String(), "portal": "http://" + f.Portal.AdminAddr().String(),
		"terminal": "http://" + d.Srv.AdminAddr().String()}
	for role, base := range admins {
		if code, body := get(t, base+obs.PathHealth); code != http.StatusOK {
			t.Errorf("ok/healthz %s: %d %s", role, code, body)
		}
		if code, body := get(t, base+obs.PathReady); code != http.StatusOK || !strings.Contains(body, `"status":"ready"`) {
			t.Errorf("ok/readyz %s: %d %s", role, code, body)
		}
	}

	// The citizen logs in, consents to hospital A, and opens the dashboard.
	_, card := f.Citizen(t, "p01")
	b := f.Browser(t, card)
	f.Login(t, b)
	f.Consent(t, b, sample.HospitalA)
	before := scrape(t, admins["portal"])
	page, err := b.Get(context.Background(), f.PortalURL+"/")
	if err != nil || page.Status != http.StatusOK {
		t.Fatalf("dashboard: %v %v", page, err)
	}
	rid := page.Header.Get(obs.HeaderRequestID)
	if rid == "" {
		t.Fatal("the dashboard names no request ID")
	}
	after := scrape(t, admins["portal"])
	dash := []string{`route="/"`, `method="GET"`, `code="200"`, `listener="main"`}
	if n0, n1 := sum(before, "renkei_http_requests_total", dash...), sum(after, "renkei_http_requests_total", dash...); n1 != n0+1 {
		t.Errorf("ok/portal-counts-dashboard: %v before, %v after", n0, n1)
	}
	if sum(after, "renkei_signatures_total", `op="sign"`, `result="ok"`) == 0 || sum(after, "renkei_signatures_total", `op="verify"`, `result="ok"`) == 0 {
		t.Error("ok/portal-signatures: none counted")
	}

	idp := scrape(t, admins["idp"])
	if sum(idp, "renkei_tokens_minted_total", `kind="bootstrap"`) == 0 || sum(idp, "renkei_signatures_total", `op="sign"`) == 0 {
		t.Error("ok/idp-minted-and-signed: no bootstrap token or signature counted")
	}
	if sum(idp, "renkei_http_requests_total", `route="/login"`, `listener="card"`) == 0 {
		t.Error("ok/idp-counts-login: the card login is not counted")
	}
	ds := scrape(t, admins["ds"])
	if sum(ds, "renkei_tokens_minted_total", `kind="ds"`) == 0 || sum(ds, "renkei_signatures_total", `op="verify"`, `result="ok"`) == 0 {
		t.Error("ok/ds-minted-and-verified: no DS token or verified message counted")
	}
	if sum(ds, "renkei_http_requests_total", `route="/disco"`, `method="POST"`) == 0 || sum(ds, "renkei_store_operation_duration_seconds_count") == 0 {
		t.Error("ok/ds-counts-soap-and-store: nothing counted")
	}
	wsp := scrape(t, admins["wsp"])
	if sum(wsp, "renkei_http_requests_total", `route="/wsp"`, `code="200"`) == 0 || sum(wsp, "renkei_signatures_total", `op="sign"`) == 0 {
		t.Error("ok/wsp-counts: no SOAP request or signed response counted")
	}
	if sum(wsp, "renkei_store_operation_duration_seconds_count", `op="CheckAndInsert"`, `result="ok"`) == 0 {
		t.Error("ok/wsp-store-by-operation: the replay cache's calls are not timed by name")
	}
	for role, base := range admins {
		body := scrape(t, base)
		if !strings.Contains(body, "go_goroutines") || !strings.Contains(body, "process_cpu_seconds_total") {
			t.Errorf("ok/runtime-collectors %s: missing", role)
		}
		if n := sum(body, "renkei_store_operation_duration_seconds_count", `op="other"`); n != 0 {
			t.Errorf("ok/store-operations-named %s: %v calls without an operation", role, n)
		}
	}

	// The terminal's staff page, counted under its route.
	staff := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: f.RootCAs}}}
	if resp, err := staff.Get(d.Srv.URL()); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}
	if n := sum(scrape(t, admins["terminal"]), "renkei_http_requests_total", `route="GET /{$}"`); n == 0 {
		t.Error("ok/terminal-counts-staff-page: not counted")
	}

	// The dashboard's request ID in the portal's, the DS's and a WSP's logs.
	if !logged(f.Logs.Records("portal"), "request", "request_id", rid) {
		t.Errorf("ok/portal-logs-request: no request line with %s", rid)
	}
	// Each recipient saw its own ID for that request, which the portal's
	// log pairs with its own: institutions cannot match their logs.
	theirs := map[string]string{} // recipient's ID -> recipient
	for _, r := range f.Logs.Records("portal") {
		if r["msg"] == "call" && r["request_id"] == rid {
			id, _ := r["recipient_request_id"].(string)
			to, _ := r["recipient"].(string)
			if prev, dup := theirs[id]; dup && prev != to || id == "" {
				t.Errorf("fail/recipients-share-id: %q for %s and %s", id, prev, to)
			}
			theirs[id] = to
		}
	}
	seen := map[string]bool{}
	for _, name := range append([]string{"ds"}, wspLogs(f)...) {
		for _, r := range f.Logs.Records(name) {
			if r["msg"] != "message verified" {
				continue
			}
			if r["caller_request_id"] == rid {
				t.Errorf("fail/portal-request-id-leaked to %s: %v", name, r)
			}
			if id, _ := r["caller_request_id"].(string); theirs[id] != "" {
				seen[name] = true
			}
		}
	}
	if !seen["ds"] {
		t.Errorf("ok/ds-logs-caller: no verified message of request %s under the ID the portal gave the DS (%v)", rid, theirs)
	}
	if len(seen) < 2 || len(theirs) < 2 {
		t.Errorf("ok/wsp-logs-caller: no WSP logged a verified message of request %s under its own ID (%v, %v)", rid, theirs, seen)
	}
	if !logged(logkit.Decode(f.IdP.Stderr()), "request", "route", "/login") {
		t.Errorf("ok/idp-logs-json: no request line for /login in the IdP's output")
	}

	// A WSP whose store is gone is not ready, and says why.
	if err := f.WSPs[sample.HospitalB].Store.Close(); err != nil {
		t.Fatal(err)
	}
	code, body := get(t, "http://"+f.WSPs[sample.HospitalB].AdminAddr().String()+obs.PathReady)
	if code != http.StatusServiceUnavailable || !strings.Contains(body, `"store"`) || !strings.Contains(body, "closed") {
		t.Errorf("fail/store-closed: %d %s", code, body)
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(url)
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

func scrape(t *testing.T, base string) string {
	t.Helper()
	code, body := get(t, base+obs.PathMetrics)
	if code != http.StatusOK {
		t.Fatalf("%s%s: %d", base, obs.PathMetrics, code)
	}
	return body
}

// sum adds the values of the samples of metric whose labels hold every
// one of labels.
func sum(exposition, metric string, labels ...string) float64 {
	var total float64
	sc := bufio.NewScanner(strings.NewReader(exposition))
	for sc.Scan() {
		line := sc.Text()
		name, rest, ok := strings.Cut(line, "{")
		if !ok || name != metric {
			continue
		}
		lbls, value, ok := strings.Cut(rest, "} ")
		match := ok
		for _, l := range labels {
			match = match && strings.Contains(lbls, l)
		}
		if v, err := strconv.ParseFloat(strings.TrimSpace(value), 64); match && err == nil {
			total += v
		}
	}
	return total
}

// logged reports whether one record has msg and key = value.
// wspLogs names the WSPs' logs in f.Logs.
func wspLogs(f *fedkit.Fed) []string {
	var out []string
	for key := range f.WSPs {
		out = append(out, "wsp:"+key)
	}
	return out
}

func logged(recs []map[string]any, msg, key, value string) bool {
	for _, r := range recs {
		if r["msg"] == msg && r[key] == value {
			return true
		}
	}
	return false
}
