// Package crewjam runs github.com/crewjam/saml's ServiceProvider as an
// independent SAML 2.0 SP on loopback HTTPS, for Renkei's IdP interop
// tests. It lives in a module of its own so that crewjam's dependency
// versions never move Renkei's (ARCHITECTURE.md).
//
// The SP is configured from the IdP's metadata exactly as served, parsed by
// crewjam itself (samlsp.ParseMetadata); it has its own RSA key and
// certificate from the test PKI, signs its AuthnRequests when asked
// (crewjam's SignatureMethod), sends them over HTTP-Redirect or HTTP-POST,
// asks for a persistent or transient NameID, and decrypts assertions
// encrypted for the key its metadata lists. Login walks one SSO with a
// browser (internal/browser) and reports what crewjam accepted, or
// crewjam's private error:
//
//	sp := crewjam.New(t, crewjam.Config{SignatureMethod: crewjam.RSASHA256, Encrypt: true})
//	// ... start the IdP trusting sp.Metadata ...
//	md, _ := crewjam.Fetch(ctx, client, idpMetadataURL)
//	if err := sp.Start(md); err != nil { ... } // crewjam refused the metadata
//	res, err := sp.Login(ctx, b, crewjam.Redirect, crewjam.Transient, false)
package crewjam

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"

	"github.com/crewjam/saml"
	"github.com/crewjam/saml/samlsp"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
)

// NameID formats and bindings, as crewjam names them.
const (
	Persistent = saml.PersistentNameIDFormat
	Transient  = saml.TransientNameIDFormat
	Redirect   = saml.HTTPRedirectBinding
	POST       = saml.HTTPPostBinding

	// RSASHA256 is the SignatureMethod for signed requests.
	RSASHA256 = dsig.RSASHA256SignatureMethod

	// DiscoveryEPR is the attribute an SP requests for the ID-WSF
	// discovery bootstrap.
	DiscoveryEPR = "urn:liberty:disco:2006-08:DiscoveryEPR"
)

// Config is what the SP may vary; the zero value signs nothing, lists no
// encryption key and has a fresh RSA key.
type Config struct {
	// Identity is the SP's key and certificate; nil issues a fresh RSA
	// leaf from the shared test CA. An RSA key also decrypts.
	Identity *pki.Identity
	// SignatureMethod signs AuthnRequests (e.g. dsig.RSASHA256SignatureMethod);
	// empty sends them unsigned and the metadata says AuthnRequestsSigned="false".
	SignatureMethod string
	// Encrypt keeps the encryption KeyDescriptor crewjam writes for an RSA
	// key; without it the metadata lists the key for signing only.
	Encrypt bool
	// RequestDiscoveryEPR adds an AttributeConsumingService requesting
	// urn:liberty:disco:2006-08:DiscoveryEPR.
	RequestDiscoveryEPR bool
	// TLS is the HTTPS server identity; nil means the shared RSA leaf,
	// which names localhost.
	TLS *pki.Identity
}

// SP is a running crewjam ServiceProvider.
type SP struct {
	// URL is https://127.0.0.1:PORT; the metadata is served at EntityID =
	// URL + "/metadata", the ACS (HTTP-POST) at URL + "/acs".
	URL, EntityID string
	// Metadata is the SP's metadata as served.
	Metadata []byte
	// Identity holds the SP's key and certificate.
	Identity *pki.Identity

	srv    *httptest.Server
	base   saml.ServiceProvider
	mu     sync.Mutex
	issued map[string]string // RelayState -> AuthnRequest ID
}

// New starts the SP's HTTPS server; Start gives it the IdP's metadata.
func New(tb testing.TB, cfg Config) *SP {
	tb.Helper()
	sp, err := newSP(cfg)
	if err != nil {
		tb.Fatalf("crewjam SP: %v", err)
	}
	tb.Cleanup(sp.srv.Close)
	return sp
}

func newSP(cfg Config) (*SP, error) {
	p, err := pki.Get()
	if err != nil {
		return nil, err
	}
	id := cfg.Identity
	if id == nil {
		if id, err = p.CA.Issue("crewjam-sp", pki.RSA2048); err != nil {
			return nil, err
		}
	}
	tlsID := cfg.TLS
	if tlsID == nil {
		tlsID = p.RSA
	}
	sp := &SP{Identity: id, issued: map[string]string{}}
	sp.srv = httptest.NewUnstartedServer(http.HandlerFunc(sp.serve))
	sp.srv.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{tlsID.Cert.Raw}, PrivateKey: tlsID.Key}}}
	sp.srv.StartTLS()
	sp.URL = sp.srv.URL
	sp.EntityID = sp.URL + "/metadata"
	sp.configure(cfg)
	if sp.Metadata, err = sp.metadata(cfg); err != nil {
		sp.srv.Close()
		return nil, err
	}
	return sp, nil
}

func (sp *SP) configure(cfg Config) {
	mdURL, _ := url.Parse(sp.EntityID)
	acsURL, _ := url.Parse(sp.URL + "/acs")
	sp.base = saml.ServiceProvider{
		EntityID: sp.EntityID, Key: sp.Identity.Key, Certificate: sp.Identity.Cert,
		MetadataURL: *mdURL, AcsURL: *acsURL, SignatureMethod: cfg.SignatureMethod,
		AssertionConsumerServiceBindings: []string{saml.HTTPPostBinding},
		AuthnNameIDFormat:                Persistent,
	}
	if k, ok := sp.Identity.Key.(*rsa.PrivateKey); ok {
		sp.base.DecryptionKeys = []*rsa.PrivateKey{k}
	}
}

