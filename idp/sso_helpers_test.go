package idp

import (
	"bytes"
	"compress/flate"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/gorilla/mux"

	"github.com/renkei-idwsf/renkei/internal/httpx"
	"github.com/renkei-idwsf/renkei/internal/testkit/logkit"
	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/binding"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
	"github.com/renkei-idwsf/renkei/xmlsec/xsd"
)

// The SPs of the SSO tests, besides the portal (portalID) and otherSP.
const (
	terminalID = "https://hospital.example.org/terminal"
	legacyID   = "https://legacy.example.org/sp"
	evilID     = "https://evil.example.org/sp"
	noEncID    = "https://noenc.example.org/sp"
	ecpACS     = "https://hospital.example.org/terminal/paos"
	otherACS   = "https://other.example.org/sp/acs"
	legacyACS  = "https://legacy.example.org/sp/acs"
)

// testSP is an SP built from saml/samlp, saml/binding and saml/md: it
// writes AuthnRequests and verifies the responses as SAML2.md §3.3 says.
type testSP struct {
	ID, ACS, PAOS string
	Key           *pki.Identity // signing and, when Encrypt, encryption
	SignRequests  bool          // AuthnRequestsSigned in its metadata
	Encrypt       bool          // an encryption key in its metadata
	Bootstrap     bool          // asks for the DiscoveryEPR
	BadACS        string        // an unsafe ACS its metadata lists instead
	SLO           []md.Endpoint // its SingleLogoutService endpoints
	NIM           string        // its SOAP and Redirect ManageNameIDService, or ""
	Art           string        // its HTTP-Artifact ACS (index 2), or ""
}

var (
	spKeysOnce sync.Once
	spKeys     map[string]*pki.Identity
	spKeysErr  error
)

func testSPs(t testing.TB) map[string]*testSP {
	k := federationKeys(t)
	spKeysOnce.Do(func() {
		spKeys = map[string]*pki.Identity{}
		for _, n := range []string{"terminal", "legacy"} {
			if spKeys[n], spKeysErr = k.CA.Issue(n, pki.RSA2048); spKeysErr != nil {
				return
			}
		}
	})
	must(t, spKeysErr)
	return map[string]*testSP{
		portalID:   {ID: portalID, ACS: portalAC, Key: k.WSC, SignRequests: true, Encrypt: true, Bootstrap: true},
		otherSP:    {ID: otherSP, ACS: otherACS, PAOS: otherACS + "/paos", Art: otherACS + "/art", Key: k.Other},
		terminalID: {ID: terminalID, ACS: terminalID + "/acs", PAOS: ecpACS, Key: spKeys["terminal"], SignRequests: true, Encrypt: true, Bootstrap: true},
		legacyID:   {ID: legacyID, ACS: legacyACS, Key: spKeys["legacy"], SignRequests: true},
		noEncID:    {ID: noEncID, ACS: "https://noenc.example.org/sp/acs", Key: k.Other, Bootstrap: true},
		evilID:     {ID: evilID, ACS: "https://evil.example.org/acs", Key: k.Other, BadACS: "javascript:alert(document.cookie)"},
	}
}

func (sp *testSP) entity() *md.EntityDescriptor {
	yes := true
	acs := []md.IndexedEndpoint{{Endpoint: md.Endpoint{Binding: samlp.BindingHTTPPOST, Location: sp.ACS}, Index: 0, IsDefault: &yes}}
	if sp.BadACS != "" {
		acs[0].Location = sp.BadACS
	}
	if sp.PAOS != "" {
		acs = append(acs, md.IndexedEndpoint{Endpoint: md.Endpoint{Binding: samlp.BindingPAOS, Location: sp.PAOS}, Index: 1})
	}
	if sp.Art != "" {
		acs = append(acs, md.IndexedEndpoint{Endpoint: md.Endpoint{Binding: samlp.BindingHTTPArtifact, Location: sp.Art}, Index: 2})
	}
	keys := []md.KeyDescriptor{{Use: md.UseSigning, Certificates: []*x509.Certificate{sp.Key.Cert}}}
	if sp.Encrypt {
		keys = append(keys, md.KeyDescriptor{Use: md.UseEncryption, Certificates: []*x509.Certificate{sp.Key.Cert}})
	}
	d := &md.SPSSODescriptor{SSO: md.SSO{Role: md.Role{ProtocolSupport: []string{md.ProtocolSAML2}, Keys: keys}},
		AuthnRequestsSigned: sp.SignRequests, WantAssertionsSigned: true, AssertionConsumer: acs}
	d.SingleLogout = sp.SLO
	if sp.NIM != "" {
		d.ManageNameID = []md.Endpoint{{Binding: samlp.BindingSOAP, Location: sp.NIM}, {Binding: samlp.BindingHTTPRedirect, Location: sp.NIM}}
	}
	if sp.Bootstrap {
		d.AttributeConsuming = []md.AttributeConsumingService{{Index: 0, ServiceNames: []md.Localized{{Lang: "en", Value: "portal"}},
			Requested: []md.RequestedAttribute{{Attribute: md.Attribute{Name: md.DiscoveryEPRAttribute, NameFormat: saml.AttrNameFormatURI}}}}}
	}
	return &md.EntityDescriptor{EntityID: sp.ID, SPSSO: []*md.SPSSODescriptor{d}}
}

