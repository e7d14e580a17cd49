package idp

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/renkei-idwsf/renkei/saml"
)

// lassoSP runs testdata/lasso_sp.py in mode with dir. The system python3
// is the one Debian's python3-lasso is installed for.
func lassoSP(t *testing.T, mode, dir string) map[string]string {
	t.Helper()
	out, err := exec.Command("/usr/bin/python3", "testdata/lasso_sp.py", mode, dir).CombinedOutput()
	if err != nil {
		t.Fatalf("lasso %s: %v\n%s", mode, err, out)
	}
	var res map[string]string
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("lasso %s printed %s", mode, out)
	}
	return res
}

// TestLassoSP: Lasso as the SP signs an AuthnRequest from the metadata
// our IdP serves; the card login answers; Lasso decrypts, verifies and
// accepts the Response (an encrypted assertion in a signed Response), and
// a plain one (a signed assertion in an unsigned Response).
func TestLassoSP(t *testing.T) {
	for _, tc := range []struct {
		name      string
		sp        string
		encrypted bool
		tamper    bool
	}{{"ok/encrypted-bootstrap-signed-response", terminalID, true, false}, {"ok/plain-signed-assertion", legacyID, false, false},
		{"fail/tampered-assertion", legacyID, false, true}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newSSOEnv(t, nil)
			dir := t.TempDir()
			e.writeLassoFiles(e.sps[tc.sp], dir)
			req := lassoSP(t, "request", dir)
			r, err := http.NewRequest(http.MethodGet, req["url"], nil)
			must(t, err)
			_, vals, err := parseForm(e.do(e.browser(&e.Alice), r).Body)
			must(t, err)
			xml, err := base64.StdEncoding.DecodeString(vals.Get("SAMLResponse"))
			must(t, err)
			if strings.Contains(string(xml), "EncryptedAssertion") != tc.encrypted {
				t.Fatalf("encrypted = %v, want %v", !tc.encrypted, tc.encrypted)
			}
			if tc.tamper {
				xml = []byte(strings.Replace(string(xml), "SmartcardPKI", "X509", 1))
			}
			must(t, os.WriteFile(filepath.Join(dir, "response.b64"), []byte(base64.StdEncoding.EncodeToString(xml)), 0o600))
			res := lassoSP(t, "response", dir)
			if tc.tamper {
				if res["sso"] == "accepted" {
					t.Fatal("Lasso accepted a tampered assertion: the oracle proves nothing")
				}
				return
			}
			if res["sso"] != "accepted" || res["format"] != saml.NameIDPersistent || res["name_id"] == "" {
				t.Fatalf("lasso: %v", res)
			}
		})
	}
}

// writeLassoFiles gives Lasso the served IdP metadata and sp's own.
func (e *ssoEnv) writeLassoFiles(sp *testSP, dir string) {
	resp, err := e.browser(nil).Get(e.mainURL + PathMetadata)
	must(e.t, err)
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	must(e.t, err)
	must(e.t, os.WriteFile(filepath.Join(dir, "idp.xml"), b, 0o600))
	spXML, err := serializeEntity(sp)
	must(e.t, err)
	must(e.t, os.WriteFile(filepath.Join(dir, "sp.xml"), spXML, 0o600))
	must(e.t, os.WriteFile(filepath.Join(dir, "sp.key"), sp.Key.KeyPEM(), 0o600))
	must(e.t, os.WriteFile(filepath.Join(dir, "sp.crt"), sp.Key.CertPEM(), 0o600))
}
