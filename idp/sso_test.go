package idp

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/binding"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/store"
)

// TestSSO drives complete Web SSO exchanges over the real listeners: an
// SP request, the redirect to the card listener, the card login and the
// response the SP accepts.
func TestSSO(t *testing.T) {
	e := newSSOEnv(t, nil)
	tests := []struct {
		name      string
		sp        string
		post      bool
		sign      bool
		policy    *samlp.NameIDPolicy
		encrypted bool
		bootstrap bool
		format    string
	}{
		{name: "ok/redirect/unsigned/plain/persistent", sp: otherSP, format: saml.NameIDPersistent},
		{name: "ok/redirect/signed/encrypted/bootstrap", sp: portalID, sign: true, encrypted: true, bootstrap: true, format: saml.NameIDPersistent},
		{name: "ok/post/signed/encrypted/bootstrap", sp: portalID, post: true, sign: true, encrypted: true, bootstrap: true, format: saml.NameIDPersistent},
		{name: "ok/post/unsigned/transient", sp: otherSP, post: true, policy: &samlp.NameIDPolicy{Format: saml.NameIDTransient}, format: saml.NameIDTransient},
		{name: "ok/post/signed-when-optional", sp: otherSP, post: true, sign: true, format: saml.NameIDPersistent},
		{name: "ok/redirect/sha1-allowed-by-quirk", sp: legacyID, sign: true, format: saml.NameIDPersistent},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sp := e.sps[tc.sp]
			req := e.newRequest(sp, "_req-sso-"+string(rune('a'+i)))
			req.NameIDPolicy = tc.policy
			c := e.browser(&e.Alice)
			var x exchange
			if tc.post {
				x = e.post(c, sp, req, "rs-"+tc.name[:6], tc.sign)
			} else {
				var s = redirectSigner(sp)
				if !tc.sign {
					s = nil
				} else if tc.sp == legacyID {
					s.SignatureMethod = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
					s.Policy.AllowSHA1 = true
				}
				x = e.redirect(c, req, "rs-"+tc.name[:6], s)
			}
			if x.URL.Path != PathLogin {
				t.Fatalf("answered at %s, want the card login", x.URL)
			}
			got, err := e.consume(sp, x, req.ID)
			must(t, err)
			a := got.Assertion
			if a == nil || got.Encrypted != tc.encrypted || got.RelayState != "rs-"+tc.name[:6] {
				t.Fatalf("received %+v", got)
			}
			if a.Subject.NameID.Format != tc.format || a.AuthnStatements[0].ClassRef != saml.ACSmartcardPKI || a.AuthnStatements[0].SessionIndex == "" {
				t.Fatalf("assertion %+v %+v", a.Subject.NameID, a.AuthnStatements[0])
			}
			if _, ok := a.Attribute(md.DiscoveryEPRAttribute); ok != tc.bootstrap {
				t.Fatalf("bootstrap present = %v, want %v", ok, tc.bootstrap)
			}
			csp := x.Header.Get("Content-Security-Policy")
			if !strings.Contains(csp, "form-action https://"+strings.Split(strings.TrimPrefix(sp.ACS, "https://"), "/")[0]) ||
				!strings.Contains(csp, "script-src 'self'") || strings.Contains(x.Body, "<script>") ||
				x.Header.Get("Cache-Control") != "no-store" || !strings.Contains(csp, "frame-ancestors 'none'") {
				t.Fatalf("headers %v", x.Header)
			}
			if !strings.Contains(x.Body, `src="`+PathPostJS+`"`) {
				t.Fatal("the form page does not load the served script")
			}
			if got.Response.Signed != tc.encrypted {
				t.Fatalf("response signed = %v; the choice is: signed exactly when the assertion is encrypted", got.Response.Signed)
			}
		})
	}
}

// TestPostScript: both listeners serve the auto-submit script the form
// pages load, so that their CSP needs no inline script.
func TestPostScript(t *testing.T) {
	e := newSSOEnv(t, nil)
	for _, base := range []string{e.mainURL, e.cardURL} {
		r, _ := http.NewRequest(http.MethodGet, base+PathPostJS, nil)
		x := e.do(e.browser(nil), r)
		if x.Status != http.StatusOK || x.Body != binding.AutoSubmitScript || !strings.HasPrefix(x.Header.Get("Content-Type"), "text/javascript") {
			t.Fatalf("%s: %d %q", base, x.Status, x.Body)
		}
	}
}

