package conformance_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/conformance"
	"github.com/renkei-idwsf/renkei/internal/testkit/idpkit"
	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
)

// builtScope is the part of the matrix Renkei's IdP builds; SLO, NIM and
// IdP discovery are not in it and must be reported out of scope (or
// uncovered), never as passes.
var builtScope = []string{"web-sso", "ecp", "metadata", "artifact", "attribute-query", "nameid-mapping"}

// ownIdP is Renkei's IdP run as the real cmd/renkei-idp binary, with the
// suite's SP registered and a card issued for one principal.
type ownIdP struct {
	Kit   *idpkit.IdP
	SP    *conformance.SP
	Other *conformance.SP // a second registered SP: the party an artifact was not issued to, the target of NameIDMapping
	Card  *pki.Identity
	// Back is the suite's third SP, whose only SingleLogoutService is
	// SOAP, served on loopback with a certificate of the test CA (which
	// the IdP trusts for its SOAP calls).
	Back *conformance.BackChannelSP
}

// newSuiteSP makes the suite's SP with an https ACS on loopback (the IdP
// sends responses only to https consumers of the SP's metadata).
func newSuiteSP(t *testing.T) *conformance.SP {
	t.Helper()
	return newSuiteSPNamed(t, "conformance-sp")
}

// newSuiteSPNamed is newSuiteSP under another name.
func newSuiteSPNamed(t *testing.T, name string) *conformance.SP {
	t.Helper()
	sp, err := conformance.NewSP("https://127.0.0.1/"+name, "https://127.0.0.1/"+name+"/acs", time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

// startOwnIdP starts Renkei's IdP built with tags, the suite's SP and its
// second SP (Env.Other, with an encryption key) in its metadata and a
// P-256 card for principal p-conf. The IdP releases displayName and mail
// of p-conf to the suite's SP, nothing to the other, and lets the suite's
// SP map NameIDs to the other.
func startOwnIdP(t *testing.T, tags ...string) *ownIdP {
	t.Helper()
	sp := newSuiteSP(t)
	other := newSuiteSPNamed(t, "conformance-sp-other")
	var ms [][]byte
	for _, s := range []*conformance.SP{sp, other} {
		m, err := s.Metadata()
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	attrs := filepath.Join(t.TempDir(), "attributes.json")
	if err := os.WriteFile(attrs, []byte(`{"p-conf": {"displayName": ["Conformance Tester"], "mail": ["conf@example.jp"]}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	back := startBackChannelSP(t)
	bm, err := back.SP.Metadata()
	if err != nil {
		t.Fatal(err)
	}
	ms = append(ms, bm)
	k := idpkit.New(t, idpkit.Options{SPMetadata: ms, Tags: tags, Tweak: func(c *idpkit.Config) {
		c.Attributes = attrs
		c.Release = map[string][]string{sp.EntityID: {"displayName", "mail"}}
		c.NameIDMapping = map[string][]string{sp.EntityID: {other.EntityID}}
	}})
	card := k.IssueCard("p-conf", "HIC-CONF-0001", pki.P256)
	k.Start()
	return &ownIdP{Kit: k, SP: sp, Other: other, Card: card, Back: back}
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
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{id.Cert.Raw}, PrivateKey: id.Key, Leaf: id.Cert}}, MinVersion: tls.VersionTLS12,
		ClientAuth: tls.RequestClientCert} // an IdP may authenticate by its TLS client key instead of a signature
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
	return &conformance.Env{Target: target, SP: o.SP, Other: o.Other, Login: login, Transport: tr}
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

// run runs cases in the built scope against the IdP, strictly: a SHOULD
// or a practice not followed fails as a MUST does (-strict), so that a
// pass here is a pass at every level and a fault build is caught
// whatever the level of the case that catches it.
func (o *ownIdP) run(t *testing.T, cases []conformance.Case) *conformance.Report {
	t.Helper()
	return o.runAt(t, cases, conformance.LevelPractice)
}

// runAt runs cases in the built scope, failing the run from level failOn on.
func (o *ownIdP) runAt(t *testing.T, cases []conformance.Case, failOn conformance.Level) *conformance.Report {
	t.Helper()
	r := &conformance.Runner{Role: conformance.RoleIdP, Mode: conformance.ModeIdP, Cases: cases,
		Rows: conformance.Matrix(), Only: builtScope, CaseTimeout: 30 * time.Second, FailOn: failOn}
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
// pass, with the messages of each exchange in the report: at the MUST
// level (the default of a run) and with -strict (every SHOULD and
// practice a failure).
func TestOwnIdP(t *testing.T) {
	o := startOwnIdP(t)
	cases := idpCases(t)
	for _, level := range []conformance.Level{conformance.LevelMust, conformance.LevelPractice} {
		t.Run("ok/"+string(level), func(t *testing.T) {
			rep := o.runAt(t, cases, level)
			checkAllPass(t, rep, cases)
			requireDecrypted(t, rep, "SAML2-Bind-3.4/redirect-authnrequest", "gcm")
			if t.Failed() || testing.Verbose() {
				logReport(t, rep)
			}
		})
	}
}

// requireDecrypted asserts that the case's assertion came encrypted with
// a block cipher whose URI contains cipher, and that the suite decrypted
// it: the IdP encrypts for the suite SP's encryption key.
func requireDecrypted(t *testing.T, rep *conformance.Report, id, cipher string) {
	t.Helper()
	res, ok := rep.Result(id)
	if !ok {
		t.Fatalf("case %s did not run", id)
	}
	for _, m := range res.Messages {
		if strings.HasPrefix(m.Label, "EncryptedAssertion, decrypted") && strings.Contains(m.Label, cipher) && strings.Contains(m.Body, "Assertion") {
			return
		}
	}
	t.Errorf("%s: no assertion encrypted with %s was decrypted", id, cipher)
}
