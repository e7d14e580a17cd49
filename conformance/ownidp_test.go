package conformance_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/conformance"
	"github.com/renkei-idwsf/renkei/internal/testkit/idpkit"
	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
)

// builtScope is the part of the matrix Renkei's IdP builds; SLO, NIM,
// Artifact and IdP discovery are not built yet and must be reported out of
// scope (or uncovered), never as passes.
var builtScope = []string{"web-sso", "ecp", "metadata"}

// ownIdP is Renkei's IdP run as the real cmd/renkei-idp binary, with the
// suite's SP registered and a card issued for one principal.
type ownIdP struct {
	Kit  *idpkit.IdP
	SP   *conformance.SP
	Card *pki.Identity
	// Back is the suite's second SP, whose only SingleLogoutService is
	// SOAP, served on loopback with a certificate of the test CA (which
	// the IdP trusts for its SOAP calls).
	Back *conformance.BackChannelSP
}

// newSuiteSP makes the suite's SP with an https ACS on loopback (the IdP
// sends responses only to https consumers of the SP's metadata).
func newSuiteSP(t *testing.T) *conformance.SP {
	t.Helper()
	sp, err := conformance.NewSP("https://127.0.0.1/conformance-sp", "https://127.0.0.1/conformance-sp/acs", time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

// startOwnIdP starts Renkei's IdP built with tags, the suite's SP in its
// metadata and a P-256 card for principal p-conf.
func startOwnIdP(t *testing.T, tags ...string) *ownIdP {
	t.Helper()
	sp := newSuiteSP(t)
	m, err := sp.Metadata()
	if err != nil {
		t.Fatal(err)
	}
	back := startBackChannelSP(t)
	bm, err := back.SP.Metadata()
	if err != nil {
		t.Fatal(err)
	}
	k := idpkit.New(t, idpkit.Options{SPMetadata: [][]byte{m, bm}, Tags: tags})
	card := k.IssueCard("p-conf", "HIC-CONF-0001", pki.P256)
	k.Start()
	return &ownIdP{Kit: k, SP: sp, Card: card, Back: back}
}

// startBackChannelSP serves the suite's back-channel SP on loopback, at
// https://localhost:PORT/slo/soap with a certificate of the test CA.
func startBackChannelSP(t *testing.T) *conformance.BackChannelSP {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	soapURL := fmt.Sprintf("https://localhost:%d/slo/soap", ln.Addr().(*net.TCPAddr).Port)
	back, err := conformance.NewBackChannelSP("https://127.0.0.1/conformance-sp-soap", "https://127.0.0.1/conformance-sp-soap/acs", soapURL, time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	id, err := pki.MustGet().CA.IssueHost("localhost", pki.P256, "localhost")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(back)
	srv.Listener.Close()
	srv.Listener = ln
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{id.Cert.Raw}, PrivateKey: id.Key, Leaf: id.Cert}}, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return back
}

// hookCases are the IdP-initiated Single Logout cases through Renkei's
// logout hook, GET /slo/init and its confirmation form: through the
// browser for the suite's SP, over SOAP for its back-channel SP.
func (o *ownIdP) hookCases() []conformance.Case {
	hook := o.Kit.BaseURL + "/slo/init"
	return append(conformance.SAMLIdPInitiatedSLOCases(hook), conformance.SAMLIdPInitiatedSOAPSLOCases(hook, o.Back)...)
}

// env is the suite's environment against the IdP: its served metadata,
// the transport trusting its TLS certificate, and the card login.
func (o *ownIdP) env(t *testing.T) *conformance.Env {
	t.Helper()
	target, err := conformance.ParseTarget(o.Kit.MetadataURL, o.Kit.Metadata)
	if err != nil {
		t.Fatal(err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: o.Kit.RootCAs, ServerName: idpkit.ServerName}
	login := conformance.CertLogin{Certificate: tls.Certificate{Certificate: [][]byte{o.Card.Cert.Raw}, PrivateKey: o.Card.Key, Leaf: o.Card.Cert}}
	return &conformance.Env{Target: target, SP: o.SP, Login: login, Transport: tr}
}

// idpCases returns the SAML IdP cases with the given IDs (all when none).
func idpCases(t *testing.T, ids ...string) []conformance.Case {
	t.Helper()
	all := conformance.SAMLIdPCases()
	if len(ids) == 0 {
		return all
	}
	var out []conformance.Case
	for _, id := range ids {
		n := len(out)
		for _, c := range all {
			if c.ID == id {
				out = append(out, c)
			}
		}
		if len(out) == n {
			t.Fatalf("no case %s", id)
		}
	}
	return out
}

// run runs cases in the built scope against the IdP.
func (o *ownIdP) run(t *testing.T, cases []conformance.Case) *conformance.Report {
	t.Helper()
	r := &conformance.Runner{Role: conformance.RoleIdP, Mode: conformance.ModeIdP, Cases: cases,
		Rows: conformance.Matrix(), Only: builtScope, CaseTimeout: 30 * time.Second}
	return r.Run(context.Background(), o.env(t))
}

// logReport writes the text report into the test log.
func logReport(t *testing.T, rep *conformance.Report) {
	t.Helper()
	var b strings.Builder
	if err := rep.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	t.Log(b.String())
}

// inScope counts the cases whose row lies in the built scope.
func inScope(cases []conformance.Case) int {
	group := map[string]string{}
	for _, row := range conformance.Matrix() {
		group[row.ID] = row.Group
	}
	n := 0
	for _, c := range cases {
		for _, g := range builtScope {
			if group[c.Row] == g {
				n++
			}
		}
	}
	return n
}

// checkAllPass asserts that every in-scope case ran and passed with its
// exchanged messages recorded, that in-scope rows pass, and that no row
// outside the built scope is reported as a pass.
func checkAllPass(t *testing.T, rep *conformance.Report, cases []conformance.Case) {
	t.Helper()
	if want := inScope(cases); len(rep.Results) != want || want == 0 {
		t.Fatalf("%d cases ran, %d are in scope", len(rep.Results), want)
	}
	for _, res := range rep.Results {
		if res.Outcome.Verdict != conformance.Pass {
			t.Errorf("%s (%s): %s, %s deviates: %s", res.Case.ID, res.Case.Clause, res.Outcome.Verdict, res.Outcome.Side, res.Outcome.Reason)
		}
		if len(res.Messages) == 0 {
			t.Errorf("%s: no exchanged message recorded", res.Case.ID)
		}
	}
	for _, row := range rep.Rows {
		in := false
		for _, g := range builtScope {
			in = in || row.Row.Group == g
		}
		switch {
		case in && row.Verdict != conformance.Pass:
			t.Errorf("row %s (%s): %s: %s", row.Row.ID, row.Row.Group, row.Verdict, row.Reason)
		case !in && row.Verdict != conformance.OutOfScope && row.Verdict != conformance.Uncovered:
			t.Errorf("row %s (%s) is not built, yet reported %s", row.Row.ID, row.Row.Group, row.Verdict)
		}
	}
	if rep.Failed() {
		t.Error("the report says the run failed")
	}
}

// TestOwnIdP runs every SAML IdP case in the built scope against Renkei's
// own IdP (the real binary, a card certificate login) and requires each to
// pass, with the messages of each exchange in the report.
func TestOwnIdP(t *testing.T) {
	o := startOwnIdP(t)
	cases := idpCases(t)
	rep := o.run(t, cases)
	checkAllPass(t, rep, cases)
	if t.Failed() || testing.Verbose() {
		logReport(t, rep)
	}
}
