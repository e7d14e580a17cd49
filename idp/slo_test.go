package idp

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/renkei-idwsf/renkei/saml/binding"
	"testing"

	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

const (
	aSLO     = "https://a.example.org/sp/slo"
	aSLODone = "https://a.example.org/sp/slo/done"
	bSLO     = "https://b.example.org/sp/slo"
)

// TestSLOFrontChannel: A logs out over HTTP-Redirect; the IdP ends the
// session, sends the browser to B (HTTP-POST) with a LogoutRequest for
// B's NameID and SessionIndex, takes B's LogoutResponse and answers A at
// its ResponseLocation with Success and A's RelayState.
func TestSLOFrontChannel(t *testing.T) {
	e := newSLOEnv(t)
	_, nf, got := e.session(sloA, sloB)
	x := e.sendRedirect(nf, e.logoutRequestOf(sloA, got[sloA], "_slo-front-1"), "rs-a", redirectSigner(e.sps[sloA]))
	if !cookieCleared(x) {
		t.Fatalf("the session cookie was not cleared: %v", x.Header)
	}
	if err := e.sessionGone(sloA, got[sloA]); err != nil {
		t.Fatal(err)
	}
	el, relay, err := e.posted(x, bSLO)
	must(t, err)
	req, err := e.verifyLogoutRequest(el, bSLO)
	must(t, err)
	b := got[sloB].Assertion
	if req.NameID.Value != b.Subject.NameID.Value || req.NameID.SPNameQualifier != sloB ||
		len(req.SessionIndexes) != 1 || req.SessionIndexes[0] != b.AuthnStatements[0].SessionIndex {
		t.Fatalf("LogoutRequest to B names %+v %v", req.NameID, req.SessionIndexes)
	}
	resp := e.logoutResponse(e.sps[sloB], req.ID, e.mainURL+PathSLO, samlp.NewStatus(samlp.StatusSuccess, ""))
	x = e.sendResponseRedirect(nf, resp, relay, e.sps[sloB])
	el, rs, err := e.redirected(x, aSLODone)
	must(t, err)
	must(t, wantLogoutResponse(el, "_slo-front-1", aSLODone, samlp.StatusSuccess, ""))
	if rs != "rs-a" {
		t.Fatalf("RelayState %q", rs)
	}
	t.Run("fail/chain-handle-used-twice", func(t *testing.T) {
		x := e.sendResponseRedirect(nf, resp, relay, e.sps[sloB])
		noForm(t, x, http.StatusBadRequest, "unknown")
	})
}

// TestSLOBackChannel: the SOAP participant is logged out server to server
// while A waits; A then gets Success without a hop through the browser.
func TestSLOBackChannel(t *testing.T) {
	e := newSLOEnv(t)
	_, nf, got := e.session(sloA, sloSOAP)
	x := e.sendRedirect(nf, e.logoutRequestOf(sloA, got[sloA], "_slo-back-1"), "", redirectSigner(e.sps[sloA]))
	el, _, err := e.redirected(x, aSLODone)
	must(t, err)
	must(t, wantLogoutResponse(el, "_slo-back-1", aSLODone, samlp.StatusSuccess, ""))
	reqs, errs := e.soap.requests()
	if len(errs) != 0 || len(reqs) != 1 {
		t.Fatalf("SOAP SP got %d requests, errors %v", len(reqs), errs)
	}
	s := got[sloSOAP].Assertion
	if reqs[0].NameID.Value != s.Subject.NameID.Value || reqs[0].SessionIndexes[0] != s.AuthnStatements[0].SessionIndex {
		t.Fatalf("SOAP LogoutRequest names %+v %v", reqs[0].NameID, reqs[0].SessionIndexes)
	}
	must(t, e.sessionGone(sloSOAP, got[sloSOAP]))
}