// TestSSOSession: a live session answers a second request without a
// login; ForceAuthn and IsPassive change that as SAML2.md §3.1 item 6 says.
func TestSSOSession(t *testing.T) {
	e := newSSOEnv(t, nil)
	sp := e.sps[otherSP]
	c := e.browser(&e.Alice)
	first, err := e.consume(sp, e.redirect(c, e.newRequest(sp, "_s1"), "", nil), "_s1")
	must(t, err)
	noCard := e.withJar(nil, c.Jar)

	t.Run("ok/second-sso-reuses-session", func(t *testing.T) {
		x := e.redirect(noCard, e.newRequest(sp, "_s2"), "", nil)
		if x.URL.Path != PathSSO {
			t.Fatalf("answered at %s: a login happened", x.URL)
		}
		got, err := e.consume(sp, x, "_s2")
		must(t, err)
		if got.Assertion.Subject.NameID.Value != first.Assertion.Subject.NameID.Value ||
			got.Assertion.AuthnStatements[0].SessionIndex != first.Assertion.AuthnStatements[0].SessionIndex {
			t.Fatal("the second assertion is not from the same session and federation")
		}
	})
	t.Run("ok/passive-with-session", func(t *testing.T) {
		req := e.newRequest(sp, "_s3")
		req.IsPassive = true
		got, err := e.consume(sp, e.redirect(noCard, req, "", nil), "_s3")
		must(t, err)
		if got.Assertion == nil {
			t.Fatal("no assertion")
		}
	})
	t.Run("ok/force-authn-logs-in-again", func(t *testing.T) {
		req := e.newRequest(sp, "_s4")
		req.ForceAuthn = true
		x := e.redirect(c, req, "", nil)
		if x.URL.Path != PathLogin {
			t.Fatalf("answered at %s without a login", x.URL)
		}
		_, err := e.consume(sp, x, "_s4")
		must(t, err)
	})
	t.Run("fail/passive-without-session", func(t *testing.T) {
		req := e.newRequest(sp, "_s5")
		req.IsPassive = true
		got, err := e.consume(sp, e.redirect(e.browser(&e.Alice), req, "", nil), "_s5")
		must(t, err)
		wantStatus(t, got, samlp.StatusResponder, samlp.StatusNoPassive)
	})
	t.Run("fail/force-and-passive", func(t *testing.T) {
		req := e.newRequest(sp, "_s6")
		req.IsPassive, req.ForceAuthn = true, true
		got, err := e.consume(sp, e.redirect(noCard, req, "", nil), "_s6")
		must(t, err)
		wantStatus(t, got, samlp.StatusResponder, samlp.StatusNoPassive)
	})
}

func wantStatus(t testing.TB, got *received, top, second string) {
	t.Helper()
	st := got.Response.Status
	if st.Code.Value != top || st.Second() != second || got.Assertion != nil {
		t.Fatalf("status %s/%s, want %s/%s", st.Code.Value, st.Second(), top, second)
	}
}

// TestSSOAuthnContext: RequestedAuthnContext over the order X509 <
// SmartcardPKI (SAML2.md §3.1 item 7).
func TestSSOAuthnContext(t *testing.T) {
	e := newSSOEnv(t, nil)
	sp := e.sps[otherSP]
	tests := []struct {
		name       string
		card       *cardHolder
		comparison string
		refs       []string
		want       string // class issued, "" for NoAuthnContext
	}{
		{"ok/exact-smartcard", &e.Alice, samlp.ComparisonExact, []string{saml.ACSmartcardPKI}, saml.ACSmartcardPKI},
		{"ok/minimum-x509-card", &e.Alice, samlp.ComparisonMinimum, []string{saml.ACX509}, saml.ACSmartcardPKI},
		{"ok/maximum-smartcard", &e.Alice, samlp.ComparisonMaximum, []string{saml.ACSmartcardPKI}, saml.ACSmartcardPKI},
		{"ok/better-x509", &e.Alice, samlp.ComparisonBetter, []string{saml.ACX509}, saml.ACSmartcardPKI},
		{"ok/soft-exact-x509", &e.Soft, samlp.ComparisonExact, []string{saml.ACX509}, saml.ACX509},
		{"fail/soft-minimum-smartcard", &e.Soft, samlp.ComparisonMinimum, []string{saml.ACSmartcardPKI}, ""},
		{"fail/maximum-x509-card", &e.Alice, samlp.ComparisonMaximum, []string{saml.ACX509}, ""},
		{"fail/better-smartcard", &e.Alice, samlp.ComparisonBetter, []string{saml.ACSmartcardPKI}, ""},
		{"fail/exact-password", &e.Alice, samlp.ComparisonExact, []string{"urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"}, ""},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := e.newRequest(sp, "_rac-"+string(rune('a'+i)))
			req.RequestedAuthnContext = &samlp.RequestedAuthnContext{Comparison: tc.comparison, ClassRefs: tc.refs}
			got, err := e.consume(sp, e.redirect(e.browser(tc.card), req, "", nil), req.ID)
			must(t, err)
			if tc.want == "" {
				wantStatus(t, got, samlp.StatusResponder, samlp.StatusNoAuthnContext)
				return
			}
			if got.Assertion == nil || got.Assertion.AuthnStatements[0].ClassRef != tc.want {
				t.Fatalf("received %+v", got.Response.Status)
			}
		})
	}
}

