package idp

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/binding"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/store/sqlstore"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// The SPs of the SLO tests: two that log out through the browser
// (HTTP-Redirect and HTTP-POST), one with a SOAP SingleLogoutService on a
// loopback TLS server, and one that never joins a session.
const (
	sloA    = "https://a.example.org/sp"
	sloB    = "https://b.example.org/sp"
	sloSOAP = "https://soap.example.org/sp"
	sloC    = "https://c.example.org/sp"
	// sloLasso is python3-lasso's SP (slo_lasso_test.go).
	sloLasso = "https://lasso.example.org/sp"
)

// soapSP plays the SP behind a SOAP SingleLogoutService: it verifies the
// IdP's LogoutRequest and answers with a signed LogoutResponse, or with
// Fail's status when that is set. With Redirect set it answers a POST at
// its endpoint with a 307 to movedPath and serves the request there.
type soapSP struct {
	e        *ssoEnv
	sp       *testSP
	srv      *httptest.Server
	mu       sync.Mutex
	got      []*samlp.LogoutRequest
	errs     []error
	Fail     string // a top-level status to answer with instead of Success
	Dest     string // the Destination of the LogoutResponse; "" for none
	Fault    string // when set, a SOAP fault (HTTP 500) with this string instead
	Redirect atomic.Bool
}

func (s *soapSP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.Redirect.Load() && r.URL.Path != movedPath {
		http.Redirect(w, r, movedPath, http.StatusTemporaryRedirect)
		return
	}
	env, err := (&binding.SOAPDecoder{}).Decode(r.Body)
	var req *samlp.LogoutRequest
	if err == nil {
		req, err = s.e.verifyLogoutRequest(env.Body, s.srv.URL+"/slo")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.errs = append(s.errs, err)
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	s.got = append(s.got, req)
	if s.Fault != "" {
		b, _ := xmlsec.Serialize((&binding.Fault{Code: binding.FaultServer, String: s.Fault}).Envelope().Element())
		w.Header().Set("Content-Type", binding.ContentTypeSOAP)
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write(b)
		return
	}
	status := samlp.NewStatus(samlp.StatusSuccess, "")
	if s.Fail != "" {
		status = samlp.NewStatus(s.Fail, "")
	}
	el := s.e.logoutResponse(s.sp, req.ID, s.Dest, status)
	b, _ := xmlsec.Serialize((&binding.Envelope{Body: el}).Element())
	w.Header().Set("Content-Type", binding.ContentTypeSOAP)
	_, _ = w.Write(b)
}

func (s *soapSP) requests() ([]*samlp.LogoutRequest, []error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*samlp.LogoutRequest(nil), s.got...), append([]error(nil), s.errs...)
}

// sloEnv is the IdP serving SSO and SLO, with the SLO SPs in its
// metadata.
type sloEnv struct {
	*ssoEnv
	soap *soapSP
}

func newSLOEnv(t *testing.T) *sloEnv { return newSLOEnvTB(t) }

// newSLOEnvTB is newSLOEnv for a test or a fuzz target.
func newSLOEnvTB(t testing.TB) *sloEnv {
	t.Helper()
	e := &ssoEnv{fixture: newFixture(t), sps: testSPs(t), verifier: idpVerifier(t)}
	k := federationKeys(t)
	ss := &soapSP{e: e}
	ss.srv = httptest.NewTLSServer(ss)
	t.Cleanup(ss.srv.Close)
	add := func(id string, eps ...md.Endpoint) *testSP {
		sp := &testSP{ID: id, ACS: strings.TrimSuffix(id, "/sp") + "/sp/acs", Key: k.Other, SLO: eps}
		e.sps[id] = sp
		return sp
	}
	add(sloA, md.Endpoint{Binding: samlp.BindingHTTPRedirect, Location: "https://a.example.org/sp/slo", ResponseLocation: "https://a.example.org/sp/slo/done"})
	add(sloB, md.Endpoint{Binding: samlp.BindingHTTPPOST, Location: "https://b.example.org/sp/slo"})
	add(sloC, md.Endpoint{Binding: samlp.BindingHTTPRedirect, Location: "https://c.example.org/sp/slo"})
	add(sloLasso, md.Endpoint{Binding: samlp.BindingHTTPRedirect, Location: "https://lasso.example.org/sp/slo"}).SignRequests = true
	ss.sp = add(sloSOAP, md.Endpoint{Binding: samlp.BindingSOAP, Location: ss.srv.URL + "/slo"})
	e.slo = &SLOConfig{Client: ss.srv.Client()}
	e.serve(t, nil, nil)
	return &sloEnv{ssoEnv: e, soap: ss}
}