// TestSLOBackChannelDestination: a SOAP participant's LogoutResponse may
// carry a Destination; naming the IdP's SOAP SingleLogoutService it
// counts as Success, naming anything else the logout is partial.
func TestSLOBackChannelDestination(t *testing.T) {
	for _, tc := range []struct {
		name, dest, top, second string
	}{{"ok/destination-is-idp-soap-endpoint", PathSLOSOAP, samlp.StatusSuccess, ""},
		{"fail/destination-elsewhere-is-partial", "/elsewhere", samlp.StatusResponder, samlp.StatusPartialLogout}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newSLOEnv(t)
			e.soap.Dest = e.mainURL + tc.dest
			_, nf, got := e.session(sloA, sloSOAP)
			x := e.sendRedirect(nf, e.logoutRequestOf(sloA, got[sloA], "_slo-dest-1"), "", redirectSigner(e.sps[sloA]))
			el, _, err := e.redirected(x, aSLODone)
			must(t, err)
			must(t, wantLogoutResponse(el, "_slo-dest-1", aSLODone, tc.top, tc.second))
		})
	}
}

// TestSLOFailureLogged: when a participant fails, the user's page or the
// initiator's LogoutResponse says only that the logout is partial; the
// IdP's log says which participant failed, over which binding, and why.
func TestSLOFailureLogged(t *testing.T) {
	t.Run("fail/soap-participant-status", func(t *testing.T) {
		e := newSLOEnv(t)
		e.soap.Fail = samlp.StatusResponder
		_, nf, got := e.session(sloA, sloSOAP)
		e.sendRedirect(nf, e.logoutRequestOf(sloA, got[sloA], "_slo-log-1"), "", redirectSigner(e.sps[sloA]))
		if !e.logged(sloSOAP, "over SOAP", "status "+samlp.StatusResponder) {
			t.Fatal("no log line names the SOAP participant, the binding and its status")
		}
	})
	t.Run("fail/soap-participant-fault", func(t *testing.T) {
		e := newSLOEnv(t)
		e.soap.Fault = "session store down"
		_, nf, got := e.session(sloA, sloSOAP)
		e.sendRedirect(nf, e.logoutRequestOf(sloA, got[sloA], "_slo-log-2"), "", redirectSigner(e.sps[sloA]))
		if !e.logged(sloSOAP, "over SOAP", "HTTP 500", "SOAP fault Server: session store down") {
			t.Fatal("no log line names the SOAP participant and its fault")
		}
	})
	t.Run("fail/soap-initiator-front-participant", func(t *testing.T) {
		e := newSLOEnv(t)
		_, _, got := e.session(sloSOAP, sloA)
		_, err := e.soapLogout(e.logoutRequestOf(sloSOAP, got[sloSOAP], "_slo-log-3"), true)
		must(t, err)
		if !e.logged(sloA, "no SOAP SingleLogoutService") {
			t.Fatal("no log line says why the front-channel participant was not reached")
		}
	})
	t.Run("fail/front-participant-unsigned", func(t *testing.T) {
		e := newSLOEnv(t)
		_, nf, _ := e.session(sloA, sloB)
		x := e.confirmLogout(nf, e.get(nf, e.mainURL+PathSLOInit))
		el, relay, err := e.redirected(x, aSLO)
		must(t, err)
		req, err := e.checkLogoutRequest(el, aSLO, true)
		must(t, err)
		x = e.sendResponseRedirect(nf, e.logoutResponse(e.sps[sloA], req.ID, e.mainURL+PathSLO, samlp.NewStatus(samlp.StatusSuccess, "")), relay, nil)
		if _, _, err := e.posted(x, bSLO); err != nil {
			t.Fatalf("the chain did not go on to B: %v", err)
		}
		if !e.logged(sloA, "over HTTP-Redirect", "signature") {
			t.Fatal("no log line names the front participant and its refused signature")
		}
	})
}

