package lasso_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/internal/browser"
	"github.com/renkei-idwsf/renkei/internal/testkit/lasso"
	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
)

func roots() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(pki.MustGet().CA.Cert)
	return pool
}

// soft is a browser presenting the shared RSA leaf as its client
// certificate (the browser package's own tests use the card).
func soft(t *testing.T) *browser.Browser {
	t.Helper()
	id := pki.MustGet().P256
	b, err := browser.New(browser.Config{RootCAs: roots(), ServerName: "localhost",
		Certificate: []*x509.Certificate{id.Cert}, Key: id.Key})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// testEPR is the discovery bootstrap the reference IdP sends.
const testEPR = `<wsa:EndpointReference xmlns:wsa="http://www.w3.org/2005/08/addressing">` +
	`<wsa:Address>https://127.0.0.1:1/disco</wsa:Address></wsa:EndpointReference>`

// federation starts a Lasso IdP and a Lasso SP that trust each other; the
// SP is given the IdP's metadata as fetched from the IdP.
func federation(t *testing.T, encrypt bool) (*lasso.SP, *lasso.IdP) {
	t.Helper()
	sp := lasso.NewSP(t, lasso.SPConfig{Encrypt: encrypt, RequestDiscoveryEPR: true})
	idp := lasso.NewIdP(t, lasso.IdPConfig{Encrypt: encrypt, DiscoveryEPR: testEPR})
	idp.Start(sp.Metadata)
	md, err := lasso.FetchMetadata(ctx(t), soft(t).Client(), idp.EntityID)
	if err != nil {
		t.Fatal(err)
	}
	if string(md) != string(idp.Metadata) {
		t.Fatal("the IdP served other metadata than it was given")
	}
	if err := sp.Start(md); err != nil {
		t.Fatal(err)
	}
	return sp, idp
}

// TestSSOWithLassoIdP proves the SP harness (and the browser) against a
// Lasso IdP: Redirect and POST requests, persistent and transient NameIDs,
// plain and encrypted assertions; the SP reports what it accepted.
func TestSSOWithLassoIdP(t *testing.T) {
	for _, encrypt := range []bool{false, true} {
		sp, idp := federation(t, encrypt)
		var persistent string
		for _, tc := range []struct{ binding, nameid, format string }{
			{lasso.Redirect, lasso.Persistent, lasso.FormatPersistent},
			{lasso.POST, lasso.Persistent, lasso.FormatPersistent},
			{lasso.Redirect, lasso.Transient, lasso.FormatTransient},
			{lasso.POST, lasso.Transient, lasso.FormatTransient},
		} {
			name := "ok/" + tc.binding + "-" + tc.nameid
			if encrypt {
				name += "-encrypted"
			}
			t.Run(name, func(t *testing.T) {
				b := soft(t)
				page, err := b.Get(ctx(t), sp.LoginURL(tc.binding, tc.nameid, false))
				if err != nil {
					t.Fatalf("%v\n%s\nSP: %s\nIdP: %s", err, b, sp.Stderr(), idp.Stderr())
				}
				r, err := lasso.ParseResult(page.Status, page.Body)
				if err != nil {
					t.Fatalf("%v\n%s", err, b)
				}
				checkResult(t, r, idp.EntityID, tc.format, encrypt)
				checkHops(t, b, tc.binding)
				if tc.nameid == lasso.Persistent {
					if persistent != "" && r.NameID != persistent {
						t.Fatalf("persistent NameID changed: %q then %q", persistent, r.NameID)
					}
					persistent = r.NameID
				}
			})
		}
	}
}

func checkResult(t *testing.T, r *lasso.Result, idp, format string, encrypted bool) {
	t.Helper()
	if r.Issuer != idp || r.Format != format || r.NameID == "" || r.Encrypted != encrypted {
		t.Fatalf("result %+v", r)
	}
	if r.InResponseTo == "" || r.InResponseTo != r.RequestID {
		t.Fatalf("InResponseTo %q, the SP's request was %q", r.InResponseTo, r.RequestID)
	}
	if r.AuthnContext != "urn:oasis:names:tc:SAML:2.0:ac:classes:SmartcardPKI" || r.SessionIndex == "" {
		t.Fatalf("authn context %q, session index %q", r.AuthnContext, r.SessionIndex)
	}
	if epr := r.Attr(lasso.DiscoveryEPR); epr == nil || len(epr.Values) != 1 ||
		!strings.Contains(epr.Values[0], "<wsa:Address>https://127.0.0.1:1/disco</wsa:Address>") {
		t.Fatalf("DiscoveryEPR attribute = %+v", epr)
	}
	cn := r.Attr("cn")
	if cn == nil || len(cn.Values) != 1 || !strings.Contains(cn.Values[0], ">"+pki.MustGet().P256.Cert.Subject.CommonName+"<") {
		t.Fatalf("attribute cn = %+v", cn)
	}
}

// checkHops: login, (302 to the IdP | auto-posted request), the IdP's
// auto-posted response to the ACS.
func checkHops(t *testing.T, b *browser.Browser, binding string) {
	t.Helper()
	h := b.Hops()
	want := []int{302, 200, 200}
	if binding == lasso.POST {
		want = []int{200, 200, 200}
	}
	if len(h) != len(want) || !h[1].Auto == (binding == lasso.POST) || !h[2].Auto || !strings.HasSuffix(h[2].URL, "/acs") {
		t.Fatalf("hops:\n%s", b)
	}
	for i, s := range want {
		if h[i].Status != s {
			t.Fatalf("hop %d status %d, want %d\n%s", i, h[i].Status, s, b)
		}
	}
}

// TestSPRefuses: the SP answers with Lasso's error, as a *RefusedError,
// when the Response is garbage, comes from an IdP it does not know, or
// carries an assertion changed after the trusted IdP signed it.
func TestSPRefuses(t *testing.T) {
	sp, idp := federation(t, false)
	other := lasso.NewIdP(t, lasso.IdPConfig{})
	other.Start(sp.Metadata)
	b := soft(t)
	page, err := b.Get(ctx(t), sp.LoginURL(lasso.Redirect, lasso.Transient, false))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lasso.ParseResult(page.Status, page.Body); err != nil {
		t.Fatalf("the trusted IdP's response was refused: %v", err)
	}
	for _, tc := range []struct{ name, response string }{
		{"fail/garbage", "bm90IFNBTUw="},
		{"fail/unknown-issuer", respondFrom(t, other, sp)},
		{"fail/tampered-assertion", tamper(t, respondFrom(t, idp, sp))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			page, err := b.Post(ctx(t), sp.URL+"/acs", map[string][]string{"SAMLResponse": {tc.response}})
			if err != nil {
				t.Fatal(err)
			}
			_, err = lasso.ParseResult(page.Status, page.Body)
			var refused *lasso.RefusedError
			t.Logf("the SP says: %v", err)
			if !errors.As(err, &refused) || refused.HTTPStatus != 403 || refused.Err == "" {
				t.Fatalf("got %v", err)
			}
		})
	}
}

