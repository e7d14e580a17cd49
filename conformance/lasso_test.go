package conformance

import (
	"bufio"
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// startLassoIdP runs testdata/lasso_idp.py (the system python3, where
// Debian's python3-lasso lives) for the SP sp and returns its metadata URL.
func startLassoIdP(t *testing.T, sp *SP, args ...string) string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("/usr/bin/python3", append([]string{"testdata/lasso_idp.py", dir}, args...)...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	port, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("lasso IdP did not start: %v", err)
	}
	base := "http://127.0.0.1:" + strings.TrimSpace(port)
	writeLassoFiles(t, dir, base, sp)
	if _, err := fmt.Fprintln(stdin, "ready"); err != nil {
		t.Fatal(err)
	}
	return base + "/metadata"
}

// writeLassoFiles writes the IdP's key, certificate and metadata (SSO over
// HTTP-Redirect at base/sso) and the suite's SP metadata into dir.
func writeLassoFiles(t *testing.T, dir, base string, sp *SP) {
	t.Helper()
	id, err := NewSP(base+"/idp", "", time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ed := &md.EntityDescriptor{EntityID: base + "/idp", IDPSSO: []*md.IDPSSODescriptor{{
		SSO: md.SSO{Role: md.Role{ProtocolSupport: []string{md.ProtocolSAML2},
			Keys: []md.KeyDescriptor{{Use: md.UseSigning, Certificates: []*x509.Certificate{id.Cert}}}},
			NameIDFormats: []string{FormatTransient, FormatPersistent}},
		WantAuthnRequestsSigned: true,
		SingleSignOn: []md.Endpoint{{Binding: md.BindingHTTPRedirect, Location: base + "/sso"},
			{Binding: md.BindingHTTPPOST, Location: base + "/sso"},
			{Binding: md.BindingSOAP, Location: base + "/ecp"}},
	}}}
	idpXML, err := xmlsec.Serialize(ed.Element())
	if err != nil {
		t.Fatal(err)
	}
	spXML, err := sp.Metadata()
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := id.KeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"idp.xml": idpXML, "sp.xml": spXML, "idp.key": keyPEM,
		"idp.crt": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: id.Cert.Raw})}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// lassoScope is the part of the matrix the Lasso runs cover.
var lassoScope = []string{"web-sso", "ecp", "metadata"}