// TestSLOPartial: a participant that answers with a failure, or with an
// unsigned LogoutResponse, makes the logout partial: Responder/PartialLogout
// to the initiator, the session ended all the same.
func TestSLOPartial(t *testing.T) {
	t.Run("fail/soap-participant-answers-responder", func(t *testing.T) {
		e := newSLOEnv(t)
		e.soap.Fail = samlp.StatusResponder
		_, nf, got := e.session(sloA, sloSOAP)
		x := e.sendRedirect(nf, e.logoutRequestOf(sloA, got[sloA], "_slo-part-1"), "", redirectSigner(e.sps[sloA]))
		el, _, err := e.redirected(x, aSLODone)
		must(t, err)
		must(t, wantLogoutResponse(el, "_slo-part-1", aSLODone, samlp.StatusResponder, samlp.StatusPartialLogout))
		must(t, e.sessionGone(sloA, got[sloA]))
	})
	t.Run("fail/front-participant-answers-unsigned", func(t *testing.T) {
		e := newSLOEnv(t)
		_, nf, got := e.session(sloA, sloB)
		x := e.sendRedirect(nf, e.logoutRequestOf(sloA, got[sloA], "_slo-part-2"), "", redirectSigner(e.sps[sloA]))
		el, relay, err := e.posted(x, bSLO)
		must(t, err)
		req, err := e.verifyLogoutRequest(el, bSLO)
		must(t, err)
		resp := e.logoutResponse(e.sps[sloB], req.ID, e.mainURL+PathSLO, samlp.NewStatus(samlp.StatusSuccess, ""))
		x = e.sendResponseRedirect(nf, resp, relay, nil)
		el, _, err = e.redirected(x, aSLODone)
		must(t, err)
		must(t, wantLogoutResponse(el, "_slo-part-2", aSLODone, samlp.StatusResponder, samlp.StatusPartialLogout))
	})
	t.Run("fail/soap-initiator-front-participant-unreachable", func(t *testing.T) {
		e := newSLOEnv(t)
		_, _, got := e.session(sloSOAP, sloA)
		el, err := e.soapLogout(e.logoutRequestOf(sloSOAP, got[sloSOAP], "_slo-part-3"), true)
		must(t, err)
		must(t, wantLogoutResponse(el, "_slo-part-3", "", samlp.StatusResponder, samlp.StatusPartialLogout))
		must(t, e.sessionGone(sloA, got[sloA]))
	})
}

