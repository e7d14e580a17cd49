package lasso

import (
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
)

// SPConfig is what an SP may vary; the zero value is an SP with fresh RSA
// signing keys, no encryption key and no DiscoveryEPR request.
type SPConfig struct {
	// Signing signs AuthnRequests; nil issues a fresh RSA leaf from the
	// shared test CA (Lasso 2.8 signs with RSA only).
	Signing *pki.Identity
	// Encrypt lists an encryption key (its own fresh RSA leaf) in the
	// metadata, with which Lasso decrypts assertions.
	Encrypt bool
	// RequestDiscoveryEPR adds an AttributeConsumingService requesting
	// urn:liberty:disco:2006-08:DiscoveryEPR.
	RequestDiscoveryEPR bool
	// SignatureMethod is "rsa-sha256" (default) or "rsa-sha1".
	SignatureMethod string
	// UnsignedRequests sends AuthnRequests unsigned (Lasso's signature
	// hint FORBID), and the metadata says AuthnRequestsSigned="false".
	UnsignedRequests bool
	// VerifyHint is Lasso's signature verify hint for responses: "force"
	// (default: a signature must be present and valid) or "maybe".
	VerifyHint string
	// TLS is the HTTPS server identity; nil means the shared RSA leaf,
	// which names localhost.
	TLS *pki.Identity
}

// SP is a Lasso SP: its URLs and metadata are fixed when NewSP returns;
// Start runs it once the IdP's metadata is known.
type SP struct {
	// URL is the base URL, https://127.0.0.1:PORT.
	URL string
	// EntityID is URL + "/metadata", where the metadata is also served.
	EntityID string
	// Metadata is the SP's metadata, as served.
	Metadata []byte
	// Signing and Encryption are the SP's keys (Encryption nil unless
	// Encrypt).
	Signing, Encryption *pki.Identity

	tb   testing.TB
	cfg  SPConfig
	dir  string
	ln   *net.TCPListener
	proc *proc
}

// NewSP reserves a port for a Lasso SP and writes its keys and metadata;
// it skips the test when python3-lasso is missing.
func NewSP(tb testing.TB, cfg SPConfig) *SP {
	tb.Helper()
	Require(tb)
	sp, err := newSP(tb, cfg)
	if err != nil {
		tb.Fatalf("lasso SP: %v", err)
	}
	return sp
}

func newSP(tb testing.TB, cfg SPConfig) (*SP, error) {
	ln, err := listen()
	if err != nil {
		return nil, err
	}
	tb.Cleanup(func() { ln.Close() })
	sp := &SP{tb: tb, cfg: cfg, dir: tb.TempDir(), ln: ln, URL: "https://" + ln.Addr().String()}
	sp.EntityID = sp.URL + "/metadata"
	if sp.Signing, err = identity(cfg.Signing, "lasso-sp-signing"); err != nil {
		return nil, err
	}
	var enc *x509.Certificate
	if cfg.Encrypt {
		if sp.Encryption, err = identity(nil, "lasso-sp-encryption"); err != nil {
			return nil, err
		}
		enc = sp.Encryption.Cert
	}
	sp.Metadata = spMetadata(sp.EntityID, sp.URL, sp.Signing.Cert, enc, cfg.RequestDiscoveryEPR, cfg.UnsignedRequests)
	return sp, nil
}

// identity returns id, or a fresh RSA leaf of the shared test CA.
func identity(id *pki.Identity, name string) (*pki.Identity, error) {
	if id != nil {
		return id, nil
	}
	p, err := pki.Get()
	if err != nil {
		return nil, err
	}
	return p.CA.Issue(name, pki.RSA2048)
}

// Start runs the SP with the IdP's metadata exactly as the IdP serves it
// (see FetchMetadata). When Lasso refuses the metadata the SP does not
// start and the error carries Lasso's words.
func (sp *SP) Start(idpMetadata []byte) error {
	if sp.proc != nil {
		return errStarted
	}
	cfg, err := sp.files(idpMetadata)
	if err != nil {
		return err
	}
	path, err := writeConfig(sp.dir, cfg)
	if err != nil {
		return err
	}
	sp.proc, err = startProc(sp.tb, sp.dir, "sp.py", sp.ln, path)
	return err
}

