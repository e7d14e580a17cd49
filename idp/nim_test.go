package idp

import (
	"crypto/rsa"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/binding"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/store"
	"github.com/renkei-idwsf/renkei/xmlsec/xmlenc"
)

// insurerID is an insurer's local identifier (ARCHITECTURE "The relay
// DB"): insurerNumber:symbol:number:branch, the symbol in kanji.
const insurerID = "06130012:%E5%81%A5%E4%BF%9D:1234567:01"

// TestNIMEnrol: an SP that just received an assertion after a card login
// registers its own identifier with a signed NewID over SOAP; the next
// assertion's NameID carries it (SAML Core §3.6; ARCHITECTURE "Enrolment
// of a link").
func TestNIMEnrol(t *testing.T) {
	e := newNIMEnv(t, "", nil)
	sp := e.sps[otherSP]
	nid := e.loginAt(t, otherSP, "_login1")
	req := e.nimReq(sp, "_nim1", nid)
	req.NewID = "患者-0042"
	_, resp := e.nimSOAP(t, sp, req, true)
	wantNIM(t, resp, samlp.StatusSuccess, "")
	f, err := e.db.Federation(ctx, "p-alice", otherSP)
	must(t, err)
	if f.SPProvidedID != req.NewID || f.NameID != nid.Value {
		t.Fatalf("federation %+v", f)
	}
	if got := e.loginAt(t, otherSP, "_login2"); got.SPProvidedID != req.NewID || got.Value != nid.Value {
		t.Fatalf("next NameID %+v", got)
	}

	t.Run("ok/nameid-with-sp-provided-id", func(t *testing.T) {
		// The fresh login above allows one more enrolment.
		cur := &saml.NameID{Value: nid.Value, Format: saml.NameIDPersistent, SPProvidedID: req.NewID}
		r := e.nimReq(sp, "_nim2", cur)
		r.NewID = insurerID
		_, resp := e.nimSOAP(t, sp, r, true)
		wantNIM(t, resp, samlp.StatusSuccess, "")
	})
	t.Run("fail/one-enrolment-per-authentication", func(t *testing.T) {
		r := e.nimReq(sp, "_nim3", nid)
		r.NewID = "again"
		_, resp := e.nimSOAP(t, sp, r, true)
		wantNIM(t, resp, samlp.StatusRequester, samlp.StatusRequestDenied)
	})
}

// TestNIMEnrolWindow: NewID is refused once the window after the card
// authentication has passed, and when the card authentication was at
// another SP.
func TestNIMEnrolWindow(t *testing.T) {
	e := newNIMEnv(t, "", nil)
	sp := e.sps[otherSP]
	t.Run("fail/outside-window", func(t *testing.T) {
		nid := e.loginAt(t, otherSP, "_w1")
		e.now = e.now.Add(DefaultEnrolWindow + time.Second)
		r := e.nimReq(sp, "_w2", nid)
		r.NewID = "late"
		_, resp := e.nimSOAP(t, sp, r, true)
		wantNIM(t, resp, samlp.StatusRequester, samlp.StatusRequestDenied)
	})
	t.Run("ok/just-inside-window", func(t *testing.T) {
		nid := e.loginAt(t, otherSP, "_w3")
		e.now = e.now.Add(DefaultEnrolWindow - time.Second)
		r := e.nimReq(sp, "_w4", nid)
		r.NewID = "in-time"
		_, resp := e.nimSOAP(t, sp, r, true)
		wantNIM(t, resp, samlp.StatusSuccess, "")
	})
	t.Run("fail/card-at-another-sp", func(t *testing.T) {
		must(t, e.db.CreateFederation(ctx, store.Federation{PrincipalID: "p-alice", ProviderID: legacyID, NameID: "alice-at-legacy", Created: e.now}))
		e.loginAt(t, otherSP, "_w5") // fresh at otherSP, not at legacy
		leg := e.sps[legacyID]
		r := e.nimReq(leg, "_w6", &saml.NameID{Value: "alice-at-legacy", Format: saml.NameIDPersistent})
		r.NewID = "legacy-7"
		_, resp := e.nimSOAP(t, leg, r, true)
		wantNIM(t, resp, samlp.StatusRequester, samlp.StatusRequestDenied)
	})
}

