package conformance

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/xmlenc"
)

// SPTarget is a SAML 2.0 SP under test (Web Browser SSO, SAML Profiles
// §4.1), known by its metadata, and the IdP the suite plays for it. The
// operator registers the suite's IdP at the SP (SuiteIdP.Metadata): its
// entityID, its signing certificate and its SingleSignOnService, a
// loopback listener the suite runs while the cases run. Each case begins
// a fresh login at Login with a fresh browser, so that the SP's
// AuthnRequest (and any cookie binding it to the browser) is new, and
// answers it with the Response it crafts, posted to the ACS from the same
// browser. Whether the SP accepted a Response is read from its answer to
// that POST by the Accepted rule.
type SPTarget struct {
	EntityID string
	// ACS is the SP's AssertionConsumerService for HTTP-POST.
	ACS string
	// Keys are the SP's signing certificates, which its AuthnRequests are
	// checked with when AuthnRequestsSigned.
	Keys                                      []*x509.Certificate
	AuthnRequestsSigned, WantAssertionsSigned bool
	// Encryption is the SP's encryption key, which assertions are
	// encrypted for (EncryptedAssertion); nil when its metadata lists
	// none, and the assertions go plain.
	Encryption *xmlenc.Recipient
	// Login is the URL the suite GETs to make the SP send an AuthnRequest.
	Login    string
	Accepted AcceptRule
	IdP      SuiteIdP
	// NameIDFormat is the format of the subject's NameID; "" means
	// persistent. AuthnContext is the AuthnContextClassRef asserted; ""
	// means PasswordProtectedTransport.
	NameIDFormat string
	AuthnContext string
	// Bootstrap, when set, is the ID-WSF discovery bootstrap (the
	// DiscoveryEPR attribute, IDWSF2 §4.5) every assertion carries, for an
	// SP that needs one to open a session; nil means none.
	Bootstrap *Bootstrap
	// AcceptsUnsolicited says the SP was configured for IdP-initiated SSO
	// (SAML Profiles §4.1.5): the unsolicited-Response case is then not
	// applicable.
	AcceptsUnsolicited bool
	// SLORedirect and SLOSOAP are the SP's SingleLogoutService locations
	// for HTTP-Redirect and SOAP, "" when its metadata lists none.
	SLORedirect, SLOSOAP string
	// Session tells whether a browser has a session at the SP, for the
	// Single Logout cases; without it they cannot be judged.
	Session SessionRule
	// Metadata is the SP's metadata as read, for the metadata cases.
	Metadata *Target
}

// AcceptRule tells an accepted Response from a refused one by the SP's
// answer to the POST at its ACS (not followed): every condition that is
// set must hold for an acceptance, and anything else is a refusal (an
// error page, a 4xx or 5xx, no session cookie). At least one is required.
// Renkei's portal: {"status": 303, "locationPrefix": "/", "setsCookie":
// "__Host-portal-session"}.
type AcceptRule struct {
	// Status is the HTTP status of an acceptance; 0 means any 2xx or 3xx.
	Status int `json:"status,omitempty"`
	// LocationPrefix is what the Location of an acceptance begins with,
	// resolved against the ACS URL; a relative prefix ("/") is a path on
	// the ACS's origin.
	LocationPrefix string `json:"locationPrefix,omitempty"`
	// SetsCookie is a cookie an acceptance sets to a non-empty value (the
	// SP's session).
	SetsCookie string `json:"setsCookie,omitempty"`
}

// Bootstrap is the Discovery Service an assertion's DiscoveryEPR attribute
// names: its entityID and SOAP endpoint. The EPR carries a SecurityContext
// with ClientTLS:SAMLV2 and no token (the suite cannot mint the DS's),
// unless Token is set: the WSC role, where the suite plays the DS too.
type Bootstrap struct {
	DS      string `json:"ds"`
	Address string `json:"address"`
	// Token, when set, mints the DS's token for the SP (as a WSC) that the
	// EPR carries, valid from now. A token it fails to mint is left out:
	// the WSC then cannot call the DS, which the case sees.
	Token func(now time.Time) (*etree.Element, error) `json:"-"`
}

// SuiteIdP is the IdP the suite plays: its entityID and signing key, and
// the loopback listener of its SingleSignOnService.
type SuiteIdP struct {
	EntityID string
	Key      crypto.Signer
	Cert     *x509.Certificate
	// Listen is the loopback host:port of the SSO listener.
	Listen string
	// Listener, when set, is served instead of listening on Listen
	// (tests); Listen is then its address.
	Listener net.Listener
}

// The suite IdP's paths.
const (
	PathSuiteSSO      = "/sso"
	PathSuiteMetadata = "/metadata"
	PathSuiteSLO      = "/slo"
)

// BaseURL is the suite IdP's origin.
func (i *SuiteIdP) BaseURL() string { return "http://" + i.Listen }

// SSOURL is the suite IdP's SingleSignOnService (HTTP-Redirect).
func (i *SuiteIdP) SSOURL() string { return i.BaseURL() + PathSuiteSSO }