// TestSSOIdPInitiated: only SPs the configuration lists get unsolicited
// responses (SAML2.md §3.4).
func TestSSOIdPInitiated(t *testing.T) {
	e := newSSOEnv(t, nil)
	t.Run("ok/listed", func(t *testing.T) {
		r, _ := http.NewRequest(http.MethodGet, e.mainURL+PathSSOInit+"?sp="+otherSP+"&RelayState=%2Fhome", nil)
		got, err := e.consume(e.sps[otherSP], e.do(e.browser(&e.Alice), r), "")
		must(t, err)
		if got.Assertion == nil || got.RelayState != "/home" {
			t.Fatalf("received %+v", got)
		}
	})
	t.Run("fail/not-listed", func(t *testing.T) {
		r, _ := http.NewRequest(http.MethodGet, e.mainURL+PathSSOInit+"?sp="+portalID, nil)
		noForm(t, e.do(e.browser(&e.Alice), r), http.StatusBadRequest, "not known")
	})
}

// TestSSORefused: every request that must not be answered normally.
func TestSSORefused(t *testing.T) {
	e := newSSOEnv(t, nil)
	portal, other := e.sps[portalID], e.sps[otherSP]
	c := e.browser(&e.Alice)
	t.Run("fail/unknown-sp", func(t *testing.T) {
		req := e.newRequest(&testSP{ID: "https://stranger.example.org/sp", ACS: otherACS}, "_u1")
		noForm(t, e.redirect(c, req, "", nil), http.StatusBadRequest, "not known")
	})
	t.Run("fail/acs-not-in-metadata", func(t *testing.T) {
		req := e.newRequest(other, "_u2")
		req.AssertionConsumerServiceURL = "https://attacker.example.net/acs"
		noForm(t, e.redirect(c, req, "", nil), http.StatusBadRequest, "not registered")
	})
	t.Run("fail/acs-index-not-in-metadata", func(t *testing.T) {
		req := e.newRequest(other, "_u2b")
		req.AssertionConsumerServiceURL, req.ProtocolBinding = "", ""
		i := uint16(7)
		req.AssertionConsumerServiceIndex = &i
		noForm(t, e.redirect(c, req, "", nil), http.StatusBadRequest, "not registered")
	})
	t.Run("fail/javascript-acs-in-metadata", func(t *testing.T) {
		req := e.newRequest(e.sps[evilID], "_u3")
		req.AssertionConsumerServiceURL, req.ProtocolBinding = "", ""
		x := e.redirect(c, req, "", nil)
		noForm(t, x, http.StatusBadRequest, "not registered")
		if strings.Contains(x.Body, "javascript") {
			t.Fatal("the page echoes the ACS")
		}
	})
	deny := func(t *testing.T, x exchange, id string) {
		t.Helper()
		got, err := e.consume(portal, x, id)
		must(t, err)
		wantStatus(t, got, samlp.StatusRequester, samlp.StatusRequestDenied)
	}
	t.Run("fail/missing-signature-redirect", func(t *testing.T) {
		deny(t, e.redirect(c, e.newRequest(portal, "_u4"), "", nil), "_u4")
	})
	t.Run("fail/missing-signature-post", func(t *testing.T) {
		deny(t, e.post(c, portal, e.newRequest(portal, "_u5"), "", false), "_u5")
	})
	t.Run("fail/bad-signature-redirect", func(t *testing.T) {
		deny(t, e.redirect(c, e.newRequest(portal, "_u6"), "", redirectSigner(e.sps[legacyID])), "_u6")
	})
	t.Run("fail/bad-signature-post", func(t *testing.T) {
		wrongKey := *portal
		wrongKey.Key = e.sps[legacyID].Key
		deny(t, e.post(c, &wrongKey, e.newRequest(portal, "_u7"), "", true), "_u7")
	})
	t.Run("fail/sha1-not-allowed", func(t *testing.T) {
		s := redirectSigner(portal)
		s.SignatureMethod, s.Policy.AllowSHA1 = "http://www.w3.org/2000/09/xmldsig#rsa-sha1", true
		deny(t, e.redirect(c, e.newRequest(portal, "_u8"), "", s), "_u8")
	})
	t.Run("fail/replayed-request-id", func(t *testing.T) {
		req := e.newRequest(portal, "_u9")
		_, err := e.consume(portal, e.redirect(c, req, "", redirectSigner(portal)), "_u9")
		must(t, err)
		deny(t, e.redirect(c, req, "", redirectSigner(portal)), "_u9")
	})
	t.Run("fail/stale-issue-instant", func(t *testing.T) {
		req := e.newRequest(portal, "_u10")
		req.IssueInstant = e.now.Add(-10 * time.Minute)
		deny(t, e.redirect(c, req, "", redirectSigner(portal)), "_u10")
	})
	t.Run("fail/wrong-destination", func(t *testing.T) {
		req := e.newRequest(portal, "_u11")
		req.Destination = "https://idp.example.org/other"
		deny(t, e.redirect(c, req, "", redirectSigner(portal)), "_u11")
	})
	t.Run("fail/allow-create-false-without-federation", func(t *testing.T) {
		legacy := e.sps[legacyID]
		req := e.newRequest(legacy, "_u13")
		req.NameIDPolicy = &samlp.NameIDPolicy{Format: saml.NameIDPersistent, AllowCreate: false}
		got, err := e.consume(legacy, e.redirect(c, req, "", redirectSigner(legacy)), "_u13")
		must(t, err)
		wantStatus(t, got, samlp.StatusRequester, samlp.StatusInvalidNameIDPolicy)
	})
	t.Run("fail/bootstrap-without-encryption-key", func(t *testing.T) {
		noEnc := e.sps[noEncID]
		got, err := e.consume(noEnc, e.redirect(c, e.newRequest(noEnc, "_u14"), "", nil), "_u14")
		must(t, err)
		wantStatus(t, got, samlp.StatusResponder, "")
	})
	t.Run("fail/unsupported-nameid-format", func(t *testing.T) {
		req := e.newRequest(other, "_u12")
		req.NameIDPolicy = &samlp.NameIDPolicy{Format: "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"}
		got, err := e.consume(other, e.redirect(c, req, "", nil), "_u12")
		must(t, err)
		wantStatus(t, got, samlp.StatusRequester, samlp.StatusInvalidNameIDPolicy)
	})
}

