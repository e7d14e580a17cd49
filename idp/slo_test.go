package idp

import (
	"net/http"
	"testing"

	"github.com/renkei-idwsf/renkei/saml/samlp"
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
