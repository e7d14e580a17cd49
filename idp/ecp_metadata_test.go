package idp

import (
	"bytes"
	"crypto/x509"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/internal/testkit/xmlsec1"
	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/binding"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
)

// ecpRequest is the terminal's signed AuthnRequest for the ECP profile
// (SAML Profiles §4.2.4.1), as the ECP relays it to the IdP.
func (e *ssoEnv) ecpRequest(sp *testSP, id string) []byte {
	e.t.Helper()
	req := &samlp.AuthnRequest{RequestHeader: samlp.RequestHeader{ID: id, IssueInstant: e.now,
		Destination: e.cardURL + PathECP, Issuer: &saml.Issuer{Value: sp.ID}},
		AssertionConsumerServiceURL: sp.PAOS, ProtocolBinding: samlp.BindingPAOS}
	el, err := samlp.Sign(req, spSigner(sp))
	must(e.t, err)
	b, err := xmlsec.Serialize((&binding.Envelope{Body: el}).Element())
	must(e.t, err)
	return b
}

func (e *ssoEnv) soap(c *http.Client, body []byte) (int, []byte) {
	e.t.Helper()
	r, err := http.NewRequest(http.MethodPost, e.cardURL+PathECP, bytes.NewReader(body))
	must(e.t, err)
	r.Header.Set("Content-Type", "text/xml; charset=utf-8")
	resp, err := c.Do(r)
	must(e.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	must(e.t, err)
	return resp.StatusCode, b
}

// ecpAnswer reads the IdP's SOAP answer as the ECP and then the SP do:
// the ecp:Response header must name the SP's PAOS ACS (SAML Profiles
// §4.2.4.5), and the SP accepts the samlp:Response in the Body.
func (e *ssoEnv) ecpAnswer(sp *testSP, body []byte, id string) *received {
	e.t.Helper()
	must(e.t, e.schema.Validate(body))
	env, err := (&binding.SOAPDecoder{}).Decode(bytes.NewReader(body))
	must(e.t, err)
	h, err := binding.ReadECPHeaders(env, binding.ECPQuirks{})
	must(e.t, err)
	must(e.t, binding.CheckECPResponse(&binding.PAOSRequest{ResponseConsumerURL: sp.PAOS}, h.Response))
	got, err := e.acceptResponse(sp, env.Body, sp.PAOS, id)
	must(e.t, err)
	return got
}

// TestECP: the reception terminal relays a signed AuthnRequest over the
// card-authenticated TLS connection and gets a short-lived assertion with
// the bootstrap.
func TestECP(t *testing.T) {
	e := newSSOEnv(t, nil)
	term := e.sps[terminalID]
	t.Run("ok/card-present", func(t *testing.T) {
		status, body := e.soap(e.browser(&e.Alice), e.ecpRequest(term, "_ecp1"))
		if status != http.StatusOK {
			t.Fatalf("status %d: %s", status, body)
		}
		got := e.ecpAnswer(term, body, "_ecp1")
		a := got.Assertion
		if a == nil || !got.Encrypted || a.AuthnStatements[0].ClassRef != saml.ACSmartcardPKI {
			t.Fatalf("received %+v", got.Response.Status)
		}
		if life := a.Conditions.NotOnOrAfter.Sub(a.IssueInstant); life > DefaultECPLifetime || life <= 0 {
			t.Fatalf("ECP assertion lives %v, cap %v", life, DefaultECPLifetime)
		}
		tok, err := dsChecker(t, dsID).Check(ctx, bootstrapToken(t, got.Signed), e.now, false)
		must(t, err)
		if end := tok.Assertion.Conditions.NotOnOrAfter; end.After(e.now.Add(DefaultECPLifetime)) {
			t.Fatalf("the terminal's DS token lives until %v, past the ECP cap", end)
		}
		if hok := tok.HolderOfKeys(e.now, 0); len(hok) != 1 || !samePublicKey(term.Key.Cert.PublicKey, hok[0]) {
			t.Fatal("the DS token is not bound to the terminal's metadata signing key")
		}
	})
	t.Run("fail/revoked-card", func(t *testing.T) {
		status, body := e.soap(e.browser(&e.Revoked), e.ecpRequest(term, "_ecp2"))
		if status != http.StatusOK {
			t.Fatalf("status %d: a SAML error travels as a SAML response", status)
		}
		wantStatus(t, e.ecpAnswer(term, body, "_ecp2"), samlp.StatusResponder, samlp.StatusAuthnFailed)
	})
	t.Run("fail/unknown-sp-is-a-fault", func(t *testing.T) {
		stranger := *term
		stranger.ID = "https://stranger.example.org/terminal"
		status, body := e.soap(e.browser(&e.Alice), e.ecpRequest(&stranger, "_ecp3"))
		if status != http.StatusInternalServerError || !strings.Contains(string(body), "Fault") || strings.Contains(string(body), "Assertion") {
			t.Fatalf("status %d: %s", status, body)
		}
	})
	t.Run("fail/oversized", func(t *testing.T) {
		status, _ := e.soap(e.browser(&e.Alice), bytes.Repeat([]byte("<"), DefaultMaxBody+10))
		if status != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d", status)
		}
	})
	t.Run("ok/configured-lifetime", func(t *testing.T) {
		e := newSSOEnv(t, func(c *SSOConfig) { c.ECPLifetime = 30 * time.Second })
		_, body := e.soap(e.browser(&e.Alice), e.ecpRequest(e.sps[terminalID], "_ecp4"))
		a := e.ecpAnswer(e.sps[terminalID], body, "_ecp4").Assertion
		if life := a.Conditions.NotOnOrAfter.Sub(a.IssueInstant); life != 30*time.Second {
			t.Fatalf("lifetime %v", life)
		}
	})
}

