package idp

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestLassoSLO: python3-lasso is an SP that logs in to the IdP (with the
// SOAP SP in the same session) and logs out with a LogoutRequest Lasso
// signs over HTTP-Redirect; the IdP logs the SOAP SP out over the back
// channel and answers Lasso's SingleLogoutService, and Lasso verifies and
// accepts the LogoutResponse. A LogoutResponse whose query signature was
// altered is refused by Lasso, so the acceptance means something.
func TestLassoSLO(t *testing.T) {
	for _, tamper := range []bool{false, true} {
		name := "ok/lasso-accepts-logout-response"
		if tamper {
			name = "fail/altered-response-signature"
		}
		t.Run(name, func(t *testing.T) {
			e := newSLOEnv(t)
			c, nf, _ := e.session(sloSOAP)
			dir := t.TempDir()
			e.writeLassoFiles(e.sps[sloLasso], dir)
			e.lassoLogin(t, c, dir)
			res := e.lassoLogout(t, nf, dir, tamper)
			if got := res["slo"]; (got == "accepted") == tamper {
				t.Fatalf("lasso: %v", res)
			}
			if reqs, errs := e.soap.requests(); len(reqs) != 1 || len(errs) != 0 {
				t.Fatalf("SOAP SP got %d requests, errors %v", len(reqs), errs)
			}
		})
	}
}

// lassoLogin runs Lasso's SSO in the browser c and keeps its session in
// dir.
func (e *sloEnv) lassoLogin(t *testing.T, c *http.Client, dir string) {
	req := runLasso(t, "lasso_slo.py", "request", dir)
	_, vals, err := parseForm(e.get(c, req["url"]).Body)
	must(t, err)
	must(t, os.WriteFile(filepath.Join(dir, "response.b64"), []byte(vals.Get("SAMLResponse")), 0o600))
	if res := runLasso(t, "lasso_slo.py", "response", dir); res["sso"] != "accepted" {
		t.Fatalf("lasso login: %v", res)
	}
}

// lassoLogout has Lasso send its LogoutRequest through nf and hands it the
// IdP's LogoutResponse, its Signature altered when tamper is set.
func (e *sloEnv) lassoLogout(t *testing.T, nf *http.Client, dir string, tamper bool) map[string]string {
	cmd := exec.Command("/usr/bin/python3", "testdata/lasso_slo.py", "logout", dir)
	stdin, err := cmd.StdinPipe()
	must(t, err)
	stdout, err := cmd.StdoutPipe()
	must(t, err)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	must(t, cmd.Start())
	defer func() { _ = cmd.Wait() }()
	lines := bufio.NewScanner(stdout)
	lines.Buffer(nil, 1<<20)
	var first struct{ URL, ID string }
	if !lines.Scan() || json.Unmarshal(lines.Bytes(), &first) != nil || !strings.HasPrefix(first.URL, e.mainURL+PathSLO+"?") {
		stdin.Close()
		t.Fatalf("lasso logout printed %q; stderr %s", lines.Text(), stderr.String())
	}
	x := e.get(nf, first.URL)
	loc, err := url.Parse(x.Header.Get("Location"))
	if err != nil || x.Status != http.StatusSeeOther || !strings.HasPrefix(loc.String(), "https://lasso.example.org/sp/slo?") {
		stdin.Close()
		t.Fatalf("IdP answered %d %q: %s", x.Status, x.Header.Get("Location"), x.Body)
	}
	q := loc.RawQuery
	if tamper {
		q = alterSignature(q)
	}
	_, err = io.WriteString(stdin, q+"\n")
	must(t, err)
	stdin.Close()
	var res map[string]string
	if !lines.Scan() || json.Unmarshal(lines.Bytes(), &res) != nil {
		t.Fatalf("lasso logout printed %q; stderr %s", lines.Text(), stderr.String())
	}
	return res
}

// alterSignature flips the first byte of the query's Signature.
func alterSignature(q string) string {
	vals, _ := url.ParseQuery(q)
	sig, _ := base64.StdEncoding.DecodeString(vals.Get("Signature"))
	if len(sig) > 0 {
		sig[0] ^= 1
	}
	i := strings.Index(q, "&Signature=")
	return q[:i] + "&Signature=" + url.QueryEscape(base64.StdEncoding.EncodeToString(sig))
}
