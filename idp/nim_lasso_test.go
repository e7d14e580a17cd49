package idp

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLassoNIM: Lasso as the SP logs in with a persistent NameID, then
// registers its own identifier and later terminates the federation with
// ManageNameIDRequests over SOAP (lasso.NameIdManagement); Lasso verifies
// and accepts our signed responses, and refuses one whose signed content
// was altered.
func TestLassoNIM(t *testing.T) {
	e := newNIMEnv(t, "", nil)
	sp := e.sps[legacyID]
	dir := t.TempDir()
	e.writeLassoFiles(sp, dir)
	e.lassoLogin(t, dir)

	t.Run("ok/newid", func(t *testing.T) {
		if res := e.lassoNIMExchange(t, dir, insurerID, false); res["nim"] != "accepted" {
			t.Fatalf("lasso: %v", res)
		}
		f, err := e.db.Federation(ctx, "p-alice", legacyID)
		must(t, err)
		if f.SPProvidedID != insurerID {
			t.Fatalf("SPProvidedID %q", f.SPProvidedID)
		}
	})
	t.Run("fail/altered-response", func(t *testing.T) {
		e.lassoLogin(t, dir) // a fresh card authentication allows another NewID
		res := e.lassoNIMExchange(t, dir, "another-1", true)
		if res["nim"] == "accepted" || !strings.Contains(res["nim"], "Signature") {
			t.Fatalf("Lasso did not refuse the altered response for its signature: %v", res)
		}
	})
	t.Run("ok/terminate", func(t *testing.T) {
		if res := e.lassoNIMExchange(t, dir, "-", false); res["nim"] != "accepted" {
			t.Fatalf("lasso: %v", res)
		}
		f, err := e.db.Federation(ctx, "p-alice", legacyID)
		must(t, err)
		if f.Active() {
			t.Fatal("federation still active")
		}
	})
}

// lassoLogin is a Web SSO of Lasso's SP with Alice's card, asking for a
// persistent NameID; Lasso keeps its identity and session in dir.
func (e *ssoEnv) lassoLogin(t *testing.T, dir string) {
	req := lassoNIM(t, "request", dir)
	r, err := http.NewRequest(http.MethodGet, req["url"], nil)
	must(t, err)
	_, vals, err := parseForm(e.do(e.browser(&e.Alice), r).Body)
	must(t, err)
	must(t, os.WriteFile(filepath.Join(dir, "response.b64"), []byte(vals.Get("SAMLResponse")), 0o600))
	if got := lassoNIM(t, "login", dir); got["name_id"] == "" {
		t.Fatalf("lasso login: %v", got)
	}
}

// lassoNIM runs testdata/lasso_nim.py in mode with dir.
func lassoNIM(t *testing.T, mode, dir string) map[string]string {
	t.Helper()
	out, err := exec.Command("/usr/bin/python3", "testdata/lasso_nim.py", mode, dir).CombinedOutput()
	if err != nil {
		t.Fatalf("lasso %s: %v\n%s", mode, err, out)
	}
	var res map[string]string
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("lasso %s printed %s", mode, out)
	}
	return res
}

// lassoNIMExchange relays Lasso's SOAP ManageNameIDRequest (newID "-" is
// Terminate) to our endpoint and Lasso's verdict on the answer; alter
// changes the IssueInstant of a Success answer.
func (e *ssoEnv) lassoNIMExchange(t *testing.T, dir, newID string, alter bool) map[string]string {
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(cctx, "/usr/bin/python3", "testdata/lasso_nim.py", "nim", dir, newID)
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
		stdin.Close()
		t.Fatalf("lasso NIM printed %q; stderr %s", lines.Text(), stderr.String())
	}
	if first.URL != e.mainURL+PathNIM {
		t.Fatalf("Lasso sends to %q", first.URL)
	}
	body, err := base64.StdEncoding.DecodeString(first.Body)
	must(t, err)
	status, answer := e.postSOAP(t, body)
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, answer)
	}
	if alter { // signed content changes: only the signature can tell
		s := strings.Replace(string(answer), `IssueInstant="2`, `IssueInstant="1`, 1)
		if s == string(answer) || !strings.Contains(s, "status:Success") {
			t.Fatalf("not a Success to alter: %s", answer)
		}
		answer = []byte(s)
	}
	_, err = io.WriteString(stdin, base64.StdEncoding.EncodeToString(answer)+"\n")
	must(t, err)
	stdin.Close()
	var res map[string]string
	if !lines.Scan() || json.Unmarshal(lines.Bytes(), &res) != nil {
		t.Fatalf("lasso NIM printed %q; stderr %s", lines.Text(), stderr.String())
	}
	return res
}