// TestMetadata: the served metadata is signed, schema-valid, verified by
// xmlsec1, and lists both signing keys of a rollover, the encryption key
// and the three SSO endpoints.
func TestMetadata(t *testing.T) {
	e := newSSOEnv(t, nil)
	resp, err := e.browser(nil).Get(e.mainURL + PathMetadata)
	must(t, err)
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	must(t, err)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/samlmetadata+xml" {
		t.Fatalf("status %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	must(t, e.schema.Validate(b))
	doc, err := xmlsec.Parse(b, xmlsec.Limits{})
	must(t, err)
	v := &dsig.Verifier{Trust: xmlsec.NewTrustSet([]*x509.Certificate{federationKeys(t).IdP.Cert})}
	d, _, err := md.Verify(doc.Root(), v)
	must(t, err)
	idpd, err := d.Entity.IDP()
	must(t, err)
	if len(idpd.SigningCertificates()) != 2 || len(idpd.SingleSignOn) != 3 || len(idpd.NameIDFormats) != 2 || d.Entity.ValidUntil.IsZero() || d.Entity.CacheDuration == 0 {
		t.Fatalf("metadata %+v", idpd)
	}
	rcpt, err := idpd.EncryptionRecipient(idpID)
	must(t, err)
	if len(rcpt.Methods) == 0 {
		t.Fatal("no md:EncryptionMethod")
	}
	if ep, err := idpd.SingleSignOnService(samlp.BindingSOAP); err != nil || ep.Location != e.cardURL+PathECP {
		t.Fatalf("SOAP endpoint %v %v", ep, err)
	}
	x := xmlsec1.New(t)
	ca := x.File("ca.pem", pki.MustGet().CA.CertPEM())
	idAttr := "urn:oasis:names:tc:SAML:2.0:metadata:EntityDescriptor"
	if out, err := x.Run("--verify", "--id-attr:ID", idAttr, "--trusted-pem", ca, x.File("idp.xml", b)); err != nil {
		t.Fatalf("xmlsec1 refused our metadata: %v\n%s", err, out)
	}
	bad := bytes.Replace(b, []byte(PathECP+`"`), []byte(`/evil"`), 1)
	if _, err := x.Run("--verify", "--id-attr:ID", idAttr, "--trusted-pem", ca, x.File("bad.xml", bad)); err == nil {
		t.Fatal("xmlsec1 accepted tampered metadata: the oracle proves nothing")
	}
}

// TestMetadataSignedOnce: GET /metadata serves the same signed document
// until a twentieth of its cacheDuration has passed, then a freshly
// signed one with a later validUntil.
func TestMetadataSignedOnce(t *testing.T) {
	e := newSSOEnv(t, nil)
	get := func() string {
		resp, err := e.browser(nil).Get(e.mainURL + PathMetadata)
		must(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		must(t, err)
		return string(b)
	}
	first := get()
	e.now = e.now.Add(time.Minute)
	if get() != first {
		t.Fatal("metadata signed again a minute later")
	}
	e.now = e.now.Add(3 * time.Minute)
	if again := get(); again == first || !strings.Contains(again, "SignatureValue") {
		t.Fatal("metadata not signed again after four minutes")
	}
}