// runLasso runs the in-scope SAML IdP cases against Lasso's IdP, logging
// in with login.
func runLasso(t *testing.T, login Authenticator) *Report {
	t.Helper()
	sp, err := NewSP("https://127.0.0.1/conformance-sp", "https://127.0.0.1/conformance-sp/acs", time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	target, err := LoadTarget(ctx, startLassoIdP(t, sp), nil)
	if err != nil {
		t.Fatal(err)
	}
	r := &Runner{Role: RoleIdP, Mode: ModeIdP, Cases: SAMLIdPCases(), Rows: Matrix(), Only: lassoScope, CaseTimeout: 30 * time.Second}
	return r.Run(ctx, &Env{Target: target, SP: sp, Login: login})
}

// TestLassoInterop runs the SAML IdP cases against Lasso's IdP. Lasso need
// not pass: the test asserts that the basic exchange works (so the rest is
// judged), that every in-scope case ran, that no case is a run error, and
// that the MUST findings and the warnings (SHOULD, practice) are exactly
// those conformance/INTEROP.md records, each at its level, so that a
// change on either side shows here.
func TestLassoInterop(t *testing.T) {
	rep := runLasso(t, FormLogin{Username: "alice", Password: "secret"})
	var txt strings.Builder
	rep.WriteText(&txt)
	t.Log(txt.String())
	if res, _ := rep.Result("SAML2-Bind-3.4/redirect-authnrequest"); res.Outcome.Verdict != Pass {
		t.Fatalf("the basic Web SSO exchange with Lasso fails, so nothing else is judged: %s", res.Outcome.Reason)
	}
	r := &Runner{Role: RoleIdP, Cases: SAMLIdPCases(), Rows: Matrix(), Only: lassoScope}
	if len(rep.Results) != len(r.selected(r.groupOf())) {
		t.Fatal("not every in-scope case ran")
	}
	if n := rep.Counts()[Error]; n > 0 || rep.RunError != "" {
		t.Fatalf("%d run errors (%s): the run did not reach what it tests", n, rep.RunError)
	}
	requirePinned(t, rep, map[string]Level{
		"SAML2-Core-3.2.2.2/version-mismatch":        LevelMust,
		"SAML2-Core-3.4.1.1/invalid-nameid-policy":   LevelMust,
		"SAML2-Prof-4.2.4.4/ecp-sso":                 LevelMust,
		"SAML2-Bind-3.4.4.1/redirect-sha1-signature": LevelPractice,
		"SAML2-Core-3.2.1/replayed-request":          LevelPractice,
		"SAML2-Core-3.2.1/stale-issueinstant":        LevelPractice,
	}, []string{"SAML2-Conf/websso-redirect", "SAML2-Conf/ecp"})
}

// requirePinned requires the failures (MUST) and warnings (SHOULD,
// practice) of rep to be exactly want, each at its level with the target
// deviating, and the failed rows exactly rows.
func requirePinned(t *testing.T, rep *Report, want map[string]Level, rows []string) {
	t.Helper()
	got := map[string]Level{}
	for _, f := range append(rep.Findings(), rep.Warnings()...) {
		got[f.Case] = f.Level
		if f.Side != SideTarget || f.Clause == "" || f.Detail == "" {
			t.Errorf("finding %s: side %q, clause %q, detail %q", f.Case, f.Side, f.Clause, f.Detail)
		}
		t.Logf("%s (%s): %s deviates from %s: %s", f.Case, f.Level, f.Side, f.Clause, f.Detail)
	}
	for id, l := range want {
		if got[id] != l {
			t.Errorf("%s: level %q, INTEROP.md records %q", id, got[id], l)
		}
	}
	if len(got) != len(want) {
		t.Errorf("findings and warnings %v, INTEROP.md records %v", got, want)
	}
	for _, f := range rep.Findings() {
		if f.Level != LevelMust {
			t.Errorf("%s fails the run at level %s, which is a warning by default", f.Case, f.Level)
		}
	}
	var failed []string
	for _, row := range rep.Rows {
		if row.Verdict == Fail {
			failed = append(failed, row.Row.ID)
		}
	}
	slices.Sort(failed)
	rows = slices.Sorted(slices.Values(rows))
	if !slices.Equal(failed, rows) {
		t.Errorf("failed rows %v, INTEROP.md records %v", failed, rows)
	}
}

// TestLassoWrongPassword: a wrong password at Lasso's login form (HTTP
// 403) stops the run at the first case as a run error; no case passes,
// none blames Lasso.
func TestLassoWrongPassword(t *testing.T) {
	rep := runLasso(t, FormLogin{Username: "alice", Password: "wrong"})
	var txt strings.Builder
	rep.WriteText(&txt)
	checkRunError(t, rep, "login failed: the IdP answered the login form with HTTP 403", txt.String())
	if !strings.Contains(rep.RunError, "login failed") {
		t.Fatalf("the run was not stopped: %q", rep.RunError)
	}
}

// TestLassoSHA1Caught: Lasso told to sign with RSA-SHA1 (its historical
// default) is caught by the basic Web SSO case: SAML 2.0 allows SHA-1, so
// it is a practice warning by default, and a failure of Lasso with -strict.
func TestLassoSHA1Caught(t *testing.T) {
	sp, err := NewSP("https://127.0.0.1/conformance-sp", "https://127.0.0.1/conformance-sp/acs", time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	target, err := LoadTarget(ctx, startLassoIdP(t, sp, "sha1"), nil)
	if err != nil {
		t.Fatal(err)
	}
	var cases []Case
	for _, c := range SAMLIdPCases() {
		if c.ID == "SAML2-Bind-3.4/redirect-authnrequest" {
			cases = append(cases, c)
		}
	}
	for _, tc := range []struct {
		failOn Level
		want   Verdict
	}{{LevelMust, Advisory}, {LevelPractice, Fail}} {
		r := &Runner{Role: RoleIdP, Mode: ModeIdP, Cases: cases, Rows: Matrix(), Only: []string{"web-sso"}, CaseTimeout: 30 * time.Second, FailOn: tc.failOn}
		rep := r.Run(ctx, &Env{Target: target, SP: sp, Login: FormLogin{Username: "alice", Password: "secret"}})
		res := rep.Results[0]
		if res.Outcome.Verdict != tc.want || res.Outcome.Level != LevelPractice || res.Outcome.Side != SideTarget || !strings.Contains(res.Outcome.Reason, "sha1") {
			t.Fatalf("SHA-1 signing Lasso at %s: %s %s %s", tc.failOn, res.Outcome.Verdict, res.Outcome.Level, res.Outcome.Reason)
		}
	}
}
