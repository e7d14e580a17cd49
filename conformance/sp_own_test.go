package conformance_test

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/conformance"
	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/internal/testkit/portalkit"
	"github.com/renkei-idwsf/renkei/saml"
)

// suiteIdPID is the entityID of the IdP the suite plays for an SP.
const suiteIdPID = "https://conformance.renkei.test/idp"

// portalAccepted is how My Portal answers an accepted Response: a 303 to
// its dashboard with the session cookie.
var portalAccepted = conformance.AcceptRule{Status: http.StatusSeeOther, LocationPrefix: "/", SetsCookie: "__Host-portal-session"}

// ownSP starts My Portal (internal/portalserver over wsc/sp) trusting the
// suite's IdP instead of Renkei's, and describes it as any SP would be
// described: its metadata, its login URL, the acceptance rule, the card
// login's AuthnContext and the discovery bootstrap it needs.
func ownSP(t *testing.T) *conformance.Env {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	id, err := pki.MustGet().CA.Issue("conformance-idp", pki.RSA2048)
	if err != nil {
		t.Fatal(err)
	}
	idp := conformance.SuiteIdP{EntityID: suiteIdPID, Key: id.Key, Cert: id.Cert, Listen: ln.Addr().String(), Listener: ln}
	md, err := idp.Metadata()
	if err != nil {
		t.Fatal(err)
	}
	p := portalkit.Start(t, idp.EntityID, md)
	st := &conformance.SPTarget{Login: p.LoginURL(), Accepted: portalAccepted, IdP: idp, AuthnContext: saml.ACSmartcardPKI,
		Bootstrap: &conformance.Bootstrap{DS: portalkit.DSEntityID, Address: p.DSAddress}}
	target, err := conformance.ParseTarget("portal metadata", p.Metadata)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.FromMetadata(target); err != nil {
		t.Fatal(err)
	}
	if err := st.Validate(); err != nil {
		t.Fatal(err)
	}
	stop, err := st.ServeIdP()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: p.RootCAs, MinVersion: tls.VersionTLS12}}
	t.Cleanup(tr.CloseIdleConnections)
	return &conformance.Env{Transport: tr, SPT: st}
}

func runSP(t *testing.T, env *conformance.Env) *conformance.Report {
	r := &conformance.Runner{Role: conformance.RoleSP, Mode: conformance.ModeSP, Cases: conformance.SPCases(), Rows: conformance.Matrix(),
		Only: []string{"web-sso"}, CaseTimeout: 30 * time.Second}
	return r.Run(context.Background(), env)
}

// requireSPPass requires every SP case to pass (none is advisory for
// Renkei's portal, which refuses SHA-1 and unsolicited Responses) with
// its messages recorded, and the two Web SSO rows of the SP mode to pass.
func requireSPPass(t *testing.T, rep *conformance.Report) {
	t.Helper()
	if want := len(conformance.SPCases()); len(rep.Results) != want {
		t.Fatalf("%d cases ran, want %d", len(rep.Results), want)
	}
	for _, res := range rep.Results {
		if res.Outcome.Verdict != conformance.Pass {
			t.Errorf("%s (%s): %s, %s deviates: %s", res.Case.ID, res.Case.Clause, res.Outcome.Verdict, res.Outcome.Side, res.Outcome.Reason)
		}
		if len(res.Messages) == 0 {
			t.Errorf("%s: no exchanged message recorded", res.Case.ID)
		}
	}
	web := 0
	for _, row := range rep.Rows {
		if row.Row.Group != "web-sso" {
			if row.Verdict != conformance.OutOfScope {
				t.Errorf("row %s outside the scope is %s", row.Row.ID, row.Verdict)
			}
			continue
		}
		web++
		if row.Verdict != conformance.Pass {
			t.Errorf("row %s: %s (%s)", row.Row.ID, row.Verdict, row.Reason)
		}
	}
	if web != 2 {
		t.Errorf("%d Web SSO rows judged in SP mode, want the Redirect and POST rows", web)
	}
}

// TestSPCasesAgainstOwnPortal runs the SP cases against My Portal, the
// suite playing its IdP, and requires every one to pass.
func TestSPCasesAgainstOwnPortal(t *testing.T) {
	rep := runSP(t, ownSP(t))
	requireSPPass(t, rep)
	if t.Failed() || testing.Verbose() {
		var b strings.Builder
		rep.WriteText(&b)
		t.Log(b.String())
	}
}
