package crewjam

import (
	"crypto/tls"
	"encoding/xml"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crewjam/saml"
	"github.com/crewjam/saml/xmlenc"

	"github.com/renkei-idwsf/renkei/conformance"
	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
)

// confIdP is crewjam's IdentityProvider as a conformance target: served on
// loopback HTTPS with the suite's SP as its only service provider, in
// crewjam's default configuration or configured as strictly as crewjam
// allows (signed AuthnRequests required, SHA-1 refused, a replay cache,
// error Responses, the NameIDPolicy enforced, signed metadata). Every decision on a request is crewjam's; the
// harness adds only who the user is (the TLS client certificate) and that
// a passive request gets NoPassive, since it keeps no sessions.
type confIdP struct {
	idp *saml.IdentityProvider
	srv *httptest.Server
	sp  *saml.EntityDescriptor

	mu   sync.Mutex
	n    int
	seen map[string]time.Time
	log  strings.Builder // what crewjam logged: why it refused a request
}

// Write collects crewjam's log lines.
func (c *confIdP) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.log.Write(p)
}

// Logged is what crewjam logged so far.
func (c *confIdP) Logged() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.log.String()
}

// newConfIdP serves crewjam's IdP for the SP whose metadata is spMD, with
// crewjam's defaults or strict. crewjam encrypts every assertion for an
// SP whose metadata lists an encryption key, with the strongest cipher
// listed there (AES-256-GCM for the suite's SP); cbc configures it to
// encrypt with AES-128-CBC, as it does for an SP that lists none.
func newConfIdP(t *testing.T, spMD []byte, strict, cbc bool) *confIdP {
	t.Helper()
	p := pki.MustGet()
	id, err := p.CA.Issue("crewjam-conformance-idp", pki.RSA2048)
	if err != nil {
		t.Fatal(err)
	}
	c := &confIdP{seen: map[string]time.Time{}}
	if err := xml.Unmarshal(spMD, &c.sp); err != nil {
		t.Fatal(err)
	}
	c.srv = httptest.NewUnstartedServer(nil)
	c.srv.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{p.RSA.Cert.Raw}, PrivateKey: p.RSA.Key}},
		ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: rootPool()}
	c.srv.StartTLS()
	t.Cleanup(c.srv.Close)
	md, _ := url.Parse(c.srv.URL + "/metadata")
	sso, _ := url.Parse(c.srv.URL + "/sso")
	c.idp = &saml.IdentityProvider{Signer: id.Key, Key: id.Key, Certificate: id.Cert, MetadataURL: *md, SSOURL: *sso,
		ServiceProviderProvider: c, SessionProvider: c, Logger: log.New(c, "crewjam idp: ", 0),
		NameIDFormats: []saml.NameIDFormat{Persistent, Transient}}
	if cbc {
		enc := xmlenc.OAEP()
		enc.DigestMethod, enc.BlockCipher = &xmlenc.SHA1, xmlenc.AES128CBC
		c.idp.AssertionEncrypter = enc
	}
	if strict {
		c.idp.ReplayCache = c
		c.idp.WantAuthnRequestsSigned, c.idp.RejectSHA1Signatures, c.idp.SendErrorResponses = true, true, true
		c.idp.EnforceNameIDPolicy, c.idp.SignMetadata = true, true
	}
	c.srv.Config.Handler = c.idp.Handler()
	return c
}

// GetServiceProvider knows the suite's SP only.
func (c *confIdP) GetServiceProvider(_ *http.Request, id string) (*saml.EntityDescriptor, error) {
	if id == c.sp.EntityID {
		return c.sp, nil
	}
	return nil, os.ErrNotExist
}

// GetSession logs in the holder of the TLS client certificate with a
// persistent NameID, or a transient one when the policy asks for it; a
// passive request, or one without a certificate, gets no session.
func (c *confIdP) GetSession(w http.ResponseWriter, hr *http.Request, req *saml.IdpAuthnRequest) *saml.Session {
	if req.Request.IsPassive != nil && *req.Request.IsPassive {
		c.idp.SendErrorResponse(w, req, &saml.StatusError{TopLevel: saml.StatusResponder, SecondLevel: saml.StatusNoPassive})
		return nil
	}
	if hr.TLS == nil || len(hr.TLS.PeerCertificates) == 0 {
		http.Error(w, "a client certificate is required", http.StatusUnauthorized)
		return nil
	}
	user := hr.TLS.PeerCertificates[0].Subject.CommonName
	c.mu.Lock()
	c.n++
	n := c.n
	c.mu.Unlock()
	now := time.Now()
	s := &saml.Session{ID: fmt.Sprint("s", n), Index: fmt.Sprint("idx", n), CreateTime: now, ExpireTime: now.Add(time.Hour),
		UserName: user, NameIDFormat: string(Persistent), NameID: "P-" + user,
		AuthnContextClassRef: "urn:oasis:names:tc:SAML:2.0:ac:classes:X509"}
	if pol := req.Request.NameIDPolicy; pol != nil && pol.Format != nil && *pol.Format == string(Transient) {
		s.NameIDFormat, s.NameID = string(Transient), fmt.Sprint("T-", n)
	}
	return s
}