// TestSLOIdPInitiated: GET /slo/init shows a confirmation form and logs
// nobody out; its POST, with the form's token, ends the browser's
// session, logs the SOAP participant out over the back channel, sends the
// browser through A (HTTP-Redirect) and B (HTTP-POST) in turn, and ends on
// the logged-out page; the cookie is cleared.
func TestSLOIdPInitiated(t *testing.T) {
	e := newSLOEnv(t)
	_, nf, got := e.session(sloA, sloB, sloSOAP)
	form := e.get(nf, e.mainURL+PathSLOInit)
	if cookieCleared(form) || form.Header.Get("Location") != "" {
		t.Fatalf("GET %s logged out: HTTP %d %v", PathSLOInit, form.Status, form.Header)
	}
	if reqs, _ := e.soap.requests(); len(reqs) != 0 {
		t.Fatalf("GET %s reached the SOAP SP", PathSLOInit)
	}
	x := e.confirmLogout(nf, form)
	if !cookieCleared(x) {
		t.Fatal("the session cookie was not cleared")
	}
	if reqs, errs := e.soap.requests(); len(reqs) != 1 || len(errs) != 0 {
		t.Fatalf("SOAP SP got %d requests, errors %v", len(reqs), errs)
	}
	el, relay, err := e.redirected(x, aSLO)
	must(t, err)
	req, err := e.checkLogoutRequest(el, aSLO, true)
	must(t, err)
	if req.NameID.Value != got[sloA].Assertion.Subject.NameID.Value {
		t.Fatalf("LogoutRequest to A names %+v", req.NameID)
	}
	x = e.sendResponseRedirect(nf, e.logoutResponse(e.sps[sloA], req.ID, e.mainURL+PathSLO, samlp.NewStatus(samlp.StatusSuccess, "")), relay, e.sps[sloA])
	el, relay, err = e.posted(x, bSLO)
	must(t, err)
	req, err = e.verifyLogoutRequest(el, bSLO)
	must(t, err)
	x = e.sendResponseRedirect(nf, e.logoutResponse(e.sps[sloB], req.ID, e.mainURL+PathSLO, samlp.NewStatus(samlp.StatusSuccess, "")), relay, e.sps[sloB])
	if x.Status != http.StatusOK || !strings.Contains(x.Body, "You are logged out") || strings.Contains(x.Body, "could not be reached") {
		t.Fatalf("final page %d %s", x.Status, x.Body)
	}
	for _, sp := range []string{sloA, sloB, sloSOAP} {
		must(t, e.sessionGone(sp, got[sp]))
	}
	t.Run("fail/no-session", func(t *testing.T) {
		noForm(t, e.get(nf, e.mainURL+PathSLOInit), http.StatusForbidden, "No session")
		noForm(t, e.postLogout(nf, url.Values{sloTokenField: {"x"}}, nil), http.StatusForbidden, "No session")
	})
	// refused checks that x logged nobody out: an error page, and the
	// session still answers.
	refused := func(t *testing.T, nf *http.Client, x exchange) {
		t.Helper()
		if x.Status != http.StatusForbidden || strings.Contains(x.Body, "<form") || x.Header.Get("Location") != "" || cookieCleared(x) {
			t.Fatalf("refused logout: HTTP %d, Location %q, body %s", x.Status, x.Header.Get("Location"), x.Body)
		}
		if _, _, err := e.redirected(e.confirmLogout(nf, e.get(nf, e.mainURL+PathSLOInit)), aSLO); err != nil {
			t.Fatalf("the session did not survive the refused logout: %v", err)
		}
	}
	t.Run("fail/post-without-token", func(t *testing.T) {
		_, nf, _ := e.session(sloA)
		refused(t, nf, e.postLogout(nf, url.Values{}, nil))
	})
	t.Run("fail/token-of-another-session", func(t *testing.T) {
		_, other, _ := e.session(sloA)
		_, vals, err := parseForm(e.get(other, e.mainURL+PathSLOInit).Body)
		must(t, err)
		_, nf, _ := e.session(sloA)
		refused(t, nf, e.postLogout(nf, vals, nil))
	})
	t.Run("fail/started-by-another-site", func(t *testing.T) {
		_, nf, _ := e.session(sloA)
		_, vals, err := parseForm(e.get(nf, e.mainURL+PathSLOInit).Body)
		must(t, err)
		refused(t, nf, e.postLogout(nf, vals, http.Header{"Sec-Fetch-Site": {"cross-site"}}))
	})
	t.Run("fail/wrong-in-response-to-is-partial", func(t *testing.T) {
		_, nf, _ := e.session(sloA)
		el, relay, err := e.redirected(e.confirmLogout(nf, e.get(nf, e.mainURL+PathSLOInit)), aSLO)
		must(t, err)
		if _, err := e.checkLogoutRequest(el, aSLO, true); err != nil {
			t.Fatal(err)
		}
		x := e.sendResponseRedirect(nf, e.logoutResponse(e.sps[sloA], "_not-sent", e.mainURL+PathSLO, samlp.NewStatus(samlp.StatusSuccess, "")), relay, e.sps[sloA])
		if x.Status != http.StatusOK || !strings.Contains(x.Body, "could not be reached") {
			t.Fatalf("final page %d %s", x.Status, x.Body)
		}
	})
}

