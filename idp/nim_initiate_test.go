package idp

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/binding"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/store"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// nimSP is an in-Go SP's SOAP ManageNameIDService on loopback: it checks
// the IdP's signed Terminate and answers with status, signed unless
// unsigned is set.
type nimSP struct {
	e        *ssoEnv
	t        testing.TB
	status   atomic.Value // string: the top-level status to answer
	unsigned atomic.Bool
	sha1     atomic.Bool  // sign with rsa-sha1, as a legacy SP does
	got      atomic.Value // *samlp.ManageNameIDRequest
}

func (s *nimSP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	env, err := (&binding.SOAPDecoder{Understood: []string{}}).Decode(io.LimitReader(r.Body, 1<<16))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if err := s.e.schema.ValidateElement(env.Body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	req, _, err := samlp.VerifyManageNameIDRequest(env.Body, s.e.verifier)
	if err != nil || !req.Terminate || req.Issuer.Value != idpID {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	s.got.Store(req)
	sp := s.e.sps[otherSP]
	resp := &samlp.ManageNameIDResponse{StatusResponseHeader: samlp.StatusResponseHeader{ID: "_spresp-" + req.ID[1:9],
		InResponseTo: req.ID, IssueInstant: s.e.now, Issuer: &saml.Issuer{Value: sp.ID},
		Status: samlp.NewStatus(s.status.Load().(string), "")}}
	el := resp.Element()
	if !s.unsigned.Load() {
		signer := spSigner(sp)
		if s.sha1.Load() {
			signer.SignatureMethod, signer.Policy.AllowSHA1 = "http://www.w3.org/2000/09/xmldsig#rsa-sha1", true
		}
		el, err = samlp.Sign(resp, signer)
		must(s.t, err)
	}
	b, err := xmlsec.Serialize((&binding.Envelope{Body: el}).Element())
	must(s.t, err)
	w.Header().Set("Content-Type", "text/xml")
	_, _ = w.Write(b)
}

// TestNIMTerminateFederation: the IdP terminates a federation and tells
// the SP over SOAP (SAML Profiles §4.5); the SP's answer is verified.
func TestNIMTerminateFederation(t *testing.T) {
	h := &nimSP{t: t}
	h.status.Store(samlp.StatusSuccess)
	srv := httptest.NewUnstartedServer(h)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	e := newNIMEnv(t, srv.URL+"/nim", srv.Client())
	h.e = e
	nid := e.loginAt(t, otherSP, "_it1")

	must(t, e.sso.TerminateFederation(ctx, "p-alice", otherSP, e.now))
	got, _ := h.got.Load().(*samlp.ManageNameIDRequest)
	if got == nil || got.NameID.Value != nid.Value || got.NameID.SPNameQualifier != otherSP || got.Destination != srv.URL+"/nim" {
		t.Fatalf("SP received %+v", got)
	}
	f, err := e.db.Federation(ctx, "p-alice", otherSP)
	must(t, err)
	if f.Active() {
		t.Fatal("federation still active")
	}

	t.Run("fail/already-terminated", func(t *testing.T) {
		wantErr(t, e.sso.TerminateFederation(ctx, "p-alice", otherSP, e.now), ErrUnknownPrincipal)
	})
	t.Run("fail/no-federation", func(t *testing.T) {
		wantErr(t, e.sso.TerminateFederation(ctx, "p-bob", otherSP, e.now), ErrUnknownPrincipal)
	})
	t.Run("fail/sp-without-nim-service", func(t *testing.T) {
		wantErr(t, e.sso.TerminateFederation(ctx, "p-alice", legacyID, e.now), ErrUnsupportedBinding)
	})
	for i, tc := range []struct {
		name     string
		status   string
		unsigned bool
	}{{"fail/sp-refuses", samlp.StatusRequester, false}, {"fail/sp-answer-unsigned", samlp.StatusSuccess, true}} {
		t.Run(tc.name, func(t *testing.T) {
			h.status.Store(tc.status)
			h.unsigned.Store(tc.unsigned)
			who := "p-other-" + string(rune('a'+i))
			e.principal(who)
			must(t, e.db.CreateFederation(ctx, store.Federation{PrincipalID: who, ProviderID: otherSP, NameID: who + "-nid", Created: e.now}))
			wantErr(t, e.sso.TerminateFederation(ctx, who, otherSP, e.now), ErrInternal)
			f, err := e.db.Federation(ctx, who, otherSP)
			must(t, err)
			if f.Active() {
				t.Fatal("the IdP's termination must hold whatever the SP answers")
			}
		})
	}
}

// TestNIMTerminateQuirks: the SP's answer to an IdP-initiated Terminate
// is verified under that SP's quirks, not the IdP's own entityID: an SP
// allowed SHA-1 is heard, the same answer from an SP without the quirk is
// refused.
func TestNIMTerminateQuirks(t *testing.T) {
	for _, tc := range []struct {
		name  string
		quirk bool
		want  error
	}{{"ok/sha1-answer-of-sp-with-quirk", true, nil}, {"fail/sha1-answer-of-sp-without-quirk", false, ErrInternal}} {
		t.Run(tc.name, func(t *testing.T) {
			h := &nimSP{t: t}
			h.status.Store(samlp.StatusSuccess)
			h.sha1.Store(true)
			srv := httptest.NewTLSServer(h)
			t.Cleanup(srv.Close)
			e := &ssoEnv{fixture: newFixture(t), sps: testSPs(t), verifier: idpVerifier(t)}
			e.sps[otherSP].NIM = srv.URL + "/nim"
			e.serve(t, nil, func(c *SSOConfig) {
				c.NIM = NIMConfig{URL: e.mainURL + PathNIM, Client: srv.Client()}
				if tc.quirk {
					c.Quirks[otherSP] = SPQuirks{AllowSHA1: true}
				}
			})
			h.e = e
			e.loginAt(t, otherSP, "_itq1")
			err := e.sso.TerminateFederation(ctx, "p-alice", otherSP, e.now)
			if tc.want == nil {
				must(t, err)
				return
			}
			wantErr(t, err, tc.want)
		})
	}
}

// TestNIMMetadata: the IdP advertises its ManageNameIDService for SOAP and
// HTTP-Redirect, in schema-valid signed metadata, only when it is on.
func TestNIMMetadata(t *testing.T) {
	e := newNIMEnv(t, "", nil)
	d := e.sso.Metadata(e.now).IDPSSO[0]
	for _, b := range []string{samlp.BindingSOAP, samlp.BindingHTTPRedirect} {
		ep, err := d.ManageNameIDService(b)
		if err != nil || ep.Location != e.mainURL+PathNIM {
			t.Fatalf("%s: %v %v", b, ep, err)
		}
	}
	_, err := e.sso.SignedMetadata(e.now)
	must(t, err)
	off := newSSOEnv(t, nil)
	if _, err := off.sso.Metadata(off.now).IDPSSO[0].ManageNameIDService(samlp.BindingSOAP); err == nil {
		t.Fatal("ManageNameIDService advertised while off")
	}
}