// ssoEnv is the IdP serving over real HTTPS listeners on 127.0.0.1: the
// main one and the card-login one, on the fixture's SQLite store.
type ssoEnv struct {
	*fixture
	sso     *SSO
	schema  *xsd.Schema
	sps     map[string]*testSP
	mainURL string
	cardURL string
	rootCAs *x509.CertPool
	// verifier is the SP's trust in the IdP's signing key.
	verifier *dsig.Verifier
	// slo, when set, serves Single Logout with this configuration.
	slo *SLOConfig
	h   *HTTP
	// logs keeps what the HTTP adapter logged, under "idp".
	logs *logkit.Capture
}

func newSSOEnv(t testing.TB, tweak func(*SSOConfig)) *ssoEnv {
	t.Helper()
	return newSSOEnvWith(t, nil, tweak)
}

// newSSOEnvWith is newSSOEnv with the IdP core's configuration changed by
// core, such as another signing key.
func newSSOEnvWith(t testing.TB, core func(*Config), tweak func(*SSOConfig)) *ssoEnv {
	t.Helper()
	e := &ssoEnv{fixture: newFixture(t), sps: testSPs(t), verifier: idpVerifier(t)}
	return e.serve(t, core, tweak)
}

// serve starts e's listeners and engine over e's fixture.
func (e *ssoEnv) serve(t testing.TB, core func(*Config), tweak func(*SSOConfig)) *ssoEnv {
	if core != nil {
		cfg := e.config()
		core(&cfg)
		e.idp = e.withConfig(core)
		e.verifier = &dsig.Verifier{Trust: xmlsec.NewTrustSet(cfg.SigningCerts[:1])}
	}
	schema, err := xsd.Default()
	must(t, err)
	e.schema = schema
	set := e.metadataSet()
	mainR, cardR := mux.NewRouter(), mux.NewRouter()
	g := &httpx.Group{ShutdownTimeout: 5 * time.Second}
	must(t, g.Start(
		httpx.Server{Name: "main", Addr: "127.0.0.1:0", TLS: &tls.Config{Certificates: []tls.Certificate{e.server}, MinVersion: tls.VersionTLS12}, Handler: httpx.Secure(mainR)},
		httpx.Server{Name: "card", Addr: "127.0.0.1:0", TLS: CardLoginTLSConfig(e.server, e.ra.CardCA(), e.ra.ServiceCA()), Handler: httpx.Secure(cardR)}))
	t.Cleanup(func() { _ = g.Shutdown() })
	e.mainURL, e.cardURL = "https://"+g.Addr("main").String(), "https://"+g.Addr("card").String()
	cfg := SSOConfig{Metadata: set, Replay: e.db, Pending: e.db, Schema: schema, CheckOutgoing: true,
		SSOURL: e.mainURL + PathSSO, ECPURL: e.cardURL + PathECP, LoginURL: e.cardURL + PathLogin,
		SLOURL: e.sloURL(PathSLO), SLOSOAPURL: e.sloURL(PathSLOSOAP),
		Quirks: map[string]SPQuirks{legacyID: {AllowSHA1: true}}, IdPInitiated: []string{otherSP},
		EncryptionCert: federationKeys(t).IdP.Cert}
	if tweak != nil {
		tweak(&cfg)
	}
	e.sso, err = NewSSO(e.idp, cfg)
	must(t, err)
	e.logs = logkit.NewCapture(t)
	logger := e.logs.Logger("idp")
	h := &HTTP{SSO: e.sso, Log: func(r *http.Request, err error) {
		logger.Warn("refused", "method", r.Method, "path", r.URL.Path, "err", err.Error())
	},
		// The tests' clock stands still, so no bucket would ever refill:
		// the limits are TestSSOLimits' own business.
		Limits: AuthnLimits{ClientBurst: 1 << 30, MaxPending: 1 << 30}}
	if e.slo != nil {
		h.SLO, err = NewSLO(e.sso, *e.slo)
		must(t, err)
	}
	e.h = h
	h.MountMain(mainR)
	h.MountCard(cardR)
	e.rootCAs = x509.NewCertPool()
	e.rootCAs.AddCert(e.ra.ServiceCA())
	return e
}