// TestSLORefused: requests that break a rule of SAML2.md §5 get a
// LogoutResponse with the status of the error table, and the session
// lives on; an unknown SP gets a page and nothing is sent.
func TestSLORefused(t *testing.T) {
	e := newSLOEnv(t)
	_, nf, got := e.session(sloA, sloB)
	signer := redirectSigner(e.sps[sloA])
	base := func(id string) *samlp.LogoutRequest { return e.logoutRequestOf(sloA, got[sloA], id) }
	tests := []struct {
		name        string
		req         *samlp.LogoutRequest
		signer      *binding.RedirectSigner
		top, second string
	}{
		{name: "fail/unsigned", req: base("_neg-1"), top: samlp.StatusRequester, second: samlp.StatusRequestDenied},
		{name: "fail/wrong-session-index", req: func() *samlp.LogoutRequest {
			r := base("_neg-2")
			r.SessionIndexes = []string{"not-an-index"}
			return r
		}(), signer: signer, top: samlp.StatusRequester, second: samlp.StatusUnknownPrincipal},
		{name: "fail/wrong-nameid", req: func() *samlp.LogoutRequest {
			r := base("_neg-3")
			n := *r.NameID
			n.Value = "someone-else"
			r.NameID = &n
			return r
		}(), signer: signer, top: samlp.StatusRequester, second: samlp.StatusUnknownPrincipal},
		{name: "fail/other-sp-session-index", req: func() *samlp.LogoutRequest {
			r := base("_neg-4")
			r.SessionIndexes = []string{got[sloB].Assertion.AuthnStatements[0].SessionIndex}
			return r
		}(), signer: signer, top: samlp.StatusRequester, second: samlp.StatusUnknownPrincipal},
		{name: "fail/stale", req: func() *samlp.LogoutRequest {
			r := base("_neg-5")
			r.IssueInstant = e.now.Add(-DefaultSkew - time.Minute)
			return r
		}(), signer: signer, top: samlp.StatusRequester, second: samlp.StatusRequestDenied},
		{name: "fail/expired-not-on-or-after", req: func() *samlp.LogoutRequest {
			r := base("_neg-6")
			r.NotOnOrAfter = e.now
			return r
		}(), signer: signer, top: samlp.StatusRequester, second: samlp.StatusRequestDenied},
		{name: "fail/wrong-destination", req: func() *samlp.LogoutRequest {
			r := base("_neg-7")
			r.Destination = e.mainURL + PathSSO
			return r
		}(), signer: signer, top: samlp.StatusRequester, second: samlp.StatusRequestDenied},
		{name: "fail/signed-by-another-sp", req: base("_neg-8"), signer: redirectSigner(e.sps[terminalID]),
			top: samlp.StatusRequester, second: samlp.StatusRequestDenied},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x := e.sendRedirect(nf, tc.req, "rs", tc.signer)
			el, rs, err := e.redirected(x, aSLODone)
			must(t, err)
			must(t, wantLogoutResponse(el, tc.req.ID, aSLODone, tc.top, tc.second))
			if rs != "rs" || cookieCleared(x) {
				t.Fatalf("RelayState %q, cookie cleared %v", rs, cookieCleared(x))
			}
		})
	}
	t.Run("fail/non-participant", func(t *testing.T) {
		r := e.logoutRequestOf(sloA, got[sloA], "_neg-9")
		r.Issuer.Value = sloC
		x := e.sendRedirect(nf, r, "", redirectSigner(e.sps[sloC]))
		el, _, err := e.redirected(x, "https://c.example.org/sp/slo")
		must(t, err)
		must(t, wantLogoutResponse(el, "_neg-9", "https://c.example.org/sp/slo", samlp.StatusRequester, samlp.StatusUnknownPrincipal))
	})
	t.Run("fail/unknown-sp", func(t *testing.T) {
		r := e.logoutRequestOf(sloA, got[sloA], "_neg-10")
		r.Issuer.Value = "https://stranger.example.org/sp"
		noForm(t, e.sendRedirect(nf, r, "", signer), http.StatusBadRequest, "not known")
	})
	t.Run("fail/soap-unsigned", func(t *testing.T) {
		el, err := e.soapLogout(e.logoutRequestOf(sloA, got[sloA], "_neg-11"), false)
		must(t, err)
		must(t, wantLogoutResponse(el, "_neg-11", "", samlp.StatusRequester, samlp.StatusRequestDenied))
	})
	for _, sp := range []string{sloA, sloB} {
		if _, err := e.idp.SessionByIndex(ctx, sp, got[sp].Assertion.AuthnStatements[0].SessionIndex); err != nil {
			t.Fatalf("a refused request ended the session: %v", err)
		}
	}
	t.Run("fail/replayed", func(t *testing.T) {
		_, nf, got := e.session(sloA)
		u, err := binding.RedirectURL(e.mainURL+PathSLO, e.logoutRequestOf(sloA, got[sloA], "_neg-12").Element(), "", signer)
		must(t, err)
		el, _, err := e.redirected(e.get(nf, u), aSLODone)
		must(t, err)
		must(t, wantLogoutResponse(el, "_neg-12", aSLODone, samlp.StatusSuccess, ""))
		el, _, err = e.redirected(e.get(nf, u), aSLODone)
		must(t, err)
		must(t, wantLogoutResponse(el, "_neg-12", aSLODone, samlp.StatusRequester, samlp.StatusRequestDenied))
	})
}