// Consume is the replay cache crewjam consults: an ID is refused while its
// record lives. The map holds one entry per request the run sends.
func (c *confIdP) Consume(id string, expiresAt time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if exp, ok := c.seen[id]; ok && time.Now().Before(exp) {
		return saml.ErrAssertionReplayed
	}
	c.seen[id] = expiresAt
	return nil
}

// TestConformanceCrewjamIdP runs the suite's SAML IdP cases (scope
// web-sso, ecp, metadata) against crewjam's IdP, in its defaults and in
// its strictest configuration. crewjam need not pass: the test asserts
// that the basic exchange works (so the rest is judged), that every
// in-scope case ran with its messages, that every failure is a finding
// naming the deviating side and the clause, and that the MUST findings
// and the warnings (SHOULD, practice) are exactly those
// conformance/INTEROP.md records, each at its level, so that a change on
// either side shows here. crewjam encrypts every assertion for an SP
// whose metadata lists an encryption key, as the suite's SP's does: the
// runs are also the end-to-end test of an IdP that always encrypts
// (AES-128-CBC, RSA-OAEP).
func TestConformanceCrewjamIdP(t *testing.T) {
	tests := []struct {
		name     string
		strict   bool
		cipher   string                       // the block cipher crewjam encrypts with
		findings []string                     // MUST failures, each with the target deviating
		warnings map[string]conformance.Level // SHOULDs and practices not followed
		rows     []string                     // failed rows
	}{
		{"defaults", false, "aes128-cbc", []string{"SAML2-Core-3.4.1.1/invalid-nameid-policy"},
			map[string]conformance.Level{
				"SAML2-Bind-3.4.4.1/redirect-sha1-signature": conformance.LevelPractice,
				"SAML2-Core-3.2.1/replayed-request":          conformance.LevelPractice,
			}, []string{"SAML2-Conf/websso-redirect", "SAML2-Conf/ecp"}},
		{"strict", true, "aes256-gcm", nil, nil, []string{"SAML2-Conf/ecp"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, rep := runCrewjamConformance(t, tt.strict, tt.cipher == "aes128-cbc")
			var txt strings.Builder
			if err := rep.WriteText(&txt); err != nil {
				t.Fatal(err)
			}
			t.Logf("%s\ncrewjam logged:\n%s", txt.String(), c.Logged())
			checkCrewjamReport(t, rep, crewjamScope)
			checkFindings(t, rep, tt.findings, tt.rows)
			checkWarnings(t, rep, tt.warnings)
			checkEncrypted(t, rep, "SAML2-Bind-3.4/redirect-authnrequest", tt.cipher)
		})
	}
}

// crewjamScope is the part of the matrix the run covers.
var crewjamScope = []string{"web-sso", "ecp", "metadata"}