// TestNIMTerminate: an SP-initiated Terminate ends the federation; the
// next SSO is refused and the NameID is unknown from then on.
func TestNIMTerminate(t *testing.T) {
	e := newNIMEnv(t, "", nil)
	sp := e.sps[otherSP]
	nid := e.loginAt(t, otherSP, "_t1")
	e.now = e.now.Add(time.Hour) // Terminate needs no recent card authentication
	r := e.nimReq(sp, "_t2", &saml.NameID{Value: nid.Value, Format: saml.NameIDPersistent, NameQualifier: idpID, SPNameQualifier: otherSP})
	r.Terminate = true
	_, resp := e.nimSOAP(t, sp, r, true)
	wantNIM(t, resp, samlp.StatusSuccess, "")
	f, err := e.db.Federation(ctx, "p-alice", otherSP)
	must(t, err)
	if f.Active() || !f.Terminated.Equal(e.now) {
		t.Fatalf("federation %+v", f)
	}
	for _, allow := range []bool{false, true} {
		req := e.newRequest(sp, "_t3-"+map[bool]string{false: "no", true: "yes"}[allow])
		req.NameIDPolicy = &samlp.NameIDPolicy{Format: saml.NameIDPersistent, AllowCreate: allow}
		got, err := e.consume(sp, e.redirect(e.browser(&e.Alice), req, "", nil), req.ID)
		must(t, err)
		wantStatus(t, got, samlp.StatusRequester, samlp.StatusInvalidNameIDPolicy)
	}
	r = e.nimReq(sp, "_t4", nid)
	r.Terminate = true
	_, resp = e.nimSOAP(t, sp, r, true)
	wantNIM(t, resp, samlp.StatusRequester, samlp.StatusUnknownPrincipal)
}

