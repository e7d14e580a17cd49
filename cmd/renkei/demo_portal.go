package main

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"html"
	"net/http"
	"sync"
	"time"

	"github.com/beevik/etree"
	"github.com/gorilla/mux"

	"github.com/renkei-idwsf/renkei/internal/httpx"
	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/binding"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/store"
	"github.com/renkei-idwsf/renkei/store/sqlstore"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
	"github.com/renkei-idwsf/renkei/xmlsec/xmlenc"
	"github.com/renkei-idwsf/renkei/xmlsec/xsd"
)

// Paths of the demo portal.
const (
	portalLogin = "/login"
	portalACS   = "/acs"
)

// login is what the portal accepted from one SAML Response.
type login struct {
	Assertion *saml.Assertion
	Signed    *etree.Element // the verified saml:Assertion, decrypted
	Encrypted bool
	Bootstrap []*wsf.EPR
}

// portal is My Portal reduced to its SAML SP part (SAML2.md §3.3): it
// sends signed AuthnRequests with the HTTP-Redirect binding and accepts
// encrypted, signed assertions at its HTTP-POST ACS.
type portal struct {
	ID      string
	BaseURL string
	key     crypto.Signer // signs requests, decrypts assertions
	cert    *x509.Certificate
	schema  *xsd.Schema
	replay  *sqlstore.DB
	group   *httpx.Group

	idpID    string
	idpSSO   string
	verifier *dsig.Verifier

	mu      sync.Mutex
	pending map[string]bool // AuthnRequest IDs awaiting their response
	last    *login
	lastErr error
}

// startPortal listens on 127.0.0.1 with tlsCert and serves the login and
// ACS endpoints; the IdP it trusts is set later with trustIdP.
func startPortal(ctx context.Context, id string, key crypto.Signer, cert *x509.Certificate, tlsCert tls.Certificate) (*portal, error) {
	schema, err := xsd.Default()
	if err != nil {
		return nil, err
	}
	db, err := sqlstore.Open(ctx, "sqlite::memory:")
	if err != nil {
		return nil, err
	}
	p := &portal{ID: id, key: key, cert: cert, schema: schema, replay: db,
		group: &httpx.Group{ShutdownTimeout: 5 * time.Second}, pending: map[string]bool{}}
	r := mux.NewRouter()
	r.HandleFunc(portalLogin, p.serveLogin).Methods(http.MethodGet)
	r.HandleFunc(portalACS, p.serveACS).Methods(http.MethodPost)
	err = p.group.Start(httpx.Server{Name: "portal", Addr: "127.0.0.1:0", Handler: httpx.Secure(r),
		TLS: &tls.Config{Certificates: []tls.Certificate{tlsCert}, MinVersion: tls.VersionTLS12}})
	if err != nil {
		db.Close()
		return nil, err
	}
	p.BaseURL = "https://" + p.group.Addr("portal").String()
	return p, nil
}

func (p *portal) close() {
	_ = p.group.Shutdown()
	p.replay.Close()
}

// entity is the portal's md:EntityDescriptor: one key for signing and
// encryption, the HTTP-POST ACS, and the request for the discovery
// bootstrap (IDWSF2 §4.5).
func (p *portal) entity() *md.EntityDescriptor {
	yes := true
	keys := []md.KeyDescriptor{{Use: md.UseSigning, Certificates: []*x509.Certificate{p.cert}},
		{Use: md.UseEncryption, Certificates: []*x509.Certificate{p.cert}}}
	d := &md.SPSSODescriptor{SSO: md.SSO{Role: md.Role{ProtocolSupport: []string{md.ProtocolSAML2}, Keys: keys}},
		AuthnRequestsSigned: true, WantAssertionsSigned: true,
		AssertionConsumer: []md.IndexedEndpoint{{Endpoint: md.Endpoint{Binding: samlp.BindingHTTPPOST, Location: p.BaseURL + portalACS}, Index: 0, IsDefault: &yes}},
		AttributeConsuming: []md.AttributeConsumingService{{Index: 0, ServiceNames: []md.Localized{{Lang: "en", Value: "My Portal"}},
			Requested: []md.RequestedAttribute{{Attribute: md.Attribute{Name: md.DiscoveryEPRAttribute, NameFormat: saml.AttrNameFormatURI}}}}}}
	return &md.EntityDescriptor{EntityID: p.ID, SPSSO: []*md.SPSSODescriptor{d}}
}

// trustIdP reads the IdP's metadata, verified with the IdP's signing
// certificate the operator gave the portal, and takes its HTTP-Redirect
// SingleSignOnService.
func (p *portal) trustIdP(signed *etree.Element, idpCert *x509.Certificate) error {
	v := &dsig.Verifier{Trust: xmlsec.NewTrustSet([]*x509.Certificate{idpCert})}
	doc, _, err := md.Verify(signed, v)
	if err != nil {
		return err
	}
	if doc.Entity == nil {
		return errors.New("IdP metadata is not one md:EntityDescriptor")
	}
	d, err := doc.Entity.IDP()
	if err != nil {
		return err
	}
	sso, err := d.SingleSignOnService(samlp.BindingHTTPRedirect)
	if err != nil {
		return err
	}
	p.idpID, p.idpSSO, p.verifier = doc.Entity.EntityID, sso.Location, v
	return nil
}

