package conformance

import (
	"context"
	"crypto"
	"crypto/x509"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/binding"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
)

// BackChannelSP is a second SP of the suite, for the IdP-initiated
// profiles over SOAP: Single Logout (row slo-soap-idp) and Name Identifier
// Management (row nim-soap-idp). Its metadata (SP.Metadata) lists only a
// SOAP SingleLogoutService (SP.SOAPSLO) and a SOAP ManageNameIDService
// (SP.SOAPNIM), which the operator serves with the BackChannelSP itself
// (an http.Handler) on an https address whose certificate the IdP
// trusts. It keeps every request it receives for the case to judge, and
// answers each with a response signed by its key, Success: whether the
// IdP's request was right is the case's verdict, not the answer's.
type BackChannelSP struct {
	SP *SP

	mu  sync.Mutex
	got []backRequest
}

// backRequest is one request at a back-channel endpoint, with the TLS
// client certificates its sender presented, if the server asked.
type backRequest struct {
	el    *etree.Element
	peers []*x509.Certificate
}

// NewBackChannelSP returns a back-channel SP whose SOAP endpoints are
// base + "/slo/soap" and base + "/nim/soap"; rnd nil means crypto/rand.
func NewBackChannelSP(entityID, acs, base string, now time.Time, rnd io.Reader) (*BackChannelSP, error) {
	sp, err := NewSP(entityID, acs, now, rnd)
	if err != nil {
		return nil, err
	}
	sp.SOAPSLO, sp.SOAPNIM = base+"/slo/soap", base+"/nim/soap"
	return &BackChannelSP{SP: sp}, nil
}

// ServeHTTP receives a LogoutRequest or a ManageNameIDRequest over SOAP
// (SAML Bindings §3.2) and answers it.
func (b *BackChannelSP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	env, err := (&binding.SOAPDecoder{Understood: []string{}}).Decode(r.Body)
	if err != nil {
		http.Error(w, "not a SOAP envelope", http.StatusBadRequest)
		return
	}
	u, err := samlp.Peek(env.Body)
	if err != nil || u.Name != "LogoutRequest" && u.Name != "ManageNameIDRequest" {
		http.Error(w, "neither a LogoutRequest nor a ManageNameIDRequest", http.StatusBadRequest)
		return
	}
	var peers []*x509.Certificate
	if r.TLS != nil {
		peers = r.TLS.PeerCertificates
	}
	b.mu.Lock()
	b.got = append(b.got, backRequest{xmlsec.DetachCopy(env.Body), peers})
	b.mu.Unlock()
	out, err := b.answer(u)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", binding.ContentTypeSOAP)
	_, _ = w.Write(out)
}

// answer is the signed Success response to u, in its SOAP envelope.
func (b *BackChannelSP) answer(u *samlp.Unverified) ([]byte, error) {
	id, err := saml.NewID(nil)
	if err != nil {
		return nil, err
	}
	h := samlp.StatusResponseHeader{ID: id, InResponseTo: u.ID, IssueInstant: time.Now().UTC(),
		Issuer: &saml.Issuer{Value: b.SP.EntityID}, Status: samlp.NewStatus(samlp.StatusSuccess, "")}
	var m samlp.Message = &samlp.LogoutResponse{StatusResponseHeader: h}
	if u.Name == "ManageNameIDRequest" {
		m = &samlp.ManageNameIDResponse{StatusResponseHeader: h}
	}
	el, err := samlp.Sign(m, &dsig.Signer{Key: b.SP.Key, Certificates: []*x509.Certificate{b.SP.Cert}})
	if err != nil {
		return nil, err
	}
	return xmlsec.Serialize((&binding.Envelope{Body: el}).Element())
}

// tlsAuthenticated reports whether r came without an XML signature over a
// TLS connection on which the sender presented a client certificate with
// a key the IdP's metadata lists: over SOAP, the binding's own
// authentication may stand for the signature (SAML Profiles §4.4.3.3,
// §4.5.3.3; SAML Bindings §3.2.3), and such an IdP is not blamed for an
// unsigned request. The suite's back-channel endpoints must then ask for
// client certificates (tls.RequestClientCert).
func (e *Env) tlsAuthenticated(r backRequest) bool {
	if r.el.FindElement("./Signature") != nil || len(r.peers) == 0 {
		return false
	}
	pub, ok := r.peers[0].PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	if !ok {
		return false
	}
	for _, c := range e.Target.IDP.SigningCertificates() {
		if pub.Equal(c.PublicKey) {
			return true
		}
	}
	return false
}