// TestNIMRefused: every hostile or wrong request gets a signed refusal, or
// a SOAP fault when the requester is unknown; nothing changes.
func TestNIMRefused(t *testing.T) {
	e := newNIMEnv(t, "", nil)
	sp, leg := e.sps[otherSP], e.sps[legacyID]
	nid := e.loginAt(t, otherSP, "_r0")
	legNID := e.loginAt(t, legacyID, "_r00")
	persistent := func(v string) *saml.NameID { return &saml.NameID{Value: v, Format: saml.NameIDPersistent} }
	replayed := e.nimReq(sp, "_replayed", nid)
	replayed.Terminate = true
	replayed.NameID = persistent("nobody")
	e.nimSOAP(t, sp, replayed, true)
	tests := []struct {
		name        string
		edit        func(r *samlp.ManageNameIDRequest)
		unsigned    bool
		top, second string
	}{
		{"fail/unsigned", nil, true, samlp.StatusRequester, samlp.StatusRequestDenied},
		{"fail/unknown-nameid", func(r *samlp.ManageNameIDRequest) { r.NameID = persistent("nobody") }, false, samlp.StatusRequester, samlp.StatusUnknownPrincipal},
		{"fail/nameid-of-another-sp", func(r *samlp.ManageNameIDRequest) { r.NameID = legNID }, false, samlp.StatusRequester, samlp.StatusUnknownPrincipal},
		{"fail/foreign-name-qualifier", func(r *samlp.ManageNameIDRequest) { r.NameID.NameQualifier = "https://other-idp.example.org" }, false, samlp.StatusRequester, samlp.StatusUnknownPrincipal},
		{"fail/foreign-sp-name-qualifier", func(r *samlp.ManageNameIDRequest) { r.NameID.SPNameQualifier = legacyID }, false, samlp.StatusRequester, samlp.StatusUnknownPrincipal},
		{"fail/transient", func(r *samlp.ManageNameIDRequest) { r.NameID.Format = saml.NameIDTransient }, false, samlp.StatusRequester, samlp.StatusUnknownPrincipal},
		{"fail/stale", func(r *samlp.ManageNameIDRequest) { r.IssueInstant = e.now.Add(-10 * time.Minute) }, false, samlp.StatusRequester, samlp.StatusRequestDenied},
		{"fail/future", func(r *samlp.ManageNameIDRequest) { r.IssueInstant = e.now.Add(10 * time.Minute) }, false, samlp.StatusRequester, samlp.StatusRequestDenied},
		{"fail/wrong-destination", func(r *samlp.ManageNameIDRequest) { r.Destination = e.mainURL + PathSSO }, false, samlp.StatusRequester, samlp.StatusRequestDenied},
		{"fail/replayed", func(r *samlp.ManageNameIDRequest) { r.ID = replayed.ID }, false, samlp.StatusRequester, samlp.StatusRequestDenied},
		{"fail/non-nfc-newid", func(r *samlp.ManageNameIDRequest) { r.Terminate, r.NewID = false, nfdOf("café-1") }, false, samlp.StatusRequester, ""},
		{"fail/oversized-newid", func(r *samlp.ManageNameIDRequest) { r.Terminate, r.NewID = false, strings.Repeat("9", MaxNewID+1) }, false, samlp.StatusRequester, ""},
		{"fail/control-char-newid", func(r *samlp.ManageNameIDRequest) { r.Terminate, r.NewID = false, "12\x7f34" }, false, samlp.StatusRequester, ""},
		{"fail/format-char-newid", func(r *samlp.ManageNameIDRequest) { r.Terminate, r.NewID = false, "12\u202e34" }, false, samlp.StatusRequester, ""},
		{"fail/empty-newid-is-malformed-not-denied", func(r *samlp.ManageNameIDRequest) { r.Terminate, r.NewID = false, "" }, false, samlp.StatusRequester, ""},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.nimReq(sp, "_ref-"+string(rune('a'+i)), &saml.NameID{Value: nid.Value, Format: saml.NameIDPersistent})
			r.Terminate = true
			if tc.edit != nil {
				tc.edit(r)
			}
			_, resp := e.nimSOAP(t, sp, r, !tc.unsigned)
			wantNIM(t, resp, tc.top, tc.second)
		})
	}
	t.Run("fail/signed-by-another-sp", func(t *testing.T) {
		r := e.nimReq(sp, "_ref-key", nid)
		r.Terminate = true
		_, resp := e.nimSOAP(t, leg, r, true) // Issuer otherSP, legacy's key
		wantNIM(t, resp, samlp.StatusRequester, samlp.StatusRequestDenied)
	})
	t.Run("fail/unknown-sp-gets-fault", func(t *testing.T) {
		r := e.nimReq(&testSP{ID: "https://unknown.example.org/sp", Key: sp.Key}, "_ref-unknown", nid)
		r.Terminate = true
		if st, _ := e.nimSOAP(t, sp, r, true); st != http.StatusInternalServerError {
			t.Fatalf("HTTP %d, want a SOAP fault", st)
		}
	})
	f, err := e.db.Federation(ctx, "p-alice", otherSP)
	must(t, err)
	if !f.Active() || f.SPProvidedID != "" {
		t.Fatalf("a refused request changed the federation: %+v", f)
	}
}