// sloURL is the IdP's SLO endpoint at path, once the listener runs.
func (e *ssoEnv) sloURL(path string) string { return e.mainURL + path }

// login runs SSO at sp in the browser c (which presents Alice's card)
// and returns what sp received.
func (e *sloEnv) login(c *http.Client, sp string) *received {
	e.t.Helper()
	id := fmt.Sprintf("_login-%d", time.Now().UnixNano())
	got, err := e.consume(e.sps[sp], e.redirect(c, e.newRequest(e.sps[sp], id), "", nil), id)
	must(e.t, err)
	return got
}

// session logs Alice in at each sp in one browser session and returns the
// browser (Alice's card, following redirects), a client on the same jar
// that follows none, and what each SP received.
func (e *sloEnv) session(sps ...string) (*http.Client, *http.Client, map[string]*received) {
	e.t.Helper()
	jar, err := cookiejar.New(nil)
	must(e.t, err)
	c := e.withJar(&e.Alice, jar)
	got := map[string]*received{}
	for _, sp := range sps {
		got[sp] = e.login(c, sp)
	}
	nf := e.withJar(nil, jar)
	nf.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c, nf, got
}

// logoutRequestOf is the LogoutRequest sp sends for what it received.
func (e *sloEnv) logoutRequestOf(sp string, got *received, id string) *samlp.LogoutRequest {
	a := got.Assertion
	return &samlp.LogoutRequest{RequestHeader: samlp.RequestHeader{ID: id, IssueInstant: e.now,
		Destination: e.mainURL + PathSLO, Issuer: &saml.Issuer{Value: sp}}, Reason: samlp.LogoutUser,
		NameID: a.Subject.NameID, SessionIndexes: []string{a.AuthnStatements[0].SessionIndex}}
}

// sendRedirect sends req with the HTTP-Redirect binding, query-signed by
// its issuer unless unsigned, through c (which follows no redirect).
func (e *sloEnv) sendRedirect(c *http.Client, req samlp.Message, relay string, signer *binding.RedirectSigner) exchange {
	e.t.Helper()
	u, err := binding.RedirectURL(e.mainURL+PathSLO, req.Element(), relay, signer)
	must(e.t, err)
	return e.get(c, u)
}

func (e *sloEnv) get(c *http.Client, u string) exchange {
	e.t.Helper()
	r, err := http.NewRequest(http.MethodGet, u, nil)
	must(e.t, err)
	return e.do(c, r)
}

// redirected reads the HTTP-Redirect message the IdP sent the browser to
// at loc (which must start with want): query signature verified with the
// IdP's metadata key, schema-valid.
func (e *sloEnv) redirected(x exchange, want string) (*etree.Element, string, error) {
	loc := x.Header.Get("Location")
	if x.Status != http.StatusSeeOther || !strings.HasPrefix(loc, want+"?") {
		return nil, "", fmt.Errorf("status %d to %q, want a redirect to %s; body %s", x.Status, loc, want, x.Body)
	}
	u, err := url.Parse(loc)
	if err != nil {
		return nil, "", err
	}
	m, err := (&binding.RedirectDecoder{}).Decode(u.RawQuery)
	if err != nil {
		return nil, "", err
	}
	el, _, err := m.Verify(e.verifier.Trust, xmlsec.Policy{})
	if err != nil {
		return nil, "", err
	}
	return el, m.RelayState, e.schema.ValidateElement(el)
}