// SLOURL is the suite IdP's SingleLogoutService (HTTP-Redirect), where
// the SP's LogoutResponses arrive.
func (i *SuiteIdP) SLOURL() string { return i.BaseURL() + PathSuiteSLO }

// Descriptor is the suite IdP's metadata: its signing key, the
// SingleSignOnService and the SingleLogoutService for HTTP-Redirect, and
// the persistent and transient NameID formats.
func (i *SuiteIdP) Descriptor() *md.EntityDescriptor {
	return &md.EntityDescriptor{EntityID: i.EntityID, IDPSSO: []*md.IDPSSODescriptor{{
		SSO: md.SSO{Role: md.Role{ProtocolSupport: []string{md.ProtocolSAML2},
			Keys: []md.KeyDescriptor{{Use: md.UseSigning, Certificates: []*x509.Certificate{i.Cert}}}},
			NameIDFormats: []string{saml.NameIDPersistent, FormatTransient},
			SingleLogout:  []md.Endpoint{{Binding: samlp.BindingHTTPRedirect, Location: i.SLOURL()}}},
		SingleSignOn: []md.Endpoint{{Binding: samlp.BindingHTTPRedirect, Location: i.SSOURL()}},
	}}}
}

// Metadata returns the suite IdP's metadata document, for the operator to
// register at the SP under test.
func (i *SuiteIdP) Metadata() ([]byte, error) { return xmlsec.Serialize(i.Descriptor().Element()) }

// Validate reports every problem of the description at once.
func (t *SPTarget) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if t.EntityID == "" || t.ACS == "" {
		add("the SP needs an entityID and an HTTP-POST AssertionConsumerService")
	}
	if t.AuthnRequestsSigned && len(t.Keys) == 0 {
		add("the SP signs its AuthnRequests but its metadata lists no signing key")
	}
	if u, err := url.Parse(t.Login); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		add("login %q is not an http(s) URL", t.Login)
	}
	if t.Accepted == (AcceptRule{}) {
		add("accepted: give at least one of status, locationPrefix and setsCookie")
	}
	if t.IdP.EntityID == "" || t.IdP.Key == nil || t.IdP.Cert == nil {
		add("idp needs an entityID, a key and a certificate")
	}
	if h, _, err := net.SplitHostPort(t.IdP.Listen); err != nil || !isLoopback(h) {
		add("idp listen %q is not a loopback host:port", t.IdP.Listen)
	}
	if err := t.Session.validate(); err != nil {
		add("session: %v", err)
	}
	if b := t.Bootstrap; b != nil && (b.DS == "" || b.Address == "") {
		add("bootstrap needs the DS's entityID and address")
	}
	return errors.Join(errs...)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// nameIDFormat is the subject's NameID format.
func (t *SPTarget) nameIDFormat() string {
	if t.NameIDFormat != "" {
		return t.NameIDFormat
	}
	return saml.NameIDPersistent
}

// nameID is the subject's NameID of value: persistent ones qualified by
// the suite IdP and the SP.
func (t *SPTarget) nameID(value string) *saml.NameID {
	nid := &saml.NameID{Value: value, Format: t.nameIDFormat()}
	if nid.Format == saml.NameIDPersistent {
		nid.NameQualifier, nid.SPNameQualifier = t.IdP.EntityID, t.EntityID
	}
	return nid
}

// authnContext is the AuthnContextClassRef asserted.
func (t *SPTarget) authnContext() string {
	if t.AuthnContext != "" {
		return t.AuthnContext
	}
	return "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
}

// bootstrapAttribute is the DiscoveryEPR attribute of Bootstrap.
func (t *SPTarget) bootstrapAttribute(now time.Time) saml.Attribute {
	b := t.Bootstrap
	sc := wsf.SecurityContext{Mechanisms: []string{string(wsf.ClientTLSSAMLV2)}}
	if b.Token != nil {
		if tok, err := b.Token(now); err == nil {
			sc.Tokens = []wsf.Token{{Usage: wsf.UsageSecurityToken, Element: tok}}
		}
	}
	epr := &wsf.EPR{Address: b.Address, Metadata: &wsf.EPRMetadata{Abstract: "Renkei conformance bootstrap", ProviderID: b.DS,
		ServiceType: wsf.ServiceTypeDisco, Framework: wsf.FrameworkVersion,
		SecurityContexts: []wsf.SecurityContext{sc}}}
	return saml.Attribute{Name: wsf.DiscoveryEPRAttr, NameFormat: saml.AttrNameFormatURI,
		Values: []saml.AttributeValue{{Elements: []*etree.Element{epr.Element()}}}}
}

