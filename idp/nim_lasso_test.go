package idp

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
	req := runLasso(t, "lasso_nim.py", "request", dir)
	r, err := http.NewRequest(http.MethodGet, req["url"], nil)
	must(t, err)
	_, vals, err := parseForm(e.do(e.browser(&e.Alice), r).Body)
	must(t, err)
	must(t, os.WriteFile(filepath.Join(dir, "response.b64"), []byte(vals.Get("SAMLResponse")), 0o600))
	if got := runLasso(t, "lasso_nim.py", "login", dir); got["name_id"] == "" {
		t.Fatalf("lasso login: %v", got)
	}
}

// lassoNIMExchange relays Lasso's SOAP ManageNameIDRequest (newID "-" is
// Terminate) to our endpoint and Lasso's verdict on the answer; alter
// changes the IssueInstant of a Success answer.
func (e *ssoEnv) lassoNIMExchange(t *testing.T, dir, newID string, alter bool) map[string]string {
	return relayLasso(t, "lasso_nim.py", []string{"nim", dir, newID}, e.mainURL+PathNIM, func(body []byte) []byte {
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
		return answer
	})
}
