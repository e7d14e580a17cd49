package idp

import (
	"net/http"
	"testing"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/samlp"
)

// dsSessionIndex returns the SessionIndex of the DS token in the bootstrap
// of the decrypted assertion el, as the DS reads it.
func dsSessionIndex(t *testing.T, e *sloEnv, got *received) string {
	t.Helper()
	tok, err := dsChecker(t, dsID).Check(ctx, bootstrapToken(t, got.Signed), e.now, false)
	must(t, err)
	as := tok.Assertion.AuthnStatements
	if len(as) != 1 || as[0].SessionIndex == "" {
		t.Fatalf("DS token AuthnStatements %+v: no SessionIndex", as)
	}
	return as[0].SessionIndex
}

// TestECPSessionLogout: an ECP login opens an IdP session that lasts
// ECPLifetime; its assertion carries the terminal's SessionIndex and its
// DS token the DS's; the terminal's signed SOAP LogoutRequest with that
// SessionIndex ends the session and reaches a participant with a SOAP
// SingleLogoutService (here standing for a WSP the DS joined), and the DS,
// which reads the shared store, is not sent one.
func TestECPSessionLogout(t *testing.T) {
	e := newSLOEnv(t)
	term := e.sps[terminalID]
	status, body := e.ssoEnv.soap(e.browser(&e.Alice), e.ecpRequest(term, "_ecpslo1"))
	if status != http.StatusOK {
		t.Fatalf("ECP: HTTP %d: %s", status, body)
	}
	got := e.ecpAnswer(term, body, "_ecpslo1")
	st := got.Assertion.AuthnStatements[0]
	if st.SessionIndex == "" || !st.SessionNotOnOrAfter.Equal(e.now.Add(DefaultECPLifetime)) {
		t.Fatalf("ECP AuthnStatement SessionIndex %q SessionNotOnOrAfter %v, want one and %v",
			st.SessionIndex, st.SessionNotOnOrAfter, e.now.Add(DefaultECPLifetime))
	}
	sess, err := e.idp.SessionByIndex(ctx, terminalID, st.SessionIndex)
	must(t, err)
	if !sess.Expires.Equal(e.now.Add(DefaultECPLifetime)) {
		t.Fatalf("ECP session ends %v, want %v", sess.Expires, e.now.Add(DefaultECPLifetime))
	}
	dsIndex := dsSessionIndex(t, e, got)
	viaDS, err := e.idp.SessionByIndex(ctx, dsID, dsIndex)
	must(t, err)
	if viaDS.ID != sess.ID || dsIndex == st.SessionIndex {
		t.Fatalf("DS SessionIndex %q names session %s, terminal's %q names %s", dsIndex, viaDS.ID, st.SessionIndex, sess.ID)
	}
	wspIndex, err := e.idp.Join(ctx, sess.ID, sloSOAP, &saml.NameID{Value: "alice-at-wsp", Format: saml.NameIDPersistent}, e.now)
	must(t, err)

	el, err := e.soapLogout(e.logoutRequestOf(terminalID, got, "_ecpslo-out"), true)
	must(t, err)
	must(t, wantLogoutResponse(el, "_ecpslo-out", "", samlp.StatusSuccess, ""))
	must(t, e.sessionGone(terminalID, got))
	if _, err := e.idp.SessionByIndex(ctx, dsID, dsIndex); CodeOf(err) != CodeNoSession {
		t.Fatalf("DS's SessionIndex after logout: %v, want no session", err)
	}
	reqs, errs := e.soap.requests()
	if len(errs) > 0 || len(reqs) != 1 || len(reqs[0].SessionIndexes) != 1 || reqs[0].SessionIndexes[0] != wspIndex ||
		reqs[0].NameID == nil || reqs[0].NameID.Value != "alice-at-wsp" {
		t.Fatalf("SOAP participant got %+v (errors %v), want one LogoutRequest for %q", reqs, errs, wspIndex)
	}
}

// TestBrowserBootstrapJoinsDS: the DS token of a browser SSO's bootstrap
// carries the DS's own SessionIndex in the portal's session, and the
// portal's logout ends it with Success: the DS is not a participant that
// must be sent a LogoutRequest.
func TestBrowserBootstrapJoinsDS(t *testing.T) {
	e := newSLOEnv(t)
	portal := e.sps[portalID]
	p, err := e.consume(portal, e.redirect(e.browser(&e.Alice), e.newRequest(portal, "_bootslo-in"), "", redirectSigner(portal)), "_bootslo-in")
	must(t, err)
	dsIndex := dsSessionIndex(t, e, p)
	viaDS, err := e.idp.SessionByIndex(ctx, dsID, dsIndex)
	must(t, err)
	viaPortal, err := e.idp.SessionByIndex(ctx, portalID, p.Assertion.AuthnStatements[0].SessionIndex)
	must(t, err)
	if viaDS.ID != viaPortal.ID {
		t.Fatal("the DS's SessionIndex names another session than the portal's")
	}
	if part, ok := viaDS.Participant(dsID); !ok || part.NameIDFormat != saml.NameIDPersistent {
		t.Fatalf("DS participant %+v, %v", part, ok)
	}
	el, err := e.soapLogout(e.logoutRequestOf(portalID, p, "_bootslo-out"), true)
	must(t, err)
	must(t, wantLogoutResponse(el, "_bootslo-out", "", samlp.StatusSuccess, ""))
	if _, err := e.idp.SessionByIndex(ctx, dsID, dsIndex); CodeOf(err) != CodeNoSession {
		t.Fatalf("DS's SessionIndex after logout: %v, want no session", err)
	}
}
