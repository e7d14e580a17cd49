package idp

import (
	"bufio"
	"context"
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
	"time"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/binding"
)

// runLasso runs testdata/script with args under the system python3 (the
// one Debian's python3-lasso is installed for) and returns the JSON
// object it prints.
func runLasso(t *testing.T, script string, args ...string) map[string]string {
	t.Helper()
	out, err := exec.Command("/usr/bin/python3", append([]string{"testdata/" + script}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("lasso %s %v: %v\n%s", script, args, err, out)
	}
	var res map[string]string
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("lasso %s %v printed %s", script, args, out)
	}
	return res
}

// relayLasso runs testdata/script with args: it prints one JSON line
// {URL, Body} with the base64 message it would send, which must be to
// want; relay carries the message and returns the answer, which goes
// back to the script on its standard input; the script prints its verdict
// as a JSON object, which relayLasso returns.
func relayLasso(t *testing.T, script string, args []string, want string, relay func(msg []byte) []byte) map[string]string {
	t.Helper()
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(cctx, "/usr/bin/python3", append([]string{"testdata/" + script}, args...)...)
	stdin, err := cmd.StdinPipe()
	must(t, err)
	stdout, err := cmd.StdoutPipe()
	must(t, err)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	must(t, cmd.Start())
	defer cmd.Wait()
	defer stdin.Close() // runs first: a failed test never leaves Lasso waiting
	lines := bufio.NewScanner(stdout)
	lines.Buffer(nil, 1<<20)
	var first struct{ URL, Body string }
	if !lines.Scan() || json.Unmarshal(lines.Bytes(), &first) != nil {
		t.Fatalf("lasso %s printed %q; stderr %s", script, lines.Text(), stderr.String())
	}
	if first.URL != want {
		t.Fatalf("lasso %s sends to %q, want %q", script, first.URL, want)
	}
	msg, err := base64.StdEncoding.DecodeString(first.Body)
	must(t, err)
	answer := relay(msg)
	_, err = io.WriteString(stdin, base64.StdEncoding.EncodeToString(answer)+"\n")
	must(t, err)
	stdin.Close()
	var res map[string]string
	if !lines.Scan() || json.Unmarshal(lines.Bytes(), &res) != nil {
		t.Fatalf("lasso %s printed %q; stderr %s", script, lines.Text(), stderr.String())
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
			req := runLasso(t, "lasso_sp.py", "request", dir)
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
			res := runLasso(t, "lasso_sp.py", "response", dir)
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

// TestLassoECP: Lasso is the reception terminal, both its SP and its ECP
// client; the test relays the ECP's SOAP request to our ECP endpoint over
// a TLS connection the card authenticates, and Lasso's ECP checks the
// ecp:Response header and its SP accepts the assertion.
func TestLassoECP(t *testing.T) {
	e := newSSOEnv(t, nil)
	t.Run("ok/card-present", func(t *testing.T) {
		if res := e.lassoECP(t, false); res["sso"] != "accepted" || res["acs"] != ecpACS || res["name_id"] == "" {
			t.Fatalf("lasso: %v", res)
		}
	})
	t.Run("fail/ecp-response-header-altered", func(t *testing.T) {
		if res := e.lassoECP(t, true); res["sso"] == "accepted" {
			t.Fatalf("Lasso's ECP delivered a response whose ecp:Response names another ACS: %v", res)
		}
	})
}

// lassoECP runs one ECP exchange through Lasso; alter changes the ACS the
// ecp:Response header names before Lasso's ECP reads it.
func (e *ssoEnv) lassoECP(t *testing.T, alter bool) map[string]string {
	dir := t.TempDir()
	e.writeLassoFiles(e.sps[terminalID], dir)
	return relayLasso(t, "lasso_ecp.py", []string{dir}, e.cardURL+PathECP, func(envelope []byte) []byte {
		status, answer := e.soap(e.browser(&e.Alice), envelope)
		if status != http.StatusOK {
			t.Fatalf("status %d: %s", status, answer)
		}
		if alter {
			answer = []byte(strings.Replace(string(answer), ecpACS, "https://attacker.example.net/paos", 1))
		}
		return answer
	})
}

// TestLassoSPArtifact: Lasso as the SP asks for the Response by
// HTTP-Artifact; after the card login the IdP redirects to Lasso's
// artifact ACS; Lasso builds the ArtifactResolve for the
// ArtifactResolutionService it reads from our metadata, the test carries
// it over SOAP to that service, and Lasso verifies the ArtifactResponse
// and accepts the assertion inside. Resolving the same artifact again
// gives Lasso nothing to accept.
func TestLassoSPArtifact(t *testing.T) {
	e := newArtifactEnv(t)
	sp := e.sps[otherSP]
	dir := t.TempDir()
	e.writeLassoFiles(sp, dir)
	req := runLasso(t, "lasso_artifact.py", "request", dir)
	r, err := http.NewRequest(http.MethodGet, req["url"], nil)
	must(t, err)
	x := e.do(e.noFollow(&e.Alice), r)
	loc, err := url.Parse(x.Header.Get("Location"))
	if err != nil || x.Status != http.StatusSeeOther || !loc.Query().Has(binding.ParamArtifact) {
		t.Fatalf("HTTP %d, Location %q: no artifact; body %s", x.Status, x.Header.Get("Location"), x.Body)
	}
	resolve := func() map[string]string {
		return relayLasso(t, "lasso_artifact.py", []string{"resolve", dir, loc.RawQuery}, e.cardURL+PathArtifact, func(envelope []byte) []byte {
			status, answer := e.soapRaw(t, envelope, nil)
			if status != http.StatusOK {
				t.Fatalf("status %d: %s", status, answer)
			}
			return []byte(answer)
		})
	}
	t.Run("ok/resolved-and-accepted", func(t *testing.T) {
		res := resolve()
		if res["sso"] != "accepted" || res["format"] != saml.NameIDPersistent || res["name_id"] == "" || res["in_response_to"] != req["id"] {
			t.Fatalf("lasso: %v (request %s)", res, req["id"])
		}
	})
	t.Run("fail/second-resolution", func(t *testing.T) {
		if res := resolve(); res["sso"] == "accepted" {
			t.Fatalf("Lasso accepted an artifact resolved twice: %v", res)
		}
	})
}
