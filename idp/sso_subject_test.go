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
// answered from her session. The assertion's Subject strongly matches the
// request's (SAML Core §3.3.4): a persistent Subject gets that persistent
// NameID back, a transient one the SP holds in this session that transient
// NameID, whatever NameIDPolicy omits; a policy of another format than the
// Subject's is Requester/InvalidNameIDPolicy.
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
	withPolicy := func(r *samlp.AuthnRequest, format string) *samlp.AuthnRequest {
		r.NameIDPolicy = &samlp.NameIDPolicy{Format: format, AllowCreate: true}
		return r
	}
	nameID := func(t *testing.T, r *samlp.AuthnRequest) *saml.NameID {
		t.Helper()
		got, err := e.consume(sp, e.redirect(nf, r, "", nil), r.ID)
		must(t, err)
		if got.Assertion == nil || got.Assertion.Subject.NameID == nil {
			t.Fatalf("status %+v, want an assertion with a NameID", got.Response.Status)
		}
		return got.Assertion.Subject.NameID
	}
	t.Run("ok/persistent-subject-is-the-nameid", func(t *testing.T) {
		for i, policy := range []string{"", saml.NameIDPersistent, saml.NameIDUnspecified} {
			id := "_subj-p" + string(rune('0'+i))
			r := asking(id, alice.Value, false)
			if policy != "" {
				r = withPolicy(r, policy)
			}
			got := nameID(t, r)
			if got.Value != alice.Value || got.Format != saml.NameIDPersistent || got.SPNameQualifier != sp.ID {
				t.Fatalf("policy %q: NameID %+v, want Alice's persistent %q", policy, got, alice.Value)
			}
		}
	})
	t.Run("ok/transient-subject-of-the-session-is-the-nameid", func(t *testing.T) {
		held := nameID(t, withPolicy(e.newRequest(sp, "_subj-t0"), saml.NameIDTransient))
		if held.Format != saml.NameIDTransient {
			t.Fatalf("NameID %+v, want a transient one", held)
		}
		for i, policy := range []string{"", saml.NameIDTransient, saml.NameIDUnspecified} {
			id := "_subj-t" + string(rune('1'+i))
			r := e.newRequest(sp, id)
			r.Subject = &saml.Subject{NameID: &saml.NameID{Value: held.Value, Format: saml.NameIDTransient}}
			if policy != "" {
				r = withPolicy(r, policy)
			}
			got := nameID(t, r)
			if got.Value != held.Value || got.Format != saml.NameIDTransient {
				t.Fatalf("policy %q: NameID %+v, want the transient %q the SP holds", policy, got, held.Value)
			}
		}
	})
	t.Run("fail/subject-format-conflicts-with-policy", func(t *testing.T) {
		got, err := e.consume(sp, e.redirect(nf, withPolicy(asking("_subj-c0", alice.Value, false), saml.NameIDTransient), "", nil), "_subj-c0")
		must(t, err)
		wantStatus(t, got, samlp.StatusRequester, samlp.StatusInvalidNameIDPolicy)
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
