package idp

import (
	"net/http"
	"strings"
	"sync"
	"testing"
)

const labID = "https://lab.example.org/sp"

// TestHTTPACS: an SP whose metadata lists an http ACS gets a page saying
// the IdP sends only to https (not that its ACS is unregistered), and the
// log says which ACS and which quirk; with the SP's AllowHTTPACS quirk the
// Response goes to that http ACS.
func TestHTTPACS(t *testing.T) {
	lab := &testSP{ID: labID, ACS: "http://lab.example.org/acs", Key: federationKeys(t).Other}
	env := func(quirk bool) (*ssoEnv, *[]string) {
		e := &ssoEnv{fixture: newFixture(t), sps: testSPs(t), verifier: idpVerifier(t)}
		e.sps[labID] = lab
		e.serve(t, nil, func(c *SSOConfig) { c.Quirks[labID] = SPQuirks{AllowHTTPACS: quirk} })
		var mu sync.Mutex
		var logged []string
		e.h.Log = func(r *http.Request, err error) { mu.Lock(); logged = append(logged, err.Error()); mu.Unlock() }
		return e, &logged
	}
	t.Run("fail/http-acs-says-https-only", func(t *testing.T) {
		e, logged := env(false)
		x := e.redirect(e.browser(&e.Alice), e.newRequest(lab, "_h1"), "", nil)
		noForm(t, x, http.StatusBadRequest, "only to https")
		if strings.Contains(x.Body, "not registered") {
			t.Errorf("the page still says the ACS is not registered: %s", x.Body)
		}
		if log := strings.Join(*logged, "\n"); !strings.Contains(log, `"http://lab.example.org/acs"`) || !strings.Contains(log, "allowHTTPACS") {
			t.Errorf("the log does not name the http ACS and the quirk: %q", log)
		}
	})
	t.Run("ok/http-acs-with-quirk", func(t *testing.T) {
		e, _ := env(true)
		x := e.redirect(e.browser(&e.Alice), e.newRequest(lab, "_h2"), "", nil)
		if x.Status != http.StatusOK || !strings.Contains(x.Body, `action="http://lab.example.org/acs"`) {
			t.Fatalf("status %d, want a form to the http ACS: %s", x.Status, x.Body)
		}
	})
}
