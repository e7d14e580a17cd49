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

// TestLassoInterop runs the SAML IdP cases against Lasso's IdP. Lasso need
// not pass: the test asserts that the report has its shape and that every
// failure is a finding attributed to a side and a clause, and logs them.
func TestLassoInterop(t *testing.T) {
	sp, err := NewSP("https://127.0.0.1/conformance-sp", "https://127.0.0.1/conformance-sp/acs", time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	target, err := LoadTarget(ctx, startLassoIdP(t, sp), nil)
	if err != nil {
		t.Fatal(err)
	}
	r := &Runner{Role: RoleIdP, Mode: ModeIdP, Cases: SAMLIdPCases(), Rows: Matrix(), Only: []string{"web-sso", "ecp", "metadata"}, CaseTimeout: 30 * time.Second}
	rep := r.Run(ctx, &Env{Target: target, SP: sp, Login: FormLogin{Username: "alice", Password: "secret"}})
	var txt strings.Builder
	rep.WriteText(&txt)
	t.Log(txt.String())
	if res, _ := rep.Result("SAML2-Bind-3.4/redirect-authnrequest"); res.Outcome.Verdict != Pass {
		t.Fatalf("the basic Web SSO exchange with Lasso fails, so nothing else is judged: %s", res.Outcome.Reason)
	}
	if len(rep.Results) != len(r.selected(r.groupOf())) {
		t.Fatal("not every in-scope case ran")
	}
	for _, f := range rep.Findings() {
		if f.Side == "" || f.Clause == "" || f.Detail == "" {
			t.Errorf("finding without side, clause or detail: %+v", f)
		}
		t.Logf("finding: %s deviates from %s in %s: %s", f.Side, f.Clause, f.Case, f.Detail)
	}
}

// TestLassoSHA1Caught: Lasso told to sign with RSA-SHA1 (its historical
// default) is caught by the basic Web SSO case, whose verifier refuses SHA-1.
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
	r := &Runner{Role: RoleIdP, Mode: ModeIdP, Cases: cases, Rows: Matrix(), Only: []string{"web-sso"}, CaseTimeout: 30 * time.Second}
	rep := r.Run(ctx, &Env{Target: target, SP: sp, Login: FormLogin{Username: "alice", Password: "secret"}})
	res := rep.Results[0]
	if res.Outcome.Verdict != Fail || res.Outcome.Side != SideTarget || !strings.Contains(res.Outcome.Reason, "sha1") {
		t.Fatalf("SHA-1 signing Lasso: %s %s", res.Outcome.Verdict, res.Outcome.Reason)
	}
}