// serveLogin sends the browser to the IdP with a signed AuthnRequest
// (SAML Bindings §3.4.4.1); ?force=1 sets ForceAuthn.
func (p *portal) serveLogin(w http.ResponseWriter, r *http.Request) {
	req := &samlp.AuthnRequest{RequestHeader: samlp.RequestHeader{ID: "_" + randomID(), IssueInstant: time.Now().UTC(),
		Destination: p.idpSSO, Issuer: &saml.Issuer{Value: p.ID}},
		AssertionConsumerServiceURL: p.BaseURL + portalACS, ProtocolBinding: samlp.BindingHTTPPOST,
		NameIDPolicy: &samlp.NameIDPolicy{Format: saml.NameIDPersistent, AllowCreate: true},
		ForceAuthn:   r.URL.Query().Get("force") == "1"}
	u, err := binding.RedirectURL(p.idpSSO, req.Element(), "", &binding.RedirectSigner{Key: p.key})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	p.mu.Lock()
	p.pending[req.ID] = true
	p.mu.Unlock()
	http.Redirect(w, r, u, http.StatusFound)
}

func (p *portal) serveACS(w http.ResponseWriter, r *http.Request) {
	got, err := p.consume(r)
	p.mu.Lock()
	p.last, p.lastErr = got, err
	p.mu.Unlock()
	if err != nil {
		http.Error(w, "login refused: "+err.Error(), http.StatusForbidden)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, "<!DOCTYPE html><title>My Portal</title><p>Welcome, %s</p>", html.EscapeString(got.Assertion.Subject.NameID.Value))
}

// result returns what the last POST to the ACS gave.
func (p *portal) result() (*login, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.last, p.lastErr
}

// consume checks a Response as SAML2.md §3.3 says: schema, signature,
// Destination, Issuer, status; then the assertion decrypted, verified,
// its conditions and bearer confirmation checked, its ID used once, and
// only then the request it answers is taken off the pending list.
func (p *portal) consume(r *http.Request) (*login, error) {
	now := time.Now()
	msg, err := (&binding.POSTDecoder{}).DecodeRequest(r)
	if err != nil {
		return nil, err
	}
	if err := p.schema.ValidateElement(msg.Element); err != nil {
		return nil, err
	}
	resp, _, err := samlp.VerifyResponse(msg.Element, p.verifier)
	if err != nil {
		return nil, err
	}
	acs := p.BaseURL + portalACS
	if resp.Destination != acs || resp.Issuer == nil || resp.Issuer.Value != p.idpID {
		return nil, fmt.Errorf("response for %q from %v", resp.Destination, resp.Issuer)
	}
	if !resp.Status.Success() {
		return nil, fmt.Errorf("IdP answered %s %s", resp.Status.Code.Value, resp.Status.Second())
	}
	got, err := p.assertion(resp, acs, now)
	if err != nil {
		return nil, err
	}
	if err := p.replay.CheckAndInsert(r.Context(), store.NewReplayKey(store.ReplayAssertionID, p.idpID, got.Assertion.ID),
		got.Assertion.Conditions.NotOnOrAfter, now); err != nil {
		return nil, err
	}
	return got, p.answered(resp.InResponseTo)
}

func (p *portal) answered(id string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.pending[id] {
		return fmt.Errorf("InResponseTo %q answers no request of ours", id)
	}
	delete(p.pending, id)
	return nil
}

// assertion decrypts and verifies the one assertion of resp and checks
// audience, time and the bearer confirmation (SAML Profiles §4.1.4.3).
func (p *portal) assertion(resp *samlp.Response, acs string, now time.Time) (*login, error) {
	if len(resp.Assertions) != 1 || resp.Assertions[0].Tag != "EncryptedAssertion" {
		return nil, fmt.Errorf("want one EncryptedAssertion, got %d assertions", len(resp.Assertions))
	}
	dec := &xmlenc.Decrypter{Key: p.key.(crypto.Decrypter), EntityID: p.ID}
	plain, err := dec.Decrypt(resp.Assertions[0])
	if err != nil {
		return nil, err
	}
	a, signed, err := saml.VerifyAssertion(plain, p.verifier)
	if err != nil {
		return nil, err
	}
	if err := a.CheckConditions(now, time.Minute, p.ID); err != nil {
		return nil, err
	}
	if err := bearer(a, acs, resp.InResponseTo, now); err != nil {
		return nil, err
	}
	eprs, err := wsf.BootstrapEPRs(a)
	if err != nil {
		return nil, err
	}
	return &login{Assertion: a, Signed: signed, Encrypted: true, Bootstrap: eprs}, nil
}

func bearer(a *saml.Assertion, acs, inResponseTo string, now time.Time) error {
	if a.Subject == nil || a.Subject.NameID == nil || len(a.AuthnStatements) != 1 {
		return errors.New("assertion without NameID or AuthnStatement")
	}
	for _, c := range a.Subject.Confirmations {
		d := c.Data
		if c.Method == saml.CMBearer && d != nil && d.Recipient == acs && d.InResponseTo == inResponseTo && now.Before(d.NotOnOrAfter) {
			return nil
		}
	}
	return fmt.Errorf("no bearer confirmation for %s answering %s", acs, inResponseTo)
}
