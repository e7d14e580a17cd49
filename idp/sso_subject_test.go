package idp

import (
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/store"
)

// TestSSORequestedSubject: an AuthnRequest whose saml:Subject names a
// principal gets an assertion about that principal or none (SAML Core
// §3.4.1.4): Alice's session does not answer a request for Bob; the IdP
// asks for a login instead, and Alice's card login then fails with
// Responder/AuthnFailed; a passive request fails at once; a NameID that
// names nobody is Requester/UnknownPrincipal; a request for Alice is
// answered from her session.
func TestSSORequestedSubject(t *testing.T) {
	e := newSSOEnv(t, nil)
	sp := e.sps[otherSP]
	must(t, e.db.CreateFederation(ctx, store.Federation{PrincipalID: "p-bob", ProviderID: otherSP, NameID: "bob-at-other", Created: e.now}))
	jar, err := cookiejar.New(nil)
	must(t, err)
	c := e.withJar(&e.Alice, jar)
	alice := e.loginAt(t, otherSP, "_subj-0") // a federation for Alice
	_, err = e.consume(sp, e.redirect(c, e.newRequest(sp, "_subj-1"), "", nil), "_subj-1")
	must(t, err) // Alice's browser session
	nf := e.withJar(nil, jar)
	nf.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	asking := func(id, nameID string, passive bool) *samlp.AuthnRequest {
		r := e.newRequest(sp, id)
		r.Subject = &saml.Subject{NameID: &saml.NameID{Value: nameID, Format: saml.NameIDPersistent}}
		r.IsPassive = passive
		return r
	}
	t.Run("ok/subject-of-the-session", func(t *testing.T) {
		got, err := e.consume(sp, e.redirect(nf, asking("_subj-2", alice.Value, false), "", nil), "_subj-2")
		must(t, err)
		if got.Assertion == nil || got.Assertion.Subject.NameID.Value != alice.Value {
			t.Fatalf("status %+v, want Alice's assertion", got.Response.Status)
		}
	})
	t.Run("fail/subject-of-another-principal-asks-for-a-login", func(t *testing.T) {
		x := e.redirect(nf, asking("_subj-3", "bob-at-other", false), "", nil)
		if x.Status != http.StatusSeeOther || !strings.HasPrefix(x.Header.Get("Location"), e.cardURL+PathLogin+"?") {
			t.Fatalf("HTTP %d to %q, want the card login; body %s", x.Status, x.Header.Get("Location"), x.Body)
		}
	})
	t.Run("fail/login-as-another-principal-is-authn-failed", func(t *testing.T) {
		got, err := e.consume(sp, e.redirect(c, asking("_subj-4", "bob-at-other", false), "", nil), "_subj-4")
		must(t, err)
		wantStatus(t, got, samlp.StatusResponder, samlp.StatusAuthnFailed)
	})
	t.Run("fail/passive-for-another-principal", func(t *testing.T) {
		got, err := e.consume(sp, e.redirect(nf, asking("_subj-5", "bob-at-other", true), "", nil), "_subj-5")
		must(t, err)
		wantStatus(t, got, samlp.StatusResponder, samlp.StatusAuthnFailed)
	})
	t.Run("fail/subject-names-nobody", func(t *testing.T) {
		got, err := e.consume(sp, e.redirect(nf, asking("_subj-6", "nobody", false), "", nil), "_subj-6")
		must(t, err)
		wantStatus(t, got, samlp.StatusRequester, samlp.StatusUnknownPrincipal)
	})
}