// posted reads the HTTP-POST message of a form page to want,
// schema-valid; its signature is left to verifyLogoutRequest.
func (e *sloEnv) posted(x exchange, want string) (*etree.Element, string, error) {
	action, vals, err := parseForm(x.Body)
	if err != nil {
		return nil, "", err
	}
	if action != want {
		return nil, "", fmt.Errorf("form posts to %q, want %q", action, want)
	}
	m, err := (&binding.POSTDecoder{}).Decode(strings.NewReader(vals.Encode()))
	if err != nil {
		return nil, "", err
	}
	return m.Element, m.RelayState, e.schema.ValidateElement(m.Element)
}

// verifyLogoutRequest is an SP's check of the IdP's LogoutRequest:
// schema, XML signature by the IdP's metadata key, Destination.
func (e *ssoEnv) verifyLogoutRequest(el *etree.Element, dest string) (*samlp.LogoutRequest, error) {
	return e.checkLogoutRequest(el, dest, false)
}

// checkLogoutRequest is verifyLogoutRequest for an element whose query
// signature redirected verified when queryVerified is set.
func (e *ssoEnv) checkLogoutRequest(el *etree.Element, dest string, queryVerified bool) (*samlp.LogoutRequest, error) {
	if err := e.schema.ValidateElement(el); err != nil {
		return nil, err
	}
	var req *samlp.LogoutRequest
	var err error
	if queryVerified {
		req, err = samlp.DecodeLogoutRequest(el)
	} else {
		req, _, err = samlp.VerifyLogoutRequest(el, e.verifier)
	}
	if err != nil {
		return nil, err
	}
	if req.Destination != dest || req.Issuer.Value != idpID {
		return nil, fmt.Errorf("LogoutRequest header %+v", req.RequestHeader)
	}
	return req, nil
}

// logoutResponse is sp's signed LogoutResponse to the IdP's request id.
func (e *ssoEnv) logoutResponse(sp *testSP, inResponseTo, dest string, status samlp.Status) *etree.Element {
	r := &samlp.LogoutResponse{StatusResponseHeader: samlp.StatusResponseHeader{ID: fmt.Sprintf("_lr-%d", time.Now().UnixNano()),
		InResponseTo: inResponseTo, IssueInstant: e.now, Destination: dest, Issuer: &saml.Issuer{Value: sp.ID}, Status: status}}
	el, err := samlp.Sign(r, spSigner(sp))
	must(e.t, err)
	return el
}

// wantLogoutResponse decodes the IdP's LogoutResponse to sp's reply
// endpoint and checks its header and status codes.
func wantLogoutResponse(el *etree.Element, inResponseTo, dest, top, second string) error {
	resp, err := samlp.DecodeLogoutResponse(el) // el was verified by the caller
	if err != nil {
		return err
	}
	if resp.InResponseTo != inResponseTo || resp.Destination != dest || resp.Issuer.Value != idpID {
		return fmt.Errorf("LogoutResponse header %+v", resp.StatusResponseHeader)
	}
	if resp.Status.Code.Value != top || resp.Status.Second() != second {
		return fmt.Errorf("status %s/%s, want %s/%s", resp.Status.Code.Value, resp.Status.Second(), top, second)
	}
	return nil
}

// sessionGone checks that the session sp knew by got has ended.
func (e *sloEnv) sessionGone(sp string, got *received) error {
	_, err := e.idp.SessionByIndex(ctx, sp, got.Assertion.AuthnStatements[0].SessionIndex)
	if !errors.Is(err, ErrNoSession) {
		return fmt.Errorf("session lookup after logout: %v", err)
	}
	return nil
}

// cookieCleared reports whether x removed the IdP's session cookie.
func cookieCleared(x exchange) bool {
	for _, c := range (&http.Response{Header: x.Header}).Cookies() {
		if c.Name == DefaultCookieName && c.MaxAge < 0 {
			return true
		}
	}
	return false
}

