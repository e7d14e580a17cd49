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
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// newIDSP is an SP's SOAP ManageNameIDService that takes the IdP's signed
// NewID and answers status, signed with the SP's key.
type newIDSP struct {
	e      *ssoEnv
	t      testing.TB
	status atomic.Value // string
	got    atomic.Value // *samlp.ManageNameIDRequest
}

func (s *newIDSP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	env, err := (&binding.SOAPDecoder{Understood: []string{}}).Decode(io.LimitReader(r.Body, 1<<16))
	if err != nil || s.e.schema.ValidateElement(env.Body) != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	req, _, err := samlp.VerifyManageNameIDRequest(env.Body, s.e.verifier)
	if err != nil || req.NewID == "" || req.Issuer.Value != idpID {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	s.got.Store(req)
	sp := s.e.sps[otherSP]
	resp := &samlp.ManageNameIDResponse{StatusResponseHeader: samlp.StatusResponseHeader{ID: "_spnew-" + req.ID[1:9],
		InResponseTo: req.ID, IssueInstant: s.e.now, Issuer: &saml.Issuer{Value: sp.ID},
		Status: samlp.NewStatus(s.status.Load().(string), "")}}
	el, err := samlp.Sign(resp, spSigner(sp))
	must(s.t, err)
	b, err := xmlsec.Serialize((&binding.Envelope{Body: el}).Element())
	must(s.t, err)
	w.Header().Set("Content-Type", "text/xml")
	_, _ = w.Write(b)
}

// TestNIMChangeNameID: the IdP sends the SP a NewID for the federation's
// NameID (SAML Core §3.6.1) and, once the SP accepts it, the next
// assertion carries the new NameID; an SP that refuses leaves the old one
// in use.
func TestNIMChangeNameID(t *testing.T) {
	h := &newIDSP{t: t}
	h.status.Store(samlp.StatusRequester)
	srv := httptest.NewUnstartedServer(h)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	e := newNIMEnv(t, srv.URL+"/nim", srv.Client())
	h.e = e
	old := e.loginAt(t, otherSP, "_cn1")

	t.Run("fail/sp-refuses-keeps-old", func(t *testing.T) {
		wantErr(t, func() error { _, err := e.sso.ChangeNameID(ctx, "p-alice", otherSP, e.now); return err }(), ErrInternal)
		f, err := e.db.Federation(ctx, "p-alice", otherSP)
		must(t, err)
		if f.NameID != old.Value {
			t.Fatalf("NameID %q, want the old %q", f.NameID, old.Value)
		}
	})
	h.status.Store(samlp.StatusSuccess)
	nid, err := e.sso.ChangeNameID(ctx, "p-alice", otherSP, e.now)
	must(t, err)
	got, _ := h.got.Load().(*samlp.ManageNameIDRequest)
	if got == nil || got.NameID.Value != old.Value || got.NewID != nid.Value || nid.Value == old.Value {
		t.Fatalf("ok/newid-sent: SP received %+v; new NameID %q, old %q", got, nid.Value, old.Value)
	}
	if again := e.loginAt(t, otherSP, "_cn2"); again.Value != nid.Value {
		t.Fatalf("ok/next-assertion-carries-new: NameID %q, want %q", again.Value, nid.Value)
	}
	t.Run("fail/sp-without-nim-service", func(t *testing.T) {
		_, err := e.sso.ChangeNameID(ctx, "p-alice", legacyID, e.now)
		wantErr(t, err, ErrUnsupportedBinding)
	})
}