// metadata is crewjam's own SP metadata, with the encryption key dropped
// unless cfg.Encrypt, and the DiscoveryEPR request added if asked.
func (sp *SP) metadata(cfg Config) ([]byte, error) {
	ed := sp.base.Metadata()
	d := &ed.SPSSODescriptors[0]
	if !cfg.Encrypt {
		var kept []saml.KeyDescriptor
		for _, k := range d.KeyDescriptors {
			if k.Use != "encryption" {
				kept = append(kept, k)
			}
		}
		d.KeyDescriptors = kept
		if len(kept) == 0 { // an unsigned SP still names its key
			d.KeyDescriptors = []saml.KeyDescriptor{signingKey(sp.Identity.Cert)}
		}
	}
	if cfg.RequestDiscoveryEPR {
		req := true
		d.AttributeConsumingServices = []saml.AttributeConsumingService{{
			Index: 0, ServiceNames: []saml.LocalizedName{{Lang: "en", Value: "crewjam SP"}},
			RequestedAttributes: []saml.RequestedAttribute{{IsRequired: &req,
				Attribute: saml.Attribute{Name: DiscoveryEPR, NameFormat: "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"}}},
		}}
	}
	return xml.MarshalIndent(ed, "", " ")
}

func signingKey(cert *x509.Certificate) saml.KeyDescriptor {
	return saml.KeyDescriptor{Use: "signing", KeyInfo: saml.KeyInfo{X509Data: saml.X509Data{
		X509Certificates: []saml.X509Certificate{{Data: base64.StdEncoding.EncodeToString(cert.Raw)}}}}}
}

// Start gives the SP the IdP's metadata exactly as served; crewjam parses
// it (samlsp.ParseMetadata) and any refusal is returned.
func (sp *SP) Start(idpMetadata []byte) error {
	ed, err := samlsp.ParseMetadata(idpMetadata)
	if err != nil {
		return fmt.Errorf("crewjam refused the IdP metadata: %w", err)
	}
	sp.mu.Lock()
	defer sp.mu.Unlock()
	sp.base.IDPMetadata = ed
	return nil
}

// Fetch GETs the IdP's metadata with c and returns the bytes as served.
func Fetch(ctx context.Context, c *http.Client, metadataURL string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, metadataURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("crewjam: metadata %s: HTTP %d", metadataURL, resp.StatusCode)
	}
	return b, nil
}

// LoginURL starts an SSO with an AuthnRequest sent over binding (Redirect
// or POST) asking for the NameID format (Persistent or Transient).
func (sp *SP) LoginURL(binding string, format saml.NameIDFormat, force bool) string {
	q := url.Values{"binding": {binding}, "format": {string(format)}}
	if force {
		q.Set("force", "1")
	}
	return sp.URL + "/login?" + q.Encode()
}

// provider is a per-request copy of the configured ServiceProvider.
func (sp *SP) provider() (saml.ServiceProvider, error) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.base.IDPMetadata == nil {
		return saml.ServiceProvider{}, errors.New("crewjam SP: no IdP metadata yet (call Start)")
	}
	return sp.base, nil
}

func (sp *SP) serve(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/metadata":
		w.Header().Set("Content-Type", "application/samlmetadata+xml")
		w.Write(sp.Metadata)
	case r.Method == http.MethodGet && r.URL.Path == "/login":
		sp.login(w, r)
	case r.Method == http.MethodPost && r.URL.Path == "/acs":
		sp.acs(w, r)
	default:
		http.NotFound(w, r)
	}
}

// login answers with an AuthnRequest to the IdP's SingleSignOnService for
// the chosen binding; the response comes back over HTTP-POST.
func (sp *SP) login(w http.ResponseWriter, r *http.Request) {
	p, err := sp.provider()
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	q := r.URL.Query()
	binding := q.Get("binding")
	p.AuthnNameIDFormat = saml.NameIDFormat(q.Get("format"))
	if q.Get("force") == "1" {
		force := true
		p.ForceAuthn = &force
	}
	req, err := p.MakeAuthenticationRequest(p.GetSSOBindingLocation(binding), binding, saml.HTTPPostBinding)
	if err != nil {
		http.Error(w, "crewjam: "+err.Error(), http.StatusInternalServerError)
		return
	}
	relayState := sp.track(req.ID)
	sp.send(w, r, &p, req, binding, relayState)
}

func (sp *SP) send(w http.ResponseWriter, r *http.Request, p *saml.ServiceProvider, req *saml.AuthnRequest, binding, relayState string) {
	if binding == POST {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<!DOCTYPE html><html><body>%s</body></html>", req.Post(relayState))
		return
	}
	u, err := req.Redirect(relayState, p)
	if err != nil {
		http.Error(w, "crewjam: "+err.Error(), http.StatusInternalServerError)
		return
	}
	http.Redirect(w, r, u.String(), http.StatusFound)
}

func (sp *SP) track(id string) string {
	b := make([]byte, 8)
	rand.Read(b)
	rs := "rs-" + hex.EncodeToString(b)
	sp.mu.Lock()
	defer sp.mu.Unlock()
	sp.issued[rs] = id
	return rs
}

func (sp *SP) requestIDs() []string {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	ids := make([]string, 0, len(sp.issued))
	for _, id := range sp.issued {
		ids = append(ids, id)
	}
	return ids
}