// respondFrom takes sp's POST-binding request to the other IdP and
// returns that IdP's SAMLResponse, with a browser that submits nothing by
// itself.
func respondFrom(t *testing.T, other *lasso.IdP, sp *lasso.SP) string {
	t.Helper()
	b, err := browser.New(browser.Config{RootCAs: roots(), ServerName: "localhost",
		AutoSubmit: func(browser.Form) bool { return false }})
	if err != nil {
		t.Fatal(err)
	}
	page, err := b.Get(ctx(t), sp.LoginURL(lasso.POST, lasso.Transient, false))
	if err != nil {
		t.Fatal(err)
	}
	f := onlyForm(t, page)
	f.Action, _ = f.Action.Parse(other.URL + "/sso")
	if page, err = b.Submit(ctx(t), f); err != nil || page.Status != 200 {
		t.Fatalf("the other IdP: %v %s", err, other.Stderr())
	}
	return onlyForm(t, page).Values.Get("SAMLResponse")
}

// tamper changes the AuthnContextClassRef inside the signed assertion.
func tamper(t *testing.T, resp string) string {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(resp)
	if err != nil || !bytes.Contains(raw, []byte("SmartcardPKI")) {
		t.Fatalf("response to tamper with: %v %s", err, raw)
	}
	return base64.StdEncoding.EncodeToString(bytes.Replace(raw, []byte("SmartcardPKI"), []byte("Password"), 1))
}

