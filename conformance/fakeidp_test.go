package conformance

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/binding"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
)

// flaws are the switches of the deliberately broken IdP builds.
type flaws struct {
	SkipSigCheck bool // reads the request without checking its signature
	AcceptStale  bool // no IssueInstant window
	IgnoreACS    bool // sends to whatever ACS URL the request names
	SignSHA1     bool // signs responses and assertions with rsa-sha1
	AcceptReplay bool // no replay cache
	AcceptSHA1   bool // accepts rsa-sha1 request signatures
}

// fakeIdP is a small SAML IdP built only from saml/samlp, saml/binding and
// saml/md, with a fixed user and the flaws above, for testing the suite.
type fakeIdP struct {
	t      *testing.T
	flaws  flaws
	id     *SP // the IdP's key and certificate (NewSP makes both)
	entity string
	srv    *httptest.Server
	sp     *md.SPSSODescriptor
	spID   string

	mu   sync.Mutex
	seen map[string]bool
}

func newFakeIdP(t *testing.T, sp *SP, f flaws) *fakeIdP {
	t.Helper()
	idp := &fakeIdP{t: t, flaws: f, seen: map[string]bool{}, spID: sp.EntityID, sp: sp.Descriptor().SPSSO[0]}
	idp.srv = httptest.NewServer(idp.mux())
	idp.start(t)
	return idp
}

// newCardIdP is the fake IdP behind TLS that requires a client certificate
// issued by ca, as a card-login listener does: the certificate is the login.
func newCardIdP(t *testing.T, sp *SP, server *pki.Identity, ca *x509.Certificate) *fakeIdP {
	t.Helper()
	idp := &fakeIdP{t: t, seen: map[string]bool{}, spID: sp.EntityID, sp: sp.Descriptor().SPSSO[0]}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	idp.srv = httptest.NewUnstartedServer(idp.mux())
	idp.srv.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{server.Cert.Raw}, PrivateKey: server.Key}},
		ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool, MinVersion: tls.VersionTLS12}
	idp.srv.StartTLS()
	idp.start(t)
	return idp
}

func (f *fakeIdP) start(t *testing.T) {
	t.Cleanup(f.srv.Close)
	f.entity = f.srv.URL + "/idp"
	key, err := NewSP(f.entity, "", time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	f.id = key
}

func (f *fakeIdP) mux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /sso", f.redirect)
	mux.HandleFunc("POST /sso", f.post)
	mux.HandleFunc("POST /ecp", f.ecp)
	mux.HandleFunc("GET /metadata", func(w http.ResponseWriter, r *http.Request) {
		b, err := xmlsec.Serialize(f.descriptor().Element())
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Write(b)
	})
	return mux
}

func (f *fakeIdP) descriptor() *md.EntityDescriptor {
	return &md.EntityDescriptor{EntityID: f.entity, IDPSSO: []*md.IDPSSODescriptor{{
		SSO: md.SSO{Role: md.Role{ProtocolSupport: []string{md.ProtocolSAML2},
			Keys: []md.KeyDescriptor{{Use: md.UseSigning, Certificates: []*x509.Certificate{f.id.Cert}}}},
			NameIDFormats: []string{FormatTransient, FormatPersistent}},
		WantAuthnRequestsSigned: true,
		SingleSignOn: []md.Endpoint{{Binding: md.BindingHTTPRedirect, Location: f.srv.URL + "/sso"},
			{Binding: md.BindingHTTPPOST, Location: f.srv.URL + "/sso"}, {Binding: md.BindingSOAP, Location: f.srv.URL + "/ecp"}},
	}}}
}

// post is the HTTP-POST SingleSignOnService: the XML signature inside the
// request protects it.
func (f *fakeIdP) post(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	msg, err := (&binding.POSTDecoder{}).DecodeRequest(r)
	if err != nil {
		http.Error(w, "bad request: "+err.Error(), http.StatusBadRequest)
		return
	}
	un, err := samlp.Peek(msg.Element)
	if err != nil || un.Issuer == nil || un.Issuer.Value != f.spID {
		http.Error(w, "unknown requester", http.StatusBadRequest)
		return
	}
	var req *samlp.AuthnRequest
	if f.flaws.SkipSigCheck {
		req, err = samlp.DecodeAuthnRequest(msg.Element)
	} else {
		req, _, err = samlp.VerifyAuthnRequest(msg.Element, &dsig.Verifier{Trust: f.sp.TrustSet(), Policy: xmlsec.Policy{AllowSHA1: f.flaws.AcceptSHA1}})
	}
	if err != nil {
		http.Error(w, "signature: "+err.Error(), http.StatusForbidden)
		return
	}
	f.handle(w, r, now, req)
}