// files writes the keys and metadata and returns the script's config.
func (sp *SP) files(idpMetadata []byte) (map[string]any, error) {
	tlsID := sp.cfg.TLS
	if tlsID == nil {
		tlsID = pki.MustGet().RSA
	}
	files := map[string][]byte{
		"metadata": sp.Metadata, "idpMetadata": idpMetadata, "key": sp.Signing.KeyPEM(), "cert": sp.Signing.CertPEM(),
		"tlsKey": tlsID.KeyPEM(), "tlsCert": tlsID.CertPEM(),
	}
	if sp.Encryption != nil {
		files["encKey"] = sp.Encryption.KeyPEM()
	}
	cfg, err := writeFiles(sp.dir, files)
	if err != nil {
		return nil, err
	}
	cfg["signatureMethod"], cfg["verifyHint"], cfg["unsignedRequests"] = sp.cfg.SignatureMethod, sp.cfg.VerifyHint, sp.cfg.UnsignedRequests
	return cfg, nil
}

// writeFiles writes each file under its config key's name and returns the
// config naming their paths.
func writeFiles(dir string, files map[string][]byte) (map[string]any, error) {
	cfg := map[string]any{}
	for key, b := range files {
		path := filepath.Join(dir, key)
		if err := os.WriteFile(path, b, 0o600); err != nil {
			return nil, err
		}
		cfg[key] = path
	}
	return cfg, nil
}

// Stderr is what Lasso and python wrote to standard error so far.
func (sp *SP) Stderr() string {
	if sp.proc == nil {
		return ""
	}
	return sp.proc.Stderr()
}

// Binding and NameID choices of LoginURL.
const (
	Redirect   = "redirect"
	POST       = "post"
	Persistent = "persistent"
	Transient  = "transient"
)

// LoginURL starts an SSO: the SP answers with an AuthnRequest over binding
// (Redirect or POST) asking for the NameID format nameid (Persistent or
// Transient), ForceAuthn when force.
func (sp *SP) LoginURL(binding, nameid string, force bool) string {
	f := "0"
	if force {
		f = "1"
	}
	return sp.URL + "/login?" + url.Values{"binding": {binding}, "nameid": {nameid}, "force": {f}}.Encode()
}

// ECPURL is where an ECP asks the SP for a PAOS AuthnRequest.
func (sp *SP) ECPURL(nameid string) string {
	return sp.URL + "/ecp?" + url.Values{"nameid": {nameid}}.Encode()
}

// Result is what the Lasso SP accepted from a Response.
type Result struct {
	Issuer          string      `json:"issuer"`
	NameID          string      `json:"nameID"`
	Format          string      `json:"format"`
	NameQualifier   string      `json:"nameQualifier"`
	SPNameQualifier string      `json:"spNameQualifier"`
	InResponseTo    string      `json:"inResponseTo"`
	RequestID       string      `json:"requestID"`
	RelayState      string      `json:"relayState"`
	Encrypted       bool        `json:"encrypted"`
	Attributes      []Attribute `json:"attributes"`
	AuthnContext    string      `json:"authnContext"`
	SessionIndex    string      `json:"sessionIndex"`
}

// Attribute is one saml:Attribute; Values are the raw XML of each
// saml:AttributeValue as Lasso dumps it.
type Attribute struct {
	Name         string   `json:"name"`
	NameFormat   string   `json:"nameFormat"`
	FriendlyName string   `json:"friendlyName"`
	Values       []string `json:"values"`
}

// Attr returns the attribute named name, or nil.
func (r *Result) Attr(name string) *Attribute {
	for i := range r.Attributes {
		if r.Attributes[i].Name == name {
			return &r.Attributes[i]
		}
	}
	return nil
}

// RefusedError is the SP's answer when Lasso refused a Response.
type RefusedError struct {
	HTTPStatus int
	// Err is Lasso's error text and Code its number.
	Err  string `json:"error"`
	Code int    `json:"code"`
	// Status are the samlp:StatusCode values, outer first, when the
	// Response carried a non-success status.
	Status []string `json:"status"`
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("lasso SP refused the response (HTTP %d): %s (code %d, status %v)", e.HTTPStatus, e.Err, e.Code, e.Status)
}

// ParseResult reads the ACS's answer: a *Result on 200, a *RefusedError on
// a 4xx or 5xx with Lasso's JSON, another error for anything else.
func ParseResult(status int, body []byte) (*Result, error) {
	if status == 200 {
		var r Result
		if err := json.Unmarshal(body, &r); err != nil {
			return nil, fmt.Errorf("lasso SP: result %q: %w", body, err)
		}
		return &r, nil
	}
	e := &RefusedError{HTTPStatus: status}
	if err := json.Unmarshal(body, e); err != nil || e.Err == "" {
		return nil, fmt.Errorf("lasso SP: HTTP %d: %q", status, body)
	}
	return nil, e
}