// TestSLOMetadata: the served metadata lists the SingleLogoutService for
// HTTP-Redirect, HTTP-POST and SOAP.
func TestSLOMetadata(t *testing.T) {
	e := newSLOEnv(t)
	d := e.sso.Metadata(e.now).IDPSSO[0]
	for b, want := range map[string]string{samlp.BindingHTTPRedirect: e.mainURL + PathSLO,
		samlp.BindingHTTPPOST: e.mainURL + PathSLO, samlp.BindingSOAP: e.mainURL + PathSLOSOAP} {
		ep, err := d.SingleLogoutService(b)
		if err != nil || ep.Location != want {
			t.Fatalf("%s: %v %v", b, ep, err)
		}
	}
	if _, err := NewSLO(newSSOEnv(t, func(c *SSOConfig) { c.SLOURL, c.SLOSOAPURL = "", "" }).sso, SLOConfig{}); err == nil {
		t.Fatal("NewSLO accepted an SSO engine without SLO URLs")
	}
}

// TestSLOTwoNodes: the front-channel chain lives in the store, so a node
// other than the one that started it continues it: node A ends the session
// and sends the browser to B; B's LogoutResponse arrives at node B (same
// public SLO URL, as behind one load balancer), which answers A.
func TestSLOTwoNodes(t *testing.T) {
	e := newSLOEnv(t)
	n := e.sloSecondNode(t)
	_, nf, got := e.session(sloA, sloB)
	x := e.sendRedirect(nf, e.logoutRequestOf(sloA, got[sloA], "_slo-2n"), "rs-2n", redirectSigner(e.sps[sloA]))
	el, relay, err := e.posted(x, bSLO)
	must(t, err)
	req, err := e.verifyLogoutRequest(el, bSLO)
	must(t, err)
	resp := e.logoutResponse(e.sps[sloB], req.ID, e.mainURL+PathSLO, samlp.NewStatus(samlp.StatusSuccess, ""))
	u, err := binding.RedirectURL(n.mainURL+PathSLO, resp, relay, redirectSigner(e.sps[sloB]))
	must(t, err)
	el, rs, err := e.redirected(e.get(nf, u), aSLODone)
	must(t, err)
	must(t, wantLogoutResponse(el, "_slo-2n", aSLODone, samlp.StatusSuccess, ""))
	if rs != "rs-2n" {
		t.Fatalf("RelayState %q", rs)
	}
}

// TestSLOPOST: B logs out with an XML-signed LogoutRequest over
// HTTP-POST and is answered over HTTP-POST, the binding its metadata
// lists, after the SOAP participant was logged out.
func TestSLOPOST(t *testing.T) {
	e := newSLOEnv(t)
	_, nf, got := e.session(sloB, sloSOAP)
	req := e.logoutRequestOf(sloB, got[sloB], "_slo-post-1")
	el, err := samlp.Sign(req, spSigner(e.sps[sloB]))
	must(t, err)
	b, err := xmlsec.Serialize(el)
	must(t, err)
	form := url.Values{binding.ParamRequest: {base64.StdEncoding.EncodeToString(b)}, binding.ParamRelayState: {"rs-b"}}
	r, err := http.NewRequest(http.MethodPost, e.mainURL+PathSLO, strings.NewReader(form.Encode()))
	must(t, err)
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	out, rs, err := e.posted(e.do(nf, r), bSLO)
	must(t, err)
	verified, err := e.verifier.Verify(out)
	must(t, err)
	must(t, wantLogoutResponse(verified, "_slo-post-1", bSLO, samlp.StatusSuccess, ""))
	if rs != "rs-b" {
		t.Fatalf("RelayState %q", rs)
	}
	if reqs, _ := e.soap.requests(); len(reqs) != 1 {
		t.Fatalf("SOAP SP got %d requests", len(reqs))
	}
	must(t, e.sessionGone(sloB, got[sloB]))
}