func (f *fakeIdP) redirect(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	msg, err := (&binding.RedirectDecoder{}).Decode(r.URL.RawQuery)
	if err != nil {
		http.Error(w, "bad request: "+err.Error(), http.StatusBadRequest)
		return
	}
	un, err := samlp.Peek(msg.Unverified())
	if err != nil || un.Issuer == nil || un.Issuer.Value != f.spID {
		http.Error(w, "unknown requester", http.StatusBadRequest)
		return
	}
	if un.Version != "2.0" {
		f.answer(w, now, un.ID, f.sp.AssertionConsumer[0].Location, samlp.NewStatus(samlp.StatusVersionMismatch, samlp.StatusRequestVersionTooLow), nil)
		return
	}
	el, err := f.verified(msg)
	if err != nil {
		http.Error(w, "signature: "+err.Error(), http.StatusForbidden)
		return
	}
	req, err := samlp.DecodeAuthnRequest(el)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.handle(w, r, now, req)
}

func (f *fakeIdP) verified(msg *binding.RedirectMessage) (*etree.Element, error) {
	if f.flaws.SkipSigCheck {
		return msg.Unverified(), nil
	}
	if !msg.Signed() {
		return nil, fmt.Errorf("unsigned request")
	}
	el, _, err := msg.Verify(f.sp.TrustSet(), xmlsec.Policy{AllowSHA1: f.flaws.AcceptSHA1})
	return el, err
}

// decision is what the IdP answers: an error page (page set), or a
// Response with status st (and the assertion a) for acs.
type decision struct {
	page string
	acs  string
	st   samlp.Status
	a    *etree.Element
	irt  string
}

func (f *fakeIdP) handle(w http.ResponseWriter, r *http.Request, now time.Time, req *samlp.AuthnRequest) {
	_, err := r.Cookie("idp-session")
	d := f.decide(now, req, err == nil, md.BindingHTTPPOST)
	if d.page == "" {
		http.SetCookie(w, &http.Cookie{Name: "idp-session", Value: "alice", Path: "/"})
	}
	f.write(w, now, d)
}

// decide applies the IdP's rules (and its flaws) to a decoded request.
func (f *fakeIdP) decide(now time.Time, req *samlp.AuthnRequest, session bool, acsBinding string) decision {
	if !f.flaws.AcceptStale && (req.IssueInstant.Before(now.Add(-3*time.Minute)) || req.IssueInstant.After(now.Add(3*time.Minute))) {
		return decision{page: "stale request"}
	}
	f.mu.Lock()
	replay := f.seen[req.ID]
	f.seen[req.ID] = true
	f.mu.Unlock()
	if replay && !f.flaws.AcceptReplay {
		return decision{page: "replayed request"}
	}
	acs, err := f.acs(req, acsBinding)
	if err != nil {
		return decision{page: err.Error()}
	}
	if p := req.NameIDPolicy; p != nil && p.Format != "" && p.Format != FormatTransient && p.Format != FormatPersistent {
		return decision{acs: acs, irt: req.ID, st: samlp.NewStatus(samlp.StatusRequester, samlp.StatusInvalidNameIDPolicy)}
	}
	if !session && req.IsPassive {
		return decision{acs: acs, irt: req.ID, st: samlp.NewStatus(samlp.StatusResponder, samlp.StatusNoPassive)}
	}
	a, err := saml.SignAssertion(f.assertion(now, req, acs), f.signer())
	if err != nil {
		return decision{page: err.Error()}
	}
	return decision{acs: acs, irt: req.ID, st: samlp.NewStatus(samlp.StatusSuccess, ""), a: a}
}

func (f *fakeIdP) write(w http.ResponseWriter, now time.Time, d decision) {
	if d.page != "" {
		http.Error(w, d.page, http.StatusBadRequest)
		return
	}
	f.answer(w, now, d.irt, d.acs, d.st, d.a)
}