// take returns the requests received since the last call.
func (b *BackChannelSP) take() []backRequest {
	b.mu.Lock()
	defer b.mu.Unlock()
	got := b.got
	b.got = nil
	return got
}

// SAMLIdPInitiatedSOAPSLOCases returns the IdP-initiated Single Logout
// case over the back channel, for an IdP that offers a logout hook (see
// SAMLIdPInitiatedSLOCases) and has back's SP in its metadata: the suite
// logs in as back's SP, visits the hook, and the IdP must log the session
// out at back's SOAP SingleLogoutService, server to server.
func SAMLIdPInitiatedSOAPSLOCases(hookURL string, back *BackChannelSP) []Case {
	return []Case{{ID: "SAML2-Prof-4.4.3/slo-idp-initiated-soap", Clause: "SAML Profiles §4.4.3, §4.4.4.1; SAML Bindings §3.2",
		Row: rowSLOSOAPIdP, Role: RoleIdP, Positive: true,
		Summary: "The IdP logs out the session its hook is told to at our SOAP-only SingleLogoutService: one LogoutRequest over SOAP, signed by a metadata key (xmlsec1 agrees), to that endpoint, naming our NameID and SessionIndex; no form goes through the browser, and the session is gone.",
		Run:     func(ctx context.Context, e *Env) Outcome { return runSLOIdPInitiatedSOAP(ctx, e, hookURL, back) }}}
}

func runSLOIdPInitiatedSOAP(ctx context.Context, e *Env, hookURL string, back *BackChannelSP) Outcome {
	if _, ok := e.sloEndpoint(md.BindingSOAP); !ok {
		return notApplicable("the IdP's metadata lists no SOAP SingleLogoutService")
	}
	sub := *e // the same target, as back's SP; its messages go to e's log
	sub.SP, sub.messages = back.SP, nil
	defer func() { e.messages = append(e.messages, sub.messages...); e.adoptWarnings(&sub) }()
	back.take()
	s, o := sub.sloLogin(ctx)
	if o != nil {
		return *o
	}
	land, err := s.b.Get(ctx, hookURL, "IdP-initiated logout hook")
	if err == nil {
		land, err = confirmHook(ctx, s.b, land, hookURL)
	}
	if err != nil {
		return broken("visiting the hook: %v", err)
	}
	got := back.take()
	for _, r := range got {
		if b, err := xmlsec.Serialize(r.el); err == nil {
			sub.Record(Message{Direction: "received", Label: "LogoutRequest (SOAP)", URL: back.SP.SOAPSLO, Body: string(b)})
		}
	}
	switch {
	case land.Form != nil:
		return failed("the IdP sent the browser a form to %s although our only SingleLogoutService is SOAP", land.Form.Action)
	case len(got) == 0 && land.Status >= 400:
		// The hook failed: the IdP may never have been told to log out.
		return broken("the logout hook answered HTTP %d at %s and our SOAP SingleLogoutService received nothing, so the case cannot judge the IdP", land.Status, land.URL)
	case len(got) != 1:
		return failed("our SOAP SingleLogoutService received %d LogoutRequests, want 1 (the hook ended at %s, HTTP %d)", len(got), land.URL, land.Status)
	}
	if _, err := sub.judgeIdPLogout(ctx, got[0].el, s, back.SP.SOAPSLO, sub.tlsAuthenticated(got[0])); err != nil {
		return outcomeOf(err)
	}
	alive, err := sub.alive(ctx, s)
	if err != nil {
		return outcomeOf(err)
	}
	if alive {
		return failed("the logout completed, yet the session still answers a passive AuthnRequest")
	}
	return passed("one signed LogoutRequest over SOAP (xmlsec1 agrees) for our NameID and SessionIndex; the session is gone (NoPassive)")
}