// sendResponseRedirect sends a participant's LogoutResponse el back to the
// IdP over HTTP-Redirect, query-signed by sp (nil: unsigned).
func (e *sloEnv) sendResponseRedirect(c *http.Client, el *etree.Element, relay string, sp *testSP) exchange {
	e.t.Helper()
	var s *binding.RedirectSigner
	if sp != nil {
		s = redirectSigner(sp)
	}
	u, err := binding.RedirectURL(e.mainURL+PathSLO, el, relay, s)
	must(e.t, err)
	return e.get(c, u)
}

// soapLogout sends req over SOAP to the IdP, XML-signed by its issuer
// when sign is set, and returns the LogoutResponse verified with the IdP's
// metadata key and schema-checked. A SOAP fault is an error.
func (e *sloEnv) soapLogout(req *samlp.LogoutRequest, sign bool) (*etree.Element, error) {
	req.Destination = e.mainURL + PathSLOSOAP
	el := req.Element()
	if sign {
		var err error
		if el, err = samlp.Sign(req, spSigner(e.sps[req.Issuer.Value])); err != nil {
			return nil, err
		}
	}
	b, err := xmlsec.Serialize((&binding.Envelope{Body: el}).Element())
	must(e.t, err)
	r, err := http.NewRequest(http.MethodPost, e.mainURL+PathSLOSOAP, strings.NewReader(string(b)))
	must(e.t, err)
	r.Header.Set("Content-Type", binding.ContentTypeSOAP)
	x := e.do(e.browser(nil), r)
	env, err := (&binding.SOAPDecoder{}).Decode(strings.NewReader(x.Body))
	if err != nil {
		return nil, fmt.Errorf("HTTP %d: %w", x.Status, err)
	}
	if err := e.schema.ValidateElement(env.Body); err != nil {
		return nil, err
	}
	return e.verifier.Verify(env.Body)
}

// confirmLogout submits the confirmation form x (GET /slo/init's page)
// through c, with its own fields changed by edit when not nil, and
// returns the answer.
func (e *sloEnv) confirmLogout(c *http.Client, x exchange, edit ...func(url.Values)) exchange {
	e.t.Helper()
	action, vals, err := parseForm(x.Body)
	if err != nil || action != PathSLOInit || x.Status != http.StatusOK {
		e.t.Fatalf("GET %s: HTTP %d, want the confirmation form: %v", PathSLOInit, x.Status, err)
	}
	for _, f := range edit {
		f(vals)
	}
	return e.postLogout(c, vals, nil)
}

// postLogout POSTs vals to /slo/init through c with the extra headers.
func (e *sloEnv) postLogout(c *http.Client, vals url.Values, hdr http.Header) exchange {
	e.t.Helper()
	r, err := http.NewRequest(http.MethodPost, e.mainURL+PathSLOInit, strings.NewReader(vals.Encode()))
	must(e.t, err)
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range hdr {
		r.Header[k] = v
	}
	return e.do(c, r)
}

// logged reports whether the IdP logged a line whose error holds every
// one of parts.
func (e *ssoEnv) logged(parts ...string) bool {
	for _, rec := range e.logs.Records("idp") {
		msg, _ := rec["err"].(string)
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(msg, p)
		}
		if ok {
			return true
		}
	}
	return false
}

// sloSecondNode is another IdP node over e's store, with e's public SSO
// and SLO URLs.
func (e *sloEnv) sloSecondNode(t testing.TB) *ssoEnv {
	db, err := sqlstore.Open(ctx, e.dsn)
	must(t, err)
	t.Cleanup(func() { db.Close() })
	f := *e.fixture
	f.db = db
	f.cfg = f.config()
	f.idp, err = New(f.cfg)
	must(t, err)
	n := &ssoEnv{fixture: &f, sps: e.sps, verifier: e.verifier, slo: e.slo}
	return n.serve(t, nil, func(c *SSOConfig) {
		c.SSOURL, c.SLOURL, c.SLOSOAPURL = e.mainURL+PathSSO, e.mainURL+PathSLO, e.mainURL+PathSLOSOAP
	})
}