// ecp is the SOAP SingleSignOnService: the ECP profile, the fixed user
// authenticated by HTTP Basic.
func (f *fakeIdP) ecp(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	if u, p, ok := r.BasicAuth(); ok && (u != "alice" || p != "secret") {
		http.Error(w, "bad credentials", http.StatusUnauthorized)
		return
	}
	env, err := (&binding.SOAPDecoder{}).Decode(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	req, _, err := samlp.VerifyAuthnRequest(env.Body, &dsig.Verifier{Trust: f.sp.TrustSet()})
	if err != nil {
		http.Error(w, err.Error(), http.StatusForbidden)
		return
	}
	d := f.decide(now, req, true, md.BindingPAOS)
	if d.page != "" {
		http.Error(w, d.page, http.StatusBadRequest)
		return
	}
	resp, err := samlp.Sign(f.response(now, d.irt, d.acs, d.st, d.a), f.signer())
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	out := &binding.Envelope{Header: []*etree.Element{(&binding.ECPResponse{AssertionConsumerServiceURL: d.acs}).Element()}, Body: resp}
	b, err := xmlsec.Serialize(out.Element())
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	w.Header().Set("Content-Type", binding.ContentTypeSOAP)
	w.Write(b)
}

func (f *fakeIdP) acs(req *samlp.AuthnRequest, bind string) (string, error) {
	if req.AssertionConsumerServiceURL == "" {
		return f.sp.AssertionConsumer[0].Location, nil
	}
	if f.flaws.IgnoreACS {
		return req.AssertionConsumerServiceURL, nil
	}
	ep, err := f.sp.AssertionConsumerServiceByLocation(req.AssertionConsumerServiceURL, bind)
	if err != nil {
		return "", err
	}
	return ep.Location, nil
}

func (f *fakeIdP) signer() *dsig.Signer {
	s := &dsig.Signer{Key: f.id.Key, Certificates: []*x509.Certificate{f.id.Cert}}
	if f.flaws.SignSHA1 {
		s.SignatureMethod, s.DigestMethod = xmlsec.RSASHA1, "http://www.w3.org/2000/09/xmldsig#sha1"
		s.Policy.AllowSHA1 = true
	}
	return s
}

func (f *fakeIdP) assertion(now time.Time, req *samlp.AuthnRequest, acs string) *saml.Assertion {
	format := FormatTransient
	if req.NameIDPolicy != nil && req.NameIDPolicy.Format != "" {
		format = req.NameIDPolicy.Format
	}
	return &saml.Assertion{ID: "_a" + req.ID[1:], IssueInstant: now, Issuer: saml.Issuer{Value: f.entity},
		Subject: &saml.Subject{NameID: &saml.NameID{Value: "_alice-" + req.ID[1:9], Format: format},
			Confirmations: []saml.SubjectConfirmation{{Method: "urn:oasis:names:tc:SAML:2.0:cm:bearer",
				Data: &saml.SubjectConfirmationData{NotOnOrAfter: now.Add(5 * time.Minute), Recipient: acs, InResponseTo: req.ID}}}},
		Conditions: &saml.Conditions{NotBefore: now.Add(-time.Minute), NotOnOrAfter: now.Add(5 * time.Minute),
			AudienceRestrictions: []saml.AudienceRestriction{{Audiences: []string{f.spID}}}},
		AuthnStatements: []saml.AuthnStatement{{AuthnInstant: now, SessionIndex: "s1",
			ClassRef: "urn:oasis:names:tc:SAML:2.0:ac:classes:X509"}},
	}
}

// answer posts a signed Response with status st (and the assertion a) to acs.
func (f *fakeIdP) response(now time.Time, inResponseTo, acs string, st samlp.Status, a *etree.Element) *samlp.Response {
	resp := &samlp.Response{StatusResponseHeader: samlp.StatusResponseHeader{ID: "_r" + strings.TrimPrefix(inResponseTo, "_") + "x", InResponseTo: inResponseTo,
		IssueInstant: now, Destination: acs, Issuer: &saml.Issuer{Value: f.entity}, Status: st}}
	if a != nil {
		resp.Assertions = []*etree.Element{a}
	}
	return resp
}

func (f *fakeIdP) answer(w http.ResponseWriter, now time.Time, inResponseTo, acs string, st samlp.Status, a *etree.Element) {
	el, err := samlp.Sign(f.response(now, inResponseTo, acs, st, a), f.signer())
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	page, err := binding.EncodePOST(acs, el, "", binding.FormOptions{})
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(page)
}