// runCrewjamConformance serves crewjam's IdP for the suite's SP and runs
// the suite against it, logging in with a client certificate.
func runCrewjamConformance(t *testing.T, strict, cbc bool) (*confIdP, *conformance.Report) {
	t.Helper()
	sp, err := conformance.NewSP("https://127.0.0.1/conformance-sp", "https://127.0.0.1/conformance-sp/acs", time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	spMD, err := sp.Metadata()
	if err != nil {
		t.Fatal(err)
	}
	c := newConfIdP(t, spMD, strict, cbc)
	user, err := pki.MustGet().CA.Issue("alice", pki.P256)
	if err != nil {
		t.Fatal(err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: rootPool(), ServerName: "localhost"}
	target, err := conformance.LoadTarget(testCtx(t), c.srv.URL+"/metadata", &http.Client{Transport: tr, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	login := conformance.CertLogin{Certificate: tls.Certificate{Certificate: [][]byte{user.Cert.Raw}, PrivateKey: user.Key, Leaf: user.Cert}}
	r := &conformance.Runner{Role: conformance.RoleIdP, Mode: conformance.ModeIdP, Cases: conformance.SAMLIdPCases(),
		Rows: conformance.Matrix(), Only: crewjamScope, CaseTimeout: 10 * time.Second}
	return c, r.Run(testCtx(t), &conformance.Env{Target: target, SP: sp, Login: login, Transport: tr})
}

// checkWarnings requires the warnings of the run to be exactly want, each
// at its level and attributed to the target.
func checkWarnings(t *testing.T, rep *conformance.Report, want map[string]conformance.Level) {
	t.Helper()
	got := map[string]conformance.Level{}
	for _, w := range rep.Warnings() {
		got[w.Case] = w.Level
		if w.Side != conformance.SideTarget {
			t.Errorf("warning %s: side %s, not the target", w.Case, w.Side)
		}
	}
	if len(got) != len(want) {
		t.Errorf("warnings %v, INTEROP.md records %v", got, want)
	}
	for id, l := range want {
		if got[id] != l {
			t.Errorf("warning %s at level %q, INTEROP.md records %q", id, got[id], l)
		}
	}
}

// checkEncrypted requires the case's assertion to have come encrypted
// with a block cipher whose URI contains cipher, and decrypted by the
// suite.
func checkEncrypted(t *testing.T, rep *conformance.Report, id, cipher string) {
	t.Helper()
	res, _ := rep.Result(id)
	for _, m := range res.Messages {
		if strings.HasPrefix(m.Label, "EncryptedAssertion, decrypted") && strings.Contains(m.Label, cipher) {
			return
		}
	}
	t.Errorf("%s: no assertion encrypted with %s was received and decrypted", id, cipher)
}

// checkFindings requires the failed cases to be exactly want, each with
// the target as the deviating side, and the failed rows exactly rows.
func checkFindings(t *testing.T, rep *conformance.Report, want, rows []string) {
	t.Helper()
	var got []string
	for _, f := range rep.Findings() {
		got = append(got, f.Case)
		if f.Side != conformance.SideTarget {
			t.Errorf("finding %s: side %s, not the target: %s", f.Case, f.Side, f.Detail)
		}
	}
	var gotRows []string
	for _, row := range rep.Rows {
		if row.Verdict == conformance.Fail {
			gotRows = append(gotRows, row.Row.ID)
		}
	}
	slices.Sort(got)
	slices.Sort(gotRows)
	want, rows = slices.Sorted(slices.Values(want)), slices.Sorted(slices.Values(rows))
	if !slices.Equal(got, want) || !slices.Equal(gotRows, rows) {
		t.Errorf("findings %v (rows %v), INTEROP.md records %v (rows %v)", got, gotRows, want, rows)
	}
}

// checkCrewjamReport asserts the report's shape: the basic exchange
// passes, every in-scope case ran with messages, rows outside the scope
// are out of scope, and each failure is a finding with side and clause.
func checkCrewjamReport(t *testing.T, rep *conformance.Report, scope []string) {
	t.Helper()
	if res, ok := rep.Result("SAML2-Bind-3.4/redirect-authnrequest"); !ok || res.Outcome.Verdict != conformance.Pass {
		t.Fatalf("the basic Web SSO exchange with crewjam fails, so nothing else is judged: %s", res.Outcome.Reason)
	}
	group := map[string]string{}
	for _, row := range conformance.Matrix() {
		group[row.ID] = row.Group
	}
	want := 0
	for _, cs := range conformance.SAMLIdPCases() {
		for _, g := range scope {
			if group[cs.Row] == g {
				want++
			}
		}
	}
	if len(rep.Results) != want {
		t.Fatalf("%d cases ran, %d are in scope", len(rep.Results), want)
	}
	for _, res := range rep.Results {
		if len(res.Messages) == 0 && res.Outcome.Verdict != conformance.Skipped {
			t.Errorf("%s: no exchanged message recorded", res.Case.ID)
		}
	}
	for _, row := range rep.Rows {
		in := strings.Contains(","+strings.Join(scope, ",")+",", ","+row.Row.Group+",")
		if !in && row.Verdict != conformance.OutOfScope {
			t.Errorf("row %s outside the scope is %s", row.Row.ID, row.Verdict)
		}
	}
	if n := rep.Counts()[conformance.Error]; n > 0 || rep.RunError != "" {
		t.Errorf("%d run errors (%s): the run did not reach what it tests", n, rep.RunError)
	}
	fails := rep.Counts()[conformance.Fail] + rep.Counts()[conformance.Error]
	if fs := rep.Findings(); len(fs) != fails {
		t.Errorf("%d failed cases, %d findings", fails, len(fs))
	}
	for _, f := range rep.Findings() {
		if f.Side == "" || f.Clause == "" || f.Detail == "" {
			t.Errorf("finding without side, clause or detail: %+v", f)
		}
		t.Logf("finding: %s deviates from %s in %s: %s", f.Side, f.Clause, f.Case, f.Detail)
	}
}