// TestSSOHostile: bodies and messages built to exhaust the server get a
// clear error with bounded memory.
func TestSSOHostile(t *testing.T) {
	e := newSSOEnv(t, nil)
	c := e.browser(&e.Alice)
	t.Run("fail/deflate-bomb", func(t *testing.T) {
		r, _ := http.NewRequest(http.MethodGet, e.mainURL+PathSSO+"?SAMLRequest="+deflateBomb(t), nil)
		noForm(t, e.do(c, r), http.StatusBadRequest, "once decompressed")
	})
	t.Run("fail/oversized-post", func(t *testing.T) {
		body := "SAMLRequest=" + strings.Repeat("A", DefaultMaxBody+10)
		noForm(t, e.postForm(c, body), http.StatusRequestEntityTooLarge, "too large")
	})
	t.Run("fail/not-base64", func(t *testing.T) {
		noForm(t, e.postForm(c, "SAMLRequest=%%%"), http.StatusBadRequest, "malformed")
	})
	t.Run("fail/revoked-card", func(t *testing.T) {
		x := e.redirect(e.browser(&e.Revoked), e.newRequest(e.sps[otherSP], "_h1"), "", nil)
		noForm(t, x, http.StatusForbidden, "revoked")
	})
	t.Run("fail/no-card", func(t *testing.T) {
		x := e.redirect(e.browser(nil), e.newRequest(e.sps[otherSP], "_h2"), "", nil)
		noForm(t, x, http.StatusForbidden, "No card was presented")
	})
	t.Run("fail/login-handle-used-twice", func(t *testing.T) {
		x := e.redirect(c, e.newRequest(e.sps[otherSP], "_h3"), "", nil)
		if _, err := e.consume(e.sps[otherSP], x, "_h3"); err != nil {
			t.Fatal(err)
		}
		r, _ := http.NewRequest(http.MethodGet, x.URL.String(), nil)
		noForm(t, e.do(c, r), http.StatusBadRequest, "already used")
	})
	t.Run("fail/schema-invalid", func(t *testing.T) {
		other := e.sps[otherSP]
		got, err := e.consume(other, e.post(c, other, e.newRequest(other, "not an NCName"), "", false), "")
		must(t, err)
		wantStatus(t, got, samlp.StatusRequester, "")
	})
}

