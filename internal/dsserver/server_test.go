package dsserver_test

import (
	"context"
	"crypto/x509"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/internal/dsserver"
	"github.com/renkei-idwsf/renkei/internal/testkit/dskit"
	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/store"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/client"
	"github.com/renkei-idwsf/renkei/wsf/disco"
	"github.com/renkei-idwsf/renkei/wsf/secmech"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
	"github.com/renkei-idwsf/renkei/xmlsec/xmlenc"
	"github.com/renkei-idwsf/renkei/xmlsec/xsd"
)

// files writes the DS's keys and the aggregate for a DS at baseURL and
// returns its configuration.
func files(t *testing.T, baseURL, store string) *dsserver.File {
	return dskit.DSFiles(t, t.TempDir(), baseURL, store)
}

func listen(t *testing.T) (net.Listener, string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln, "https://" + ln.Addr().String()
}

// TestServeQuery builds the DS from its files, starts it on loopback, and
// walks what the federation does over the real listener: each WSP
// registers its SvcMD as itself, the operator links the principal, the
// portal queries with the IdP's DS token and gets one EPR per service,
// each token readable by its WSP.
func TestServeQuery(t *testing.T) {
	ctx := context.Background()
	s := dskit.StartDS(t, "")
	k := dskit.KeysOf(t, pki.RSA2048)
	call := caller(t, s, k)

	principal := "principal-serve"
	if err := s.Store.CreatePrincipal(ctx, store.Principal{ID: principal, Created: time.Now()}); err != nil {
		t.Fatal(err)
	}
	wsps := dskit.Samples()
	for _, w := range wsps {
		w.Identity = dskit.WSPIdentity(t, w.EntityID)
		res, err := call(w.EntityID, w.Identity, nil, &disco.SvcMDRegister{SvcMDs: []*disco.SvcMD{w.SvcMD()}}, "SvcMDRegister")
		if err != nil {
			t.Fatalf("%s registers: %v", w.EntityID, err)
		}
		r, err := disco.DecodeSvcMDRegisterResponse(res.Payload)
		if err != nil || r.Status.Code != disco.OK || len(r.Keys) != 1 {
			t.Fatalf("register: %+v %v", r, err)
		}
		if _, err := s.DS.LinkByHand(ctx, "test", principal, w.EntityID, w.LocalID); err != nil {
			t.Fatal(err)
		}
		if err := s.Store.Associate(ctx, store.Association{PrincipalID: principal, SvcMDID: r.SvcMDIDs[0], Created: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	tok := dsToken(t, s, principal, k)
	res, err := call(dskit.PortalID, k.Portal, tok, &disco.Query{}, "Query")
	if err != nil {
		t.Fatal(err)
	}
	r, err := disco.DecodeQueryResponse(res.Payload)
	// One EPR per service, and the DS's own audit service for the portal.
	if err != nil || r.Status.Code != disco.OK || len(r.EPRs) != len(wsps)+1 {
		t.Fatalf("%v: %+v", err, r)
	}
	byAddr := map[string]*wsf.EPR{}
	for _, e := range r.EPRs {
		byAddr[e.Address] = e
	}
	for _, w := range wsps {
		e := byAddr[w.Address]
		if e == nil {
			t.Fatalf("no EPR for %s", w.Address)
		}
		c := &secmech.TokenChecker{Self: w.EntityID, Directory: s.Directory, Decrypter: w.Decrypter(), Skew: time.Minute}
		tk, err := c.Check(ctx, e.Metadata.SecurityContexts[0].Tokens[0].Element, time.Now(), false)
		if err != nil || tk.Subject.SPProvidedID != w.LocalID {
			t.Errorf("%s reads its token: %v", w.EntityID, err)
		}
	}
}

// caller returns a function that sends one Discovery request to the
// server as entityID presenting id: with tok under ClientTLS:SAMLV2, or
// as the provider itself (ClientTLS:X509) when tok is nil. The clients
// trust the server's own metadata directory.
func caller(t *testing.T, s *dsserver.Server, k *dskit.Keys) func(string, *pki.Identity, *etree.Element, interface{ Element() *etree.Element }, string) (*client.Result, error) {
	schema, err := xsd.Default()
	if err != nil {
		t.Fatal(err)
	}
	return func(entityID string, id *pki.Identity, tok *etree.Element, payload interface{ Element() *etree.Element }, op string) (*client.Result, error) {
		mech := wsf.ClientTLSSAMLV2
		if tok == nil {
			mech = wsf.ClientTLSX509
		}
		f := &dskit.Federation{Keys: k, URL: s.SOAPURL()}
		c, err := client.New(client.Config{EntityID: entityID, Key: id.Key, Certificate: id.Cert, Directory: s.Directory,
			HTTP: f.HTTPClient(t, id), Schema: schema, Mechanisms: []wsf.Mechanism{mech}})
		if err != nil {
			t.Fatal(err)
		}
		return c.Call(context.Background(), &client.Call{EPR: f.DSEPR(tok, mech), Action: disco.Action(op), Payload: payload.Element()})
	}
}

// dsToken mints the IdP's DS token for the portal, as the bootstrap
// carries it.
func dsToken(t *testing.T, s *dsserver.Server, principal string, k *dskit.Keys) *etree.Element {
	t.Helper()
	ctx := context.Background()
	fed, err := store.Pairwise(ctx, s.Store, principal, dskit.DSID, true, time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	m := &secmech.Minter{Issuer: dskit.IdPID, Signer: &dsig.Signer{Key: k.IdP.Key, Certificates: []*x509.Certificate{k.IdP.Cert}}}
	tok, err := m.Mint(secmech.TokenRequest{Audience: dskit.DSID, Target: xmlenc.Recipient{EntityID: dskit.DSID, Cert: k.DS.Cert},
		NameID:       &saml.NameID{Value: fed.NameID, Format: saml.NameIDPersistent, NameQualifier: dskit.IdPID, SPNameQualifier: dskit.DSID},
		Confirmation: secmech.ConfirmHolderOfKey, Invoker: k.Portal.Cert, Lifetime: time.Hour}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return tok.Element
}

// TestBuildRefusesMetadata: a DS the aggregate does not describe as
// configured does not start, and every problem is named at once.
func TestBuildRefusesMetadata(t *testing.T) {
	ln, base := listen(t)
	f := files(t, base, "sqlite::memory:")
	f.BaseURL = "https://elsewhere.renkei.test"
	f.IdP = "https://unknown-idp.renkei.test/metadata"
	_, err := dsserver.Build(context.Background(), f, dsserver.Options{Listener: ln})
	if err == nil {
		t.Fatal("the DS started under metadata that lists another endpoint and no such IdP")
	}
	for _, want := range []string{"SOAP endpoint", "unknown-idp.renkei.test"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %q:\n%v", want, err)
		}
	}
}

// TestServesConsentPage: the listener serves the consent page that the
// DS's RedirectRequests name; a link that is no transaction gets the
// page that says so, never a redirect.
func TestServesConsentPage(t *testing.T) {
	s := dskit.StartDS(t, "")
	k := dskit.KeysOf(t, pki.RSA2048)
	c := (&dskit.Federation{Keys: k}).HTTPClient(t, nil)
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Get(s.ConsentURL() + "?tx=nosuch&ReturnToURL=" + url.QueryEscape("https://portal.renkei.test/return"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusGone || resp.Header.Get("Location") != "" ||
		!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("consent page for an unknown link: HTTP %d, %v", resp.StatusCode, resp.Header)
	}
}