// metadataSet writes each SP's metadata to a file the operator placed
// and loads them into a real md.Set.
func (e *ssoEnv) metadataSet() *md.Set {
	var srcs []md.Source
	for _, sp := range e.sps {
		b, err := xmlsec.Serialize(sp.entity().Element())
		must(e.t, err)
		p := filepath.Join(e.dir, strings.NewReplacer(":", "_", "/", "_").Replace(sp.ID)+".xml")
		must(e.t, os.WriteFile(p, b, 0o600))
		srcs = append(srcs, md.Source{Location: p, Unsigned: true})
	}
	set, err := md.New(md.Config{Sources: srcs, Now: e.clock})
	must(e.t, err)
	must(e.t, set.Refresh(ctx, e.now))
	return set
}

// browser is an HTTP client with a cookie jar that presents card (nil:
// none) to the card listener, as a browser with a card reader does.
func (e *ssoEnv) browser(card *cardHolder) *http.Client {
	jar, err := cookiejar.New(nil)
	must(e.t, err)
	return e.withJar(card, jar)
}

func (e *ssoEnv) withJar(card *cardHolder, jar http.CookieJar) *http.Client {
	tc := &tls.Config{RootCAs: e.rootCAs, ServerName: "localhost", MinVersion: tls.VersionTLS12}
	if card != nil {
		tc.Certificates = []tls.Certificate{card.tls()}
	}
	return &http.Client{Jar: jar, Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: tc}}
}

// newRequest is an AuthnRequest of sp to the IdP's SSO endpoint at now.
func (e *ssoEnv) newRequest(sp *testSP, id string) *samlp.AuthnRequest {
	return &samlp.AuthnRequest{RequestHeader: samlp.RequestHeader{ID: id, IssueInstant: e.now,
		Destination: e.mainURL + PathSSO, Issuer: &saml.Issuer{Value: sp.ID}},
		AssertionConsumerServiceURL: sp.ACS, ProtocolBinding: samlp.BindingHTTPPOST}
}

// exchange is what the browser ended with: the last HTTP response and its
// body.
type exchange struct {
	Status int
	URL    *url.URL
	Header http.Header
	Body   string
}

func (e *ssoEnv) do(c *http.Client, req *http.Request) exchange {
	e.t.Helper()
	resp, err := c.Do(req)
	must(e.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	must(e.t, err)
	return exchange{Status: resp.StatusCode, URL: resp.Request.URL, Header: resp.Header, Body: string(b)}
}

// redirect sends req with the HTTP-Redirect binding, query-signed by
// signer when not nil.
func (e *ssoEnv) redirect(c *http.Client, req *samlp.AuthnRequest, relay string, signer *binding.RedirectSigner) exchange {
	e.t.Helper()
	u, err := binding.RedirectURL(e.mainURL+PathSSO, req.Element(), relay, signer)
	must(e.t, err)
	r, err := http.NewRequest(http.MethodGet, u, nil)
	must(e.t, err)
	return e.do(c, r)
}

// post sends req with the HTTP-POST binding, XML-signed with sp's key
// when sign is set.
func (e *ssoEnv) post(c *http.Client, sp *testSP, req *samlp.AuthnRequest, relay string, sign bool) exchange {
	e.t.Helper()
	el := req.Element()
	if sign {
		var err error
		el, err = samlp.Sign(req, spSigner(sp))
		must(e.t, err)
	}
	b, err := xmlsec.Serialize(el)
	must(e.t, err)
	form := url.Values{binding.ParamRequest: {base64.StdEncoding.EncodeToString(b)}}
	if relay != "" {
		form.Set(binding.ParamRelayState, relay)
	}
	return e.postForm(c, form.Encode())
}

func (e *ssoEnv) postForm(c *http.Client, body string) exchange {
	r, err := http.NewRequest(http.MethodPost, e.mainURL+PathSSO, strings.NewReader(body))
	must(e.t, err)
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return e.do(c, r)
}

var (
	formAction = regexp.MustCompile(`<form method="post" action="([^"]*)">`)
	formInput  = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)
)

// parseForm reads the HTTP-POST binding page: its action and fields.
func parseForm(body string) (string, url.Values, error) {
	m := formAction.FindStringSubmatch(body)
	if m == nil {
		return "", nil, fmt.Errorf("no form in %q", body)
	}
	vals := url.Values{}
	for _, in := range formInput.FindAllStringSubmatch(body, -1) {
		vals.Add(html.UnescapeString(in[1]), html.UnescapeString(in[2]))
	}
	return html.UnescapeString(m[1]), vals, nil
}