// TestSSOJoinsSPAndDS: an SSO with a discovery bootstrap joins the SP and
// the DS to the session together: the assertion's SessionIndex is the
// SP's, the DS token's is the DS's, and the DS's NameID there is the one
// its token names. A bootstrap that cannot be made (the principal's
// federation with the DS terminated) joins neither.
func TestSSOJoinsSPAndDS(t *testing.T) {
	e := newSSOEnv(t, nil)
	portal := e.sps[portalID]
	c := e.browser(&e.Alice)
	got, err := e.consume(portal, e.redirect(c, e.newRequest(portal, "_j1"), "", redirectSigner(portal)), "_j1")
	must(t, err)
	index := got.Assertion.AuthnStatements[0].SessionIndex
	sess, err := e.db.SessionByIndex(ctx, portalID, index)
	must(t, err)
	tok, err := dsChecker(t, dsID).Check(ctx, bootstrapToken(t, got.Signed), e.now, false)
	must(t, err)
	parts := map[string]store.Participant{}
	for _, p := range sess.Participants {
		parts[p.ProviderID] = p
	}
	sp, ds := parts[portalID], parts[dsID]
	if len(parts) != 2 || sp.NameID != got.Assertion.Subject.NameID.Value ||
		ds.SessionIndex != tok.Assertion.AuthnStatements[0].SessionIndex || ds.NameID != tok.Subject.Value || ds.SessionIndex == index {
		t.Fatalf("participants %+v; assertion index %q, DS token index %q subject %q", sess.Participants, index,
			tok.Assertion.AuthnStatements[0].SessionIndex, tok.Subject.Value)
	}

	t.Run("fail/bootstrap-impossible-joins-neither", func(t *testing.T) {
		_, err := e.db.UpdateFederation(ctx, "p-alice", dsID, func(cur store.Federation) (store.Federation, error) {
			cur.Terminated = e.now
			return cur, nil
		})
		must(t, err)
		// A new browser logs in at another SP first: a session the
		// portal has not joined.
		c2 := e.browser(&e.Alice)
		other := e.sps[otherSP]
		first, err := e.consume(other, e.redirect(c2, e.newRequest(other, "_j2"), "", nil), "_j2")
		must(t, err)
		s2, err := e.db.SessionByIndex(ctx, otherSP, first.Assertion.AuthnStatements[0].SessionIndex)
		must(t, err)
		before, err := e.db.Session(ctx, s2.ID)
		must(t, err)
		got, err := e.consume(portal, e.redirect(c2, e.newRequest(portal, "_j3"), "", redirectSigner(portal)), "_j3")
		must(t, err)
		wantStatus(t, got, samlp.StatusResponder, "")
		after, err := e.db.Session(ctx, s2.ID)
		must(t, err)
		if len(before.Participants) != 1 || !reflect.DeepEqual(after.Participants, before.Participants) {
			t.Fatalf("a failed bootstrap changed the participants:\n%+v\nto\n%+v", before.Participants, after.Participants)
		}
	})
}