func onlyForm(t *testing.T, page *browser.Page) browser.Form {
	t.Helper()
	forms, err := browser.ParseForms(page.Body, page.URL)
	if err != nil || len(forms) != 1 {
		t.Fatalf("want one form (%v) in %s", err, page.Body)
	}
	return forms[0]
}

// TestECPWithLassoIdP proves the ECP runner: Lasso's ECP relays the Lasso
// SP's PAOS request to the Lasso IdP's SOAP endpoint over TLS with a client
// certificate presented by Go, and the IdP's response back to the SP, which
// accepts it.
func TestECPWithLassoIdP(t *testing.T) {
	sp, idp := federation(t, true)
	id := pki.MustGet().P256
	tc := &tls.Config{RootCAs: roots(), ServerName: "localhost",
		Certificates: []tls.Certificate{{Certificate: [][]byte{id.Cert.Raw}, PrivateKey: id.Key}}}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: tc}, Timeout: 30 * time.Second}
	md, err := lasso.FetchMetadata(ctx(t), client, idp.EntityID)
	if err != nil {
		t.Fatal(err)
	}
	ecp := &lasso.ECP{IdPMetadata: md, SP: client, IdP: client}
	run, err := ecp.Run(ctx(t), t, sp.ECPURL(lasso.Persistent))
	if err != nil {
		t.Fatalf("%v\nrun %s\nSP: %s\nIdP: %s", err, run, sp.Stderr(), idp.Stderr())
	}
	if run.IdPURL != idp.SOAPURL() || run.ACS != sp.URL+"/ecp-acs" || run.IdPStatus != 200 {
		t.Fatalf("IdP URL %q, ACS %q, IdP status %d", run.IdPURL, run.ACS, run.IdPStatus)
	}
	r, err := lasso.ParseResult(run.Status, run.Body)
	if err != nil {
		t.Fatalf("%v\nSP: %s", err, sp.Stderr())
	}
	checkResult(t, r, idp.EntityID, lasso.FormatPersistent, true)
}

// TestSPRefusesMetadata: Lasso's refusal of IdP metadata is an error of
// Start, with Lasso's text, and no SP runs.
func TestSPRefusesMetadata(t *testing.T) {
	for _, tc := range []struct{ name, md string }{
		{"fail/not-xml", "not metadata"},
		{"fail/no-idp-role", `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://127.0.0.1:1/x"/>`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sp := lasso.NewSP(t, lasso.SPConfig{})
			err := sp.Start([]byte(tc.md))
			if err == nil {
				t.Fatal("Lasso accepted the metadata")
			}
			t.Logf("lasso says: %v", err)
		})
	}
}

// TestECPRefusesNonSOAP: when the "IdP" answers with something other than
// a SOAP response, Lasso's ECP refuses it and Run says which step failed.
func TestECPRefusesNonSOAP(t *testing.T) {
	sp, idp := federation(t, false)
	client := soft(t).Client()
	ecp := &lasso.ECP{IdPMetadata: idp.Metadata, SP: client, IdP: client, IdPURL: sp.EntityID}
	run, err := ecp.Run(ctx(t), t, sp.ECPURL(lasso.Transient))
	var e *lasso.ECPError
	if !errors.As(err, &e) || e.Step != "IdP's response" || run.IdPURL != sp.EntityID {
		t.Fatalf("fail/not-soap: %v\n%s", err, run)
	}
	t.Logf("the ECP says: %v", err)
}
