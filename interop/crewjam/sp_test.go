package crewjam

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/crewjam/saml"

	"github.com/renkei-idwsf/renkei/internal/browser"
	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
)

// refIdP is crewjam's own IdentityProvider on loopback HTTPS: the
// reference the SP harness is proved against. Every user is "alice", with a
// stable persistent NameID and a fresh transient one per login.
type refIdP struct {
	idp *saml.IdentityProvider
	srv *httptest.Server
	sps map[string]*saml.EntityDescriptor
	n   int
}

func newRefIdP(t *testing.T, wantSigned bool) *refIdP {
	t.Helper()
	p := pki.MustGet()
	id, err := p.CA.Issue("crewjam-idp", pki.RSA2048)
	if err != nil {
		t.Fatal(err)
	}
	r := &refIdP{sps: map[string]*saml.EntityDescriptor{}}
	r.srv = httptest.NewUnstartedServer(nil)
	r.srv.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{p.RSA.Cert.Raw}, PrivateKey: p.RSA.Key}},
		ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: rootPool()}
	r.srv.StartTLS()
	t.Cleanup(r.srv.Close)
	md, _ := url.Parse(r.srv.URL + "/metadata")
	sso, _ := url.Parse(r.srv.URL + "/sso")
	r.idp = &saml.IdentityProvider{Signer: id.Key, Key: id.Key, Certificate: id.Cert, MetadataURL: *md, SSOURL: *sso,
		ServiceProviderProvider: r, SessionProvider: r, WantAuthnRequestsSigned: wantSigned,
		NameIDFormats: []saml.NameIDFormat{Persistent, Transient}}
	r.srv.Config.Handler = r.idp.Handler()
	return r
}

func (r *refIdP) GetServiceProvider(_ *http.Request, id string) (*saml.EntityDescriptor, error) {
	if ed, ok := r.sps[id]; ok {
		return ed, nil
	}
	return nil, errors.New("unknown SP")
}

// GetSession logs in "alice", or the holder of the TLS client
// certificate when the browser presented one.
func (r *refIdP) GetSession(_ http.ResponseWriter, hr *http.Request, req *saml.IdpAuthnRequest) *saml.Session {
	r.n++
	user := "alice"
	if hr.TLS != nil && len(hr.TLS.PeerCertificates) > 0 {
		user = hr.TLS.PeerCertificates[0].Subject.CommonName
	}
	s := &saml.Session{ID: fmt.Sprint("s", r.n), Index: fmt.Sprint("idx", r.n), CreateTime: time.Now(),
		ExpireTime: time.Now().Add(time.Hour), UserName: user, UserCommonName: "Alice",
		NameIDFormat: string(Persistent), NameID: "P-" + user}
	if pol := req.Request.NameIDPolicy; pol != nil && pol.Format != nil && *pol.Format == string(Transient) {
		s.NameIDFormat, s.NameID = string(Transient), fmt.Sprint("T-", r.n)
	}
	return s
}

// trust registers the SP's metadata as served.
func (r *refIdP) trust(t *testing.T, md []byte) {
	t.Helper()
	var ed saml.EntityDescriptor
	if err := xml.Unmarshal(md, &ed); err != nil {
		t.Fatal(err)
	}
	r.sps[ed.EntityID] = &ed
}