// TestCardLoginSession: a card login's session is stored with the SP (and
// the DS of a bootstrap) as its first participants; a card login whose
// answer fails (NoAuthnContext) still opens the session, so the next
// request of the same browser is answered from it without a login.
func TestCardLoginSession(t *testing.T) {
	e := newSSOEnv(t, nil)
	portal := e.sps[portalID]
	got, err := e.consume(portal, e.redirect(e.browser(&e.Alice), e.newRequest(portal, "_cl1"), "", redirectSigner(portal)), "_cl1")
	must(t, err)
	sess, err := e.db.SessionByIndex(ctx, portalID, got.Assertion.AuthnStatements[0].SessionIndex)
	must(t, err)
	if len(sess.Participants) != 2 || sess.Participants[0].ProviderID == sess.Participants[1].ProviderID {
		t.Fatalf("a card login's session holds %+v, want the portal and the DS", sess.Participants)
	}

	sp := e.sps[otherSP]
	c := e.browser(&e.Alice)
	req := e.newRequest(sp, "_cl2")
	// At most X509: satisfiable by a soft certificate, not by the card.
	req.RequestedAuthnContext = &samlp.RequestedAuthnContext{Comparison: samlp.ComparisonMaximum, ClassRefs: []string{saml.ACX509}}
	x := e.redirect(c, req, "", nil)
	if x.URL.Path != PathLogin {
		t.Fatalf("answered at %s, want the card login", x.URL)
	}
	failed, err := e.consume(sp, x, "_cl2")
	must(t, err)
	wantStatus(t, failed, samlp.StatusResponder, samlp.StatusNoAuthnContext)
	next := e.redirect(e.withJar(nil, c.Jar), e.newRequest(sp, "_cl3"), "", nil)
	if next.URL.Path != PathSSO {
		t.Fatalf("answered at %s: the failed answer's login opened no session", next.URL)
	}
	ok, err := e.consume(sp, next, "_cl3")
	must(t, err)
	if ok.Assertion == nil || ok.Assertion.AuthnStatements[0].ClassRef != saml.ACSmartcardPKI {
		t.Fatalf("received %+v", ok.Response.Status)
	}
}

// sessionWrites counts the session writes of the IdP under test; when
// failJoined is set, a CreateSession with participants is stored and then
// reported failed, as a connection lost at COMMIT reports it.
type sessionWrites struct {
	store.SessionStore
	creates, updates atomic.Int64
	failJoined       atomic.Bool
}

func (w *sessionWrites) CreateSession(ctx context.Context, s store.Session) error {
	w.creates.Add(1)
	err := w.SessionStore.CreateSession(ctx, s)
	if err == nil && len(s.Participants) > 0 && w.failJoined.Load() {
		return errors.New("connection lost at COMMIT")
	}
	return err
}

func (w *sessionWrites) UpdateSession(ctx context.Context, id string, fn func(store.Session) (store.Session, error)) (store.Session, error) {
	w.updates.Add(1)
	return w.SessionStore.UpdateSession(ctx, id, fn)
}

// TestCardLoginSessionWrites: a card login with a bootstrap writes its
// session once (the SP and the DS stored with it), an SSO in the session
// once (their join); a session write that committed but was reported
// failed still gives the browser its session.
func TestCardLoginSessionWrites(t *testing.T) {
	w := &sessionWrites{}
	e := newSSOEnvWith(t, func(c *Config) {
		if w.SessionStore == nil {
			w.SessionStore = c.Sessions
		}
		c.Sessions = w
	}, nil)
	portal := e.sps[portalID]
	c := e.browser(&e.Alice)
	_, err := e.consume(portal, e.redirect(c, e.newRequest(portal, "_w1"), "", redirectSigner(portal)), "_w1")
	must(t, err)
	if cr, up := w.creates.Load(), w.updates.Load(); cr != 1 || up != 0 {
		t.Fatalf("card login: %d creates, %d updates of the session; want 1 and 0", cr, up)
	}
	_, err = e.consume(portal, e.redirect(e.withJar(nil, c.Jar), e.newRequest(portal, "_w2"), "", redirectSigner(portal)), "_w2")
	must(t, err)
	if cr, up := w.creates.Load(), w.updates.Load(); cr != 1 || up != 1 {
		t.Fatalf("SSO in the session: %d creates, %d updates in all; want 1 and 1", cr, up)
	}

	t.Run("ok/committed-but-reported-failed", func(t *testing.T) {
		w.failJoined.Store(true)
		defer w.failJoined.Store(false)
		c := e.browser(&e.Alice)
		got, err := e.consume(portal, e.redirect(c, e.newRequest(portal, "_w3"), "", redirectSigner(portal)), "_w3")
		must(t, err)
		wantStatus(t, got, samlp.StatusResponder, "")
		w.failJoined.Store(false)
		next := e.redirect(e.withJar(nil, c.Jar), e.newRequest(portal, "_w4"), "", redirectSigner(portal))
		if next.URL.Path != PathSSO {
			t.Fatalf("answered at %s: the browser was given no session", next.URL)
		}
		ok, err := e.consume(portal, next, "_w4")
		must(t, err)
		if ok.Assertion == nil {
			t.Fatalf("received %+v", ok.Response.Status)
		}
	})
}