// FromMetadata reads what the suite needs of the SP's metadata: its
// entityID (unless given), the HTTP-POST ACS (unless given), the signing
// keys, whether it signs requests and wants assertions signed, its
// encryption key and its SingleLogoutServices.
func (t *SPTarget) FromMetadata(m *Target) error {
	d, err := m.Entity.SP()
	if err != nil {
		return fmt.Errorf("metadata %s: %w", m.Source, err)
	}
	if t.EntityID == "" {
		t.EntityID = m.Entity.EntityID
	}
	for _, ep := range d.AssertionConsumer {
		if ep.Binding == samlp.BindingHTTPPOST && t.ACS == "" {
			t.ACS = ep.Location
		}
	}
	for _, ep := range d.SingleLogout {
		switch {
		case ep.Binding == samlp.BindingHTTPRedirect && t.SLORedirect == "":
			t.SLORedirect = ep.Location
		case ep.Binding == samlp.BindingSOAP && t.SLOSOAP == "":
			t.SLOSOAP = ep.Location
		}
	}
	t.Metadata = m
	t.Keys = d.SigningCertificates()
	t.AuthnRequestsSigned, t.WantAssertionsSigned = d.AuthnRequestsSigned, d.WantAssertionsSigned
	if to, err := d.EncryptionRecipient(t.EntityID); err == nil {
		t.Encryption = &to
	}
	return nil
}

// spFile is the JSON "sp target" file of the command line; file names are
// relative to the file. metadata is the SP's metadata (URL or file); idp
// names the suite IdP's entityID, its PEM key and certificate, and the
// loopback host:port its SSO and SLO listener listens on; session is the
// SessionRule of the Single Logout cases.
type spFile struct {
	Metadata           string       `json:"metadata"`
	EntityID           string       `json:"entityID,omitempty"`
	Login              string       `json:"login"`
	Accepted           AcceptRule   `json:"accepted"`
	IdP                suiteIdPFile `json:"idp"`
	NameIDFormat       string       `json:"nameIDFormat,omitempty"`
	AuthnContext       string       `json:"authnContext,omitempty"`
	Bootstrap          *Bootstrap   `json:"bootstrap,omitempty"`
	AcceptsUnsolicited bool         `json:"acceptsUnsolicited,omitempty"`
	Session            SessionRule  `json:"session,omitempty"`
}

type suiteIdPFile struct {
	EntityID string `json:"entityID"`
	Key      string `json:"key"`
	Listen   string `json:"listen"`
}

// ReadSuiteIdP reads the idp part of an sp target file: the suite IdP
// without the SP (for -print-idp-metadata). A missing key file is created
// with a fresh RSA-2048 key and a self-signed certificate, so that the
// IdP registered at the SP stays the same across runs.
func ReadSuiteIdP(name string, now time.Time) (*SuiteIdP, error) {
	f, err := readSPFile(name)
	if err != nil {
		return nil, err
	}
	return f.IdP.load(filepath.Dir(name), now)
}

func readSPFile(name string) (*spFile, error) {
	raw, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var f spFile
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, fmt.Errorf("conformance: sp target %s: %w", name, err)
	}
	return &f, nil
}

func (p suiteIdPFile) load(dir string, now time.Time) (*SuiteIdP, error) {
	if p.EntityID == "" || p.Key == "" || p.Listen == "" {
		return nil, errors.New("conformance: sp target: idp needs entityID, key and listen")
	}
	file := relTo(dir, p.Key)
	b, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		if b, err = newKeyPEM("Renkei conformance IdP", now); err != nil {
			return nil, err
		}
		if err := os.WriteFile(file, b, 0o600); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	k, c, err := parseKeyCert(b)
	if err != nil {
		return nil, fmt.Errorf("conformance: idp key %s: %w", file, err)
	}
	return &SuiteIdP{EntityID: p.EntityID, Key: k, Cert: c, Listen: p.Listen}, nil
}

// LoadSPTarget reads an sp target file and the files it names; the SP's
// metadata is fetched with client when it is a URL.
func LoadSPTarget(ctx context.Context, name string, client *http.Client, now time.Time) (*SPTarget, error) {
	f, err := readSPFile(name)
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(name)
	m, err := LoadTarget(ctx, relTo(dir, f.Metadata), client)
	if err != nil {
		return nil, err
	}
	idp, err := f.IdP.load(dir, now)
	if err != nil {
		return nil, err
	}
	t := &SPTarget{EntityID: f.EntityID, Login: f.Login, Accepted: f.Accepted, IdP: *idp, NameIDFormat: f.NameIDFormat,
		AuthnContext: f.AuthnContext, Bootstrap: f.Bootstrap, AcceptsUnsolicited: f.AcceptsUnsolicited, Session: f.Session}
	if err := t.FromMetadata(m); err != nil {
		return nil, err
	}
	return t, t.Validate()
}

// selfSigned returns a fresh RSA-2048 key and a self-signed certificate
// for cn valid around now.
func selfSigned(cn string, now time.Time, rnd io.Reader) (*rsa.PrivateKey, *x509.Certificate, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	key, err := rsa.GenerateKey(rnd, 2048)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rnd, big.NewInt(1<<62))
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: cn},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(365 * 24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rnd, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return key, cert, err
}

// newKeyPEM returns a fresh key and self-signed certificate for cn as PEM.
func newKeyPEM(cn string, now time.Time) ([]byte, error) {
	key, cert, err := selfSigned(cn, now, nil)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	out := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	return append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})...), nil
}
