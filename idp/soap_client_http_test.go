package idp

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/store"
)

// movedPath is where a redirecting test peer sends the IdP's SOAP request.
const movedPath = "/moved"

// redirecting answers every request but those at movedPath with a 307
// (which a client that follows it re-posts, body and all) and counts what
// reaches movedPath before next serves it.
type redirecting struct {
	next  http.Handler
	moved atomic.Int32
}

func (h *redirecting) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != movedPath {
		http.Redirect(w, r, movedPath, http.StatusTemporaryRedirect)
		return
	}
	h.moved.Add(1)
	h.next.ServeHTTP(w, r)
}

// wantRedirectRefused checks that err names the refused redirect.
func wantRedirectRefused(t *testing.T, err error) {
	t.Helper()
	wantErr(t, err, ErrInternal)
	if !strings.Contains(err.Error(), "redirect (HTTP 307") {
		t.Fatalf("error does not say the redirect was refused: %v", err)
	}
}

// TestNIMTerminateRefusesRedirect: an SP's ManageNameIDService answering
// 307 fails the IdP-initiated Terminate, and the signed request is not
// posted to where the redirect points, although the configured client
// would follow it.
func TestNIMTerminateRefusesRedirect(t *testing.T) {
	h := &nimSP{t: t}
	h.status.Store(samlp.StatusSuccess)
	trap := &redirecting{next: h}
	srv := httptest.NewTLSServer(trap)
	t.Cleanup(srv.Close)
	e := newNIMEnv(t, srv.URL+"/nim", srv.Client())
	h.e = e
	e.loginAt(t, otherSP, "_it-redirect")

	wantRedirectRefused(t, e.sso.TerminateFederation(ctx, "p-alice", otherSP, e.now))
	if n := trap.moved.Load(); n != 0 || h.got.Load() != nil {
		t.Fatalf("the request was re-posted %d times after the redirect", n)
	}
}

// TestSLOBackChannelRefusesRedirect: a SOAP SingleLogoutService answering
// 307 fails the back-channel LogoutRequest (the logout is partial), and
// the signed request is not posted to where the redirect points, although
// the configured client would follow it.
func TestSLOBackChannelRefusesRedirect(t *testing.T) {
	t.Run("fail/back-channel-call", func(t *testing.T) {
		e := newSLOEnv(t)
		e.soap.Redirect.Store(true)
		sp, err := e.sso.lookupSP(sloSOAP, e.now)
		must(t, err)
		p := store.Participant{ProviderID: sloSOAP, SessionIndex: "_sidx-redirect", NameID: "nid-redirect", NameIDFormat: saml.NameIDPersistent}
		wantRedirectRefused(t, e.h.SLO.backChannel(ctx, p, sp, e.soap.srv.URL+"/slo", e.now))
		if reqs, errs := e.soap.requests(); len(reqs)+len(errs) != 0 {
			t.Fatalf("the request was re-posted after the redirect: %d requests, errors %v", len(reqs), errs)
		}
	})
	t.Run("fail/logout-partial", func(t *testing.T) {
		e := newSLOEnv(t)
		e.soap.Redirect.Store(true)
		_, nf, got := e.session(sloA, sloSOAP)
		x := e.sendRedirect(nf, e.logoutRequestOf(sloA, got[sloA], "_slo-redirect-1"), "", redirectSigner(e.sps[sloA]))
		el, _, err := e.redirected(x, aSLODone)
		must(t, err)
		must(t, wantLogoutResponse(el, "_slo-redirect-1", aSLODone, samlp.StatusResponder, samlp.StatusPartialLogout))
		if reqs, errs := e.soap.requests(); len(reqs)+len(errs) != 0 {
			t.Fatalf("the request was re-posted after the redirect: %d requests, errors %v", len(reqs), errs)
		}
	})
}
