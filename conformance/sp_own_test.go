package conformance_test

import (
	"crypto/tls"
	"net"
	"net/http"
	"testing"

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

// portalSession tells a session at My Portal: its lab results page sends a
// visitor without one to the welcome page.
var portalSession = conformance.SessionRule{URL: "/labs", Without: conformance.AcceptRule{Status: http.StatusSeeOther, LocationPrefix: "/"}}

// ownSP starts My Portal (internal/portalserver over wsc/sp) trusting the
// suite's IdP instead of Renkei's, and describes it as any SP would be
// described: its metadata, its login URL, the acceptance and session
// rules, the card login's AuthnContext and the discovery bootstrap it
// needs.
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
	st := &conformance.SPTarget{Login: p.LoginURL(), Accepted: portalAccepted, Session: portalSession, IdP: idp, AuthnContext: saml.ACSmartcardPKI,
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
	return runOwn(env, conformance.RoleSP, conformance.ModeSP, conformance.SPCases(), "web-sso", "slo", "metadata")
}

// spUncovered are the rows in the run's scope that no SP case covers: an
// SP starts a logout on its own, and SAML defines no way for the suite to
// make it.
var spUncovered = map[string]bool{"SAML2-Conf/slo-redirect-sp": true, "SAML2-Conf/slo-soap-sp": true}

// requireSPPass requires every SP case to pass (none is advisory for
// Renkei's portal, which refuses SHA-1 and unsolicited Responses) with
// its messages recorded, the Web SSO, IdP-initiated Single Logout and
// metadata rows of the SP mode to pass and the SP-initiated Single Logout
// rows to be uncovered.
func requireSPPass(t *testing.T, rep *conformance.Report) {
	t.Helper()
	requireCasesPass(t, rep, len(conformance.SPCases()))
	judged := 0
	for _, row := range rep.Rows {
		want := conformance.Pass
		switch g := row.Row.Group; {
		case g != "web-sso" && g != "slo" && g != "metadata":
			want = conformance.OutOfScope
		case spUncovered[row.Row.ID]:
			want = conformance.Uncovered
		default:
			judged++
		}
		if row.Verdict != want {
			t.Errorf("row %s: %s (%s), want %s", row.Row.ID, row.Verdict, row.Reason, want)
		}
	}
	if judged != 5 {
		t.Errorf("%d rows judged in SP mode, want the two Web SSO rows, the two IdP-initiated Single Logout rows and metadata", judged)
	}
}

// TestSPCasesAgainstOwnPortal runs the SP cases against My Portal, the
// suite playing its IdP, and requires every one to pass.
func TestSPCasesAgainstOwnPortal(t *testing.T) {
	rep := runSP(t, ownSP(t))
	requireSPPass(t, rep)
	if t.Failed() || testing.Verbose() {
		logReport(t, rep)
	}
}