func newBrowser(t *testing.T) *browser.Browser {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(pki.MustGet().CA.Cert)
	b, err := browser.New(browser.Config{RootCAs: pool, ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func testCtx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// federate starts a crewjam SP and crewjam IdP that trust each other, the
// SP configured from the IdP's metadata as fetched.
func federate(t *testing.T, cfg Config) (*SP, *refIdP) {
	t.Helper()
	idp := newRefIdP(t, cfg.SignatureMethod != "")
	sp := New(t, cfg)
	md, err := Fetch(testCtx(t), newBrowser(t).Client(), sp.URL+"/metadata")
	if err != nil || string(md) != string(sp.Metadata) {
		t.Fatalf("the SP served other metadata (%v)", err)
	}
	idp.trust(t, md)
	idpMD, err := Fetch(testCtx(t), newBrowser(t).Client(), idp.srv.URL+"/metadata")
	if err != nil {
		t.Fatal(err)
	}
	if err := sp.Start(idpMD); err != nil {
		t.Fatal(err)
	}
	return sp, idp
}

// TestSSOWithCrewjamIdP proves the SP harness against crewjam's IdP:
// Redirect and POST, signed and unsigned requests, plain and encrypted
// assertions, persistent and transient NameIDs.
func TestSSOWithCrewjamIdP(t *testing.T) {
	for _, cfg := range []Config{{}, {SignatureMethod: RSASHA256}, {SignatureMethod: RSASHA256, Encrypt: true, RequestDiscoveryEPR: true}} {
		sp, idp := federate(t, cfg)
		for _, binding := range []string{Redirect, POST} {
			for _, format := range []saml.NameIDFormat{Persistent, Transient} {
				name := fmt.Sprintf("ok/%s-%s-signed=%t-encrypted=%t", short(binding), short(string(format)), cfg.SignatureMethod != "", cfg.Encrypt)
				t.Run(name, func(t *testing.T) {
					b := newBrowser(t)
					r, err := sp.Login(testCtx(t), b, binding, format, false)
					if err != nil {
						t.Fatalf("%v\n%s", err, b)
					}
					checkResult(t, r, idp, format, cfg.Encrypt)
				})
			}
		}
	}
}

func short(urn string) string { return urn[strings.LastIndexAny(urn, ":-")+1:] }

func checkResult(t *testing.T, r *Result, idp *refIdP, format saml.NameIDFormat, encrypted bool) {
	t.Helper()
	if r.Issuer != idp.srv.URL+"/metadata" || r.Format != string(format) || r.Encrypted != encrypted {
		t.Fatalf("result %+v", r)
	}
	if format == Persistent && r.NameID != "P-alice" || format == Transient && !strings.HasPrefix(r.NameID, "T-") {
		t.Fatalf("NameID %q for %s", r.NameID, format)
	}
	if r.InResponseTo == "" || r.SessionIndex == "" || r.AuthnContext == "" {
		t.Fatalf("result %+v", r)
	}
	if a := r.Attr(uidOID); a == nil || len(a.Values) != 1 || a.Values[0] != "alice" {
		t.Fatalf("attributes %+v", r.Attributes)
	}
}

// TestSPMetadata: the served metadata says what the config asked for.
func TestSPMetadata(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want []string
		not  []string
	}{
		{"ok/plain", Config{}, []string{`AuthnRequestsSigned="false"`, `use="signing"`}, []string{`use="encryption"`, DiscoveryEPR}},
		{"ok/signed-encrypted-disco", Config{SignatureMethod: RSASHA256, Encrypt: true, RequestDiscoveryEPR: true},
			[]string{`AuthnRequestsSigned="true"`, `use="encryption"`, `use="signing"`, DiscoveryEPR}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			md := string(New(t, tc.cfg).Metadata)
			for _, w := range tc.want {
				if !strings.Contains(md, w) {
					t.Errorf("metadata lacks %s", w)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(md, n) {
					t.Errorf("metadata has %s", n)
				}
			}
		})
	}
}

// TestSPRefuses: crewjam's refusals come back as *RefusedError with its
// private cause: a response from an IdP whose metadata the SP was not
// given, and garbage.
func TestSPRefuses(t *testing.T) {
	sp, _ := federate(t, Config{SignatureMethod: RSASHA256})
	other, _ := federate(t, Config{SignatureMethod: RSASHA256})
	// A second IdP that trusts sp, but sp holds the first IdP's metadata.
	stranger := newRefIdP(t, true)
	stranger.trust(t, sp.Metadata)
	strangerMD, err := Fetch(testCtx(t), newBrowser(t).Client(), stranger.srv.URL+"/metadata")
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Start(strangerMD); err != nil {
		t.Fatal(err)
	}
	stranger.trust(t, other.Metadata)
	for _, tc := range []struct {
		name string
		form url.Values
	}{
		{"fail/garbage", url.Values{"SAMLResponse": {"bm90IFNBTUw="}}},
		{"fail/unknown-idp", responseFor(t, other, sp)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			page, err := newBrowser(t).Post(testCtx(t), sp.URL+"/acs", tc.form)
			if err != nil {
				t.Fatal(err)
			}
			_, err = ParseResult(page.Status, page.Body)
			var refused *RefusedError
			if !errors.As(err, &refused) || refused.Err == "" {
				t.Fatalf("got %v", err)
			}
			t.Logf("crewjam says: %v", err)
		})
	}
	if err := sp.Start([]byte("<md:EntityDescriptor")); err == nil {
		t.Fatal("fail/bad-idp-metadata: crewjam accepted broken metadata")
	}
}

// responseFor runs an SSO of from with its IdP and returns the Response
// form, aimed at sp's ACS instead, without posting it.
func responseFor(t *testing.T, from, to *SP) url.Values {
	t.Helper()
	b, err := browser.New(browser.Config{RootCAs: rootPool(), ServerName: "localhost",
		AutoSubmit: func(f browser.Form) bool { return f.Values.Has("SAMLRequest") }})
	if err != nil {
		t.Fatal(err)
	}
	page, err := b.Get(testCtx(t), from.LoginURL(POST, Transient, false))
	if err != nil {
		t.Fatal(err)
	}
	forms, err := browser.ParseForms(page.Body, page.URL)
	if err != nil || len(forms) != 1 || !forms[0].Values.Has("SAMLResponse") {
		t.Fatalf("no response form (%v):\n%s\n%s", err, page.Body, b)
	}
	return forms[0].Values
}

func rootPool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(pki.MustGet().CA.Cert)
	return pool
}

// uidOID is the attribute crewjam's IdP writes for Session.UserName.
const uidOID = "urn:oid:0.9.2342.19200300.100.1.1"