// received is what the SP accepted.
type received struct {
	Response   *samlp.Response
	Assertion  *saml.Assertion
	Signed     *etree.Element // the signed assertion, decrypted
	Encrypted  bool
	RelayState string
}

// consume is the SP's ACS: the form must post to sp's ACS; the Response is
// schema-checked, its signature verified when present, the assertion
// decrypted when encrypted and always verified (SAML2.md §3.3).
func (e *ssoEnv) consume(sp *testSP, x exchange, inResponseTo string) (*received, error) {
	action, vals, err := parseForm(x.Body)
	if err != nil {
		return nil, err
	}
	if action != sp.ACS && action != sp.PAOS {
		return nil, fmt.Errorf("form posts to %q, not %q", action, sp.ACS)
	}
	msg, err := (&binding.POSTDecoder{}).Decode(strings.NewReader(vals.Encode()))
	if err != nil {
		return nil, err
	}
	got, err := e.acceptResponse(sp, msg.Element, action, inResponseTo)
	if got != nil {
		got.RelayState = msg.RelayState
	}
	return got, err
}

func (e *ssoEnv) acceptResponse(sp *testSP, el *etree.Element, acs, inResponseTo string) (*received, error) {
	if err := e.schema.ValidateElement(el); err != nil {
		return nil, err
	}
	u, err := samlp.PeekResponse(el)
	if err != nil {
		return nil, err
	}
	var resp *samlp.Response
	if u.Signed {
		resp, _, err = samlp.VerifyResponse(el, e.verifier)
	} else {
		resp, err = samlp.DecodeResponse(el) // only its signed assertion is relied on
	}
	if err != nil {
		return nil, err
	}
	if resp.Destination != acs || resp.InResponseTo != inResponseTo || resp.Issuer.Value != idpID {
		return nil, fmt.Errorf("response header %+v", resp.StatusResponseHeader)
	}
	got := &received{Response: resp}
	if !resp.Status.Success() {
		if !u.Signed || len(resp.Assertions) != 0 {
			return nil, fmt.Errorf("error response signed=%v with %d assertions", u.Signed, len(resp.Assertions))
		}
		return got, nil
	}
	return got, e.acceptAssertion(sp, got, acs, inResponseTo)
}

func (e *ssoEnv) acceptAssertion(sp *testSP, got *received, acs, inResponseTo string) error {
	if len(got.Response.Assertions) != 1 {
		return fmt.Errorf("%d assertions", len(got.Response.Assertions))
	}
	el := got.Response.Assertions[0]
	if el.Tag == "EncryptedAssertion" {
		var err error
		if el, err = decrypter(sp.Key, sp.ID).Decrypt(el); err != nil {
			return err
		}
		got.Encrypted = true
	}
	a, _, err := saml.VerifyAssertion(el, e.verifier)
	if err != nil {
		return err
	}
	got.Signed = el
	if err := a.CheckConditions(e.now, time.Minute, sp.ID); err != nil {
		return err
	}
	cd := a.Subject.Confirmations[0].Data
	if cd.Recipient != acs || cd.InResponseTo != inResponseTo {
		return fmt.Errorf("confirmation %+v", cd)
	}
	got.Assertion = a
	return nil
}

func spSigner(sp *testSP) *dsig.Signer {
	return &dsig.Signer{Key: sp.Key.Key, Certificates: []*x509.Certificate{sp.Key.Cert}}
}

func redirectSigner(sp *testSP) *binding.RedirectSigner {
	return &binding.RedirectSigner{Key: sp.Key.Key}
}

// noForm asserts that x is an error page from which nothing reaches an
// ACS: no form, no redirect.
func noForm(t testing.TB, x exchange, status int, text string) {
	t.Helper()
	if x.Status != status || strings.Contains(x.Body, "<form") || x.Header.Get("Location") != "" || !strings.Contains(x.Body, text) {
		t.Fatalf("status %d, want %d with %q and no form; body %s", x.Status, status, text, x.Body)
	}
}

// deflateBomb is a query value that inflates to far more than the
// Redirect decoder's limit (16 times it: 4 MiB of one byte) yet fits in a URL.
func deflateBomb(t testing.TB) string {
	var buf bytes.Buffer
	w, err := flate.NewWriter(&buf, flate.BestCompression)
	must(t, err)
	chunk := bytes.Repeat([]byte{'<'}, 1<<20)
	for range 4 {
		_, err = w.Write(chunk)
		must(t, err)
	}
	must(t, w.Close())
	return url.QueryEscape(base64.StdEncoding.EncodeToString(buf.Bytes()))
}

func serializeEntity(sp *testSP) ([]byte, error) { return xmlsec.Serialize(sp.entity().Element()) }
