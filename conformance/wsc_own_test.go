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

// The entityIDs of the Discovery Service and WSP the suite plays for a WSC.
const (
	suiteDSID  = "https://conformance.renkei.test/ds"
	suiteWSPID = "https://conformance.renkei.test/wsp"
)

// ownWSC starts My Portal trusting the suite's IdP, DS and WSP instead of
// Renkei's, and describes it as any WSC would be described: its SP
// description, the page that shows the eligibility answer, and the
// suite's peers and TLS listener (its certificate from the CA the portal
// trusts).
func ownWSC(t *testing.T) *conformance.Env {
	t.Helper()
	ca := pki.MustGet().CA
	listen := func() net.Listener {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		return ln
	}
	issue := func(name string, host bool) *pki.Identity {
		var id *pki.Identity
		var err error
		if host {
			id, err = ca.IssueHost(name, pki.P256, "localhost")
		} else {
			id, err = ca.Issue(name, pki.RSA2048)
		}
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	idpLn, tlsLn := listen(), listen()
	id, ds, wsp, tlsID := issue("conformance-idp", false), issue("conformance-ds", false), issue("conformance-wsp", false), issue("conformance-tls", true)
	idp := conformance.SuiteIdP{EntityID: suiteIdPID, Key: id.Key, Cert: id.Cert, Listen: idpLn.Addr().String(), Listener: idpLn}
	wt := &conformance.WSCTarget{DS: conformance.SuitePeer{EntityID: suiteDSID, Key: ds.Key, Cert: ds.Cert},
		WSP:    conformance.SuitePeer{EntityID: suiteWSPID, Key: wsp.Key, Cert: wsp.Cert},
		Listen: tlsLn.Addr().String(), Listener: tlsLn,
		TLS: tls.Certificate{Certificate: [][]byte{tlsID.Cert.Raw}, PrivateKey: tlsID.Key, Leaf: tlsID.Cert}}
	idpMD, err := idp.Metadata()
	if err != nil {
		t.Fatal(err)
	}
	peers, err := wt.Peers()
	if err != nil {
		t.Fatal(err)
	}
	p := portalkit.StartWith(t, portalkit.Options{IdP: idp.EntityID, IdPMetadata: idpMD, DS: suiteDSID, Peers: peers})
	st := &conformance.SPTarget{Login: p.LoginURL(), Accepted: portalAccepted, IdP: idp, AuthnContext: saml.ACSmartcardPKI}
	target, err := conformance.ParseTarget("portal metadata", p.Metadata)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.FromMetadata(target); err != nil {
		t.Fatal(err)
	}
	wt.SP, wt.Page = st, p.BaseURL+"/eligibility"
	wt.Init()
	if err := wt.Validate(); err != nil {
		t.Fatal(err)
	}
	stop, err := wt.Serve()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: p.RootCAs, MinVersion: tls.VersionTLS12}}
	t.Cleanup(tr.CloseIdleConnections)
	return &conformance.Env{Transport: tr, SPT: st, WSCT: wt}
}

func runWSC(t *testing.T, env *conformance.Env) *conformance.Report {
	return runOwn(env, conformance.RoleWSC, conformance.ModeWSC, conformance.WSCCases())
}

// requireWSCPass requires every WSC case to pass with its messages
// recorded, and every row of the WSC mode to pass.
func requireWSCPass(t *testing.T, rep *conformance.Report) {
	t.Helper()
	requireCasesPass(t, rep, len(conformance.WSCCases()))
	requireRowsPass(t, rep, 6, "the WSC rows F2, F4, F6, F11, F14 and F16")
}

// TestWSCCasesAgainstOwnPortal runs the WSC cases against My Portal, the
// suite playing its IdP, DS and WSP, and requires every one to pass.
func TestWSCCasesAgainstOwnPortal(t *testing.T) {
	rep := runWSC(t, ownWSC(t))
	requireWSCPass(t, rep)
	if t.Failed() || testing.Verbose() {
		logReport(t, rep)
	}
}
