package idp

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestLassoAttributeQuery: Lasso as the SP logs in with a persistent
// NameID, then asks our AttributeService an AttributeQuery over SOAP
// (lasso.AssertionQuery); Lasso verifies our signed Response and reads the
// released attributes; one whose signed content was altered it refuses.
func TestLassoAttributeQuery(t *testing.T) {
	e := newAttrEnv(t)
	sp := e.sps[otherSP]
	dir := t.TempDir()
	e.writeLassoFiles(sp, dir)
	e.lassoLogin(t, dir)
	t.Run("ok/all-released", func(t *testing.T) {
		res := e.lassoAQ(t, dir, "", false)
		if res["aq"] != "accepted" || res[oidDisplayName] != "山田 花子" || res[oidMail] != "hanako@example.jp" {
			t.Fatalf("lasso: %v", res)
		}
	})
	t.Run("ok/one-requested", func(t *testing.T) {
		res := e.lassoAQ(t, dir, oidMail, false)
		if res["aq"] != "accepted" || res[oidMail] != "hanako@example.jp" || res[oidDisplayName] != "" {
			t.Fatalf("lasso: %v", res)
		}
	})
	t.Run("fail/altered-response", func(t *testing.T) {
		res := e.lassoAQ(t, dir, "", true)
		if !strings.Contains(res["aq"], "Signature") {
			t.Fatalf("Lasso did not refuse the altered response for its signature: %v", res)
		}
		t.Logf("lasso: %s", res["aq"])
	})
}

// lassoAQ relays Lasso's SOAP AttributeQuery to our AttributeService and
// returns Lasso's verdict; alter changes a released value in the answer.
func (e *ssoEnv) lassoAQ(t *testing.T, dir, name string, alter bool) map[string]string {
	args := []string{dir}
	if name != "" {
		args = append(args, name)
	}
	return relayLasso(t, "lasso_aq.py", args, e.mainURL+PathAttributeQuery, func(body []byte) []byte {
		r, err := http.NewRequest(http.MethodPost, e.mainURL+PathAttributeQuery, bytes.NewReader(body))
		must(t, err)
		r.Header.Set("Content-Type", "text/xml; charset=utf-8")
		resp, err := e.browser(nil).Do(r)
		must(t, err)
		defer resp.Body.Close()
		answer, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		must(t, err)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %s", resp.StatusCode, answer)
		}
		if alter {
			s := strings.Replace(string(answer), "hanako@example.jp", "mallory@example.jp", 1)
			if s == string(answer) {
				t.Fatalf("no released value to alter: %s", answer)
			}
			answer = []byte(s)
		}
		return answer
	})
}