// TestNIMRedirect: the HTTP-Redirect binding answers at the SP's Redirect
// ManageNameIDService with a query-signed response.
func TestNIMRedirect(t *testing.T) {
	spNIM := "https://other.example.org/sp/nim"
	e := newNIMEnv(t, spNIM, nil)
	sp := e.sps[otherSP]
	nid := e.loginAt(t, otherSP, "_rd1")
	r := e.nimReq(sp, "_rd2", nid)
	r.NewID = "redirect-1"
	u, err := binding.RedirectURL(e.mainURL+PathNIM, r.Element(), "rs-nim", redirectSigner(sp))
	must(t, err)
	c := e.browser(nil)
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	hr, err := http.NewRequest(http.MethodGet, u, nil)
	must(t, err)
	x := e.do(c, hr)
	loc, err := url.Parse(x.Header.Get("Location"))
	must(t, err)
	if x.Status != http.StatusSeeOther || loc.Scheme+"://"+loc.Host+loc.Path != spNIM {
		t.Fatalf("HTTP %d to %q", x.Status, loc)
	}
	m, err := (&binding.RedirectDecoder{}).Decode(loc.RawQuery)
	must(t, err)
	el, _, err := m.Verify(e.verifier.Trust, e.verifier.Policy)
	must(t, err)
	resp, err := samlp.DecodeManageNameIDResponse(el)
	must(t, err)
	if m.RelayState != "rs-nim" || resp.InResponseTo != r.ID || resp.Destination != spNIM {
		t.Fatalf("response %+v relay %q", resp.StatusResponseHeader, m.RelayState)
	}
	wantNIM(t, resp, samlp.StatusSuccess, "")

	t.Run("fail/unsigned-redirect", func(t *testing.T) {
		r := e.nimReq(sp, "_rd3", nid)
		r.Terminate = true
		u, err := binding.RedirectURL(e.mainURL+PathNIM, r.Element(), "", nil)
		must(t, err)
		hr, err := http.NewRequest(http.MethodGet, u, nil)
		must(t, err)
		x := e.do(c, hr)
		loc, err := url.Parse(x.Header.Get("Location"))
		must(t, err)
		m, err := (&binding.RedirectDecoder{}).Decode(loc.RawQuery)
		must(t, err)
		el, _, err := m.Verify(e.verifier.Trust, e.verifier.Policy)
		must(t, err)
		resp, err := samlp.DecodeManageNameIDResponse(el)
		must(t, err)
		wantNIM(t, resp, samlp.StatusRequester, samlp.StatusRequestDenied)
	})
}

// TestNIMEncrypted: the current identifier as a saml:EncryptedID and the
// new one as a samlp:NewEncryptedID, both encrypted for the IdP's
// encryption key (SAML Core §3.6.1), are decrypted and used; without a
// decryption key the IdP cannot tell the principal.
func TestNIMEncrypted(t *testing.T) {
	k := federationKeys(t)
	e := &ssoEnv{fixture: newFixture(t), sps: testSPs(t), verifier: idpVerifier(t)}
	e.serve(t, func(c *Config) { c.EncryptionKey = k.IdP.Key.(*rsa.PrivateKey) },
		func(c *SSOConfig) { c.NIM = NIMConfig{URL: e.mainURL + PathNIM} })
	sp := e.sps[otherSP]
	nid := e.loginAt(t, otherSP, "_enc1")
	to := xmlenc.Recipient{EntityID: idpID, Cert: k.IdP.Cert}
	encID, err := saml.EncryptNameID(nid, &xmlenc.Encrypter{}, to)
	must(t, err)
	newID := etree.NewElement("samlp:NewID")
	newID.CreateAttr("xmlns:samlp", samlp.NS)
	newID.SetText("encrypted-77")
	encNew, err := (&xmlenc.Encrypter{}).Encrypt(newID, xmlenc.NewEncryptedID, to)
	must(t, err)
	r := e.nimReq(sp, "_enc2", nil)
	r.EncryptedID, r.NewEncryptedID = encID, encNew
	_, resp := e.nimSOAP(t, sp, r, true)
	wantNIM(t, resp, samlp.StatusSuccess, "")
	f, err := e.db.Federation(ctx, "p-alice", otherSP)
	must(t, err)
	if f.SPProvidedID != "encrypted-77" {
		t.Fatalf("SPProvidedID %q", f.SPProvidedID)
	}

	t.Run("fail/encrypted-for-another-key", func(t *testing.T) {
		other, err := saml.EncryptNameID(nid, &xmlenc.Encrypter{}, xmlenc.Recipient{EntityID: idpID, Cert: k.WSC.Cert})
		must(t, err)
		r := e.nimReq(sp, "_enc3", nil)
		r.EncryptedID, r.Terminate = other, true
		_, resp := e.nimSOAP(t, sp, r, true)
		wantNIM(t, resp, samlp.StatusRequester, samlp.StatusUnknownPrincipal)
	})
}
