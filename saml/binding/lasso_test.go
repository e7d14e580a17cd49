package binding

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"html"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
)

// python is the system interpreter, for which Debian installs python3-lasso
// (another python3 earlier on PATH may lack it).
const python = "/usr/bin/python3"

// lassoPeer is a federation of one SP and one IdP written for Lasso: their
// metadata (minimal md:EntityDescriptor documents made here, independent of
// any metadata package), keys and certificates.
type lassoPeer struct {
	dir     string
	sp, idp *pki.Identity
}

func newLassoPeer(t *testing.T) *lassoPeer {
	t.Helper()
	if err := exec.Command(python, "-c", "import lasso").Run(); err != nil {
		t.Fatalf("python3-lasso is not available (make deps installs it): %v", err)
	}
	p := pki.MustGet()
	idp, err := p.CA.Issue("idp", pki.RSA2048)
	if err != nil {
		t.Fatal(err)
	}
	l := &lassoPeer{dir: t.TempDir(), sp: p.RSA, idp: idp}
	l.write(t, "sp", l.sp, spMetadata(l.sp.Cert))
	l.write(t, "idp", l.idp, idpMetadata(l.idp.Cert))
	if err := os.WriteFile(filepath.Join(l.dir, "idp.entity"), []byte(idpEntity), 0o644); err != nil {
		t.Fatal(err)
	}
	return l
}

func (l *lassoPeer) write(t *testing.T, name string, id *pki.Identity, md string) {
	t.Helper()
	files := map[string][]byte{name + ".xml": []byte(md), name + ".crt": id.CertPEM(), name + ".key": id.KeyPEM()}
	for f, b := range files {
		if err := os.WriteFile(filepath.Join(l.dir, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// run runs one command of testdata/lasso_peer.py and decodes its JSON.
func (l *lassoPeer) run(t *testing.T, cmd, stdin string) (map[string]string, error) {
	t.Helper()
	c := exec.Command(python, "testdata/lasso_peer.py", cmd, l.dir)
	c.Stdin = strings.NewReader(stdin)
	var stderr strings.Builder
	c.Stderr = &stderr
	out, err := c.Output()
	if err != nil {
		return nil, errors.New(err.Error() + ": " + stderr.String())
	}
	m := map[string]string{}
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatalf("lasso output %q: %v", out, err)
	}
	return m, nil
}

func keyDescriptor(cert *x509.Certificate) string {
	return `<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>` +
		base64.StdEncoding.EncodeToString(cert.Raw) + `</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`
}

const mdOpen = `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="`

func spMetadata(cert *x509.Certificate) string {
	return mdOpen + spEntity + `"><md:SPSSODescriptor AuthnRequestsSigned="true" WantAssertionsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">` +
		keyDescriptor(cert) +
		`<md:AssertionConsumerService Binding="` + samlp.BindingHTTPPOST + `" Location="` + acsURL + `" index="0" isDefault="true"/>` +
		`<md:AssertionConsumerService Binding="` + samlp.BindingPAOS + `" Location="` + ecpACSURL + `" index="1"/>` +
		`</md:SPSSODescriptor></md:EntityDescriptor>`
}

func idpMetadata(cert *x509.Certificate) string {
	return mdOpen + idpEntity + `"><md:IDPSSODescriptor WantAuthnRequestsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">` +
		keyDescriptor(cert) +
		`<md:SingleSignOnService Binding="` + samlp.BindingHTTPRedirect + `" Location="` + ssoURL + `"/>` +
		`<md:SingleSignOnService Binding="` + samlp.BindingHTTPPOST + `" Location="` + ssoURL + `"/>` +
		`<md:SingleSignOnService Binding="` + samlp.BindingSOAP + `" Location="` + ssoURL + `/soap"/>` +
		`</md:IDPSSODescriptor></md:EntityDescriptor>`
}

// TestLassoRedirectAuthnRequest: a Lasso SP builds a signed HTTP-Redirect
// AuthnRequest; we decode it from the raw query and verify the query
// signature with the SP's key.
func TestLassoRedirectAuthnRequest(t *testing.T) {
	l := newLassoPeer(t)
	out, err := l.run(t, "sp-redirect", "")
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(out["url"])
	if err != nil {
		t.Fatal(err)
	}
	m, err := (&RedirectDecoder{}).Decode(u.RawQuery)
	if err != nil {
		t.Fatal(err)
	}
	if m.SigAlg != xmlsec.RSASHA256 || m.RelayState != "lasso-rs" {
		t.Fatalf("SigAlg %q RelayState %q", m.SigAlg, m.RelayState)
	}
	u0, err := samlp.Peek(m.Unverified())
	if err != nil || u0.Issuer == nil || u0.Issuer.Value != spEntity {
		t.Fatalf("peek: %v %+v", err, u0)
	}
	el, _, err := m.Verify(trustOf(l.sp.Cert), xmlsec.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := samlp.DecodeAuthnRequest(el)
	if err != nil {
		t.Fatal(err)
	}
	if r.ID != out["id"] || r.NameIDPolicy == nil || !r.NameIDPolicy.AllowCreate || r.ProtocolBinding != samlp.BindingHTTPPOST {
		t.Fatalf("decoded %+v", r)
	}
	t.Run("fail/untrusted-key", func(t *testing.T) {
		if _, _, err := m.Verify(trustOf(l.idp.Cert), xmlsec.Policy{}); !errors.Is(err, xmlsec.ErrSignature) {
			t.Fatalf("got %v", err)
		}
	})
}

// TestLassoPOSTAuthnRequest: a Lasso SP builds an HTTP-POST AuthnRequest,
// signed in XML; we decode the form body and verify the enveloped
// signature under the strict policy (Lasso 2.8 signs rsa-sha256 with sha256
// digests once the server's signatureMethod says so).
func TestLassoPOSTAuthnRequest(t *testing.T) {
	l := newLassoPeer(t)
	out, err := l.run(t, "sp-post", "")
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{ParamRequest: {out["body"]}, ParamRelayState: {out["relayState"]}}
	m, err := (&POSTDecoder{}).Decode(strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	validate(t, serialize(t, m.Element))
	r, _, err := samlp.VerifyAuthnRequest(m.Element, &dsig.Verifier{Trust: trustOf(l.sp.Cert)})
	if err != nil {
		t.Fatal(err)
	}
	if r.ID != out["id"] || !r.Signed || m.RelayState != "lasso-rs" {
		t.Fatalf("decoded %+v", r)
	}
}

// TestLassoVerifiesOurRedirect: a Lasso IdP, given our SP's metadata,
// verifies the query signature of a Redirect AuthnRequest we sign: evidence
// from outside xmlsec. A tampered query must fail there too.
func TestLassoVerifiesOurRedirect(t *testing.T) {
	l := newLassoPeer(t)
	req := authnRequest()
	req.IssueInstant = time.Now().UTC().Truncate(time.Second)
	q, err := EncodeRedirect(req.Element(), "ss:mem:5f2a9c", &RedirectSigner{Key: l.sp.Key})
	if err != nil {
		t.Fatal(err)
	}
	out, err := l.run(t, "idp-verify-redirect", q)
	if err != nil {
		t.Fatal(err)
	}
	if out["id"] != req.ID || out["issuer"] != spEntity || out["relayState"] != "ss:mem:5f2a9c" {
		t.Fatalf("lasso read %v", out)
	}
	t.Run("fail/tampered-relaystate", func(t *testing.T) {
		if _, err := l.run(t, "idp-verify-redirect", strings.Replace(q, "RelayState=ss", "RelayState=st", 1)); err == nil {
			t.Fatal("Lasso accepted a tampered query")
		}
	})
}

// TestLassoAcceptsOurResponse: a Response we build and sign (Response and
// assertion), delivered as our HTTP-POST form, is accepted by a Lasso SP.
func TestLassoAcceptsOurResponse(t *testing.T) {
	l := newLassoPeer(t)
	now := time.Now().UTC().Truncate(time.Second)
	signer := &dsig.Signer{Key: l.idp.Key, Certificates: []*x509.Certificate{l.idp.Cert}}
	a, err := saml.SignAssertion(lassoAssertion(now), signer)
	if err != nil {
		t.Fatal(err)
	}
	resp := &samlp.Response{StatusResponseHeader: samlp.StatusResponseHeader{ID: "_resp1", IssueInstant: now,
		Destination: acsURL, Issuer: &saml.Issuer{Value: idpEntity}, Status: samlp.NewStatus(samlp.StatusSuccess, "")},
		Assertions: []*etree.Element{a}}
	signed, err := samlp.Sign(resp, signer)
	if err != nil {
		t.Fatal(err)
	}
	validate(t, serialize(t, signed))
	page, err := EncodePOST(acsURL, signed, "", FormOptions{})
	if err != nil {
		t.Fatal(err)
	}
	value := formValue(t, string(page), ParamResponse)
	out, err := l.run(t, "sp-accept-response", value)
	if err != nil {
		t.Fatal(err)
	}
	if out["nameID"] != "Qm9hZ3Vz" || out["issuer"] != idpEntity {
		t.Fatalf("lasso read %v", out)
	}
	t.Run("fail/tampered", func(t *testing.T) {
		raw, _ := base64.StdEncoding.DecodeString(value)
		bad := strings.Replace(string(raw), "Qm9hZ3Vz", "Qm9hZ3Vy", 1)
		if _, err := l.run(t, "sp-accept-response", base64.StdEncoding.EncodeToString([]byte(bad))); err == nil {
			t.Fatal("Lasso accepted a tampered response")
		}
	})
}

func lassoAssertion(now time.Time) *saml.Assertion {
	return &saml.Assertion{ID: "_assert1", IssueInstant: now, Issuer: saml.Issuer{Value: idpEntity},
		Subject: &saml.Subject{NameID: &saml.NameID{Value: "Qm9hZ3Vz", Format: saml.NameIDPersistent, NameQualifier: idpEntity, SPNameQualifier: spEntity},
			Confirmations: []saml.SubjectConfirmation{{Method: saml.CMBearer, Data: &saml.SubjectConfirmationData{
				NotOnOrAfter: now.Add(5 * time.Minute), Recipient: acsURL}}}},
		Conditions: &saml.Conditions{NotBefore: now.Add(-time.Minute), NotOnOrAfter: now.Add(5 * time.Minute),
			AudienceRestrictions: []saml.AudienceRestriction{{Audiences: []string{spEntity}}}},
		AuthnStatements: []saml.AuthnStatement{{AuthnInstant: now, SessionIndex: "s1", ClassRef: saml.ACSmartcardPKI}},
	}
}

var inputRE = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)

// formValue reads a hidden input of our form page, as a browser would.
func formValue(t *testing.T, page, name string) string {
	t.Helper()
	for _, m := range inputRE.FindAllStringSubmatch(page, -1) {
		if html.UnescapeString(m[1]) == name {
			return html.UnescapeString(m[2])
		}
	}
	t.Fatalf("no input %s in %s", name, page)
	return ""
}

// TestLassoPAOSRequest: a Lasso SP's PAOS AuthnRequest envelope (signed
// AuthnRequest, paos:Request, ecp:Request, ecp:RelayState) decodes here;
// its header blocks need the UnqualifiedActor quirk, without which they are
// refused; the AuthnRequest's signature verifies with the SP's key.
func TestLassoPAOSRequest(t *testing.T) {
	l := newLassoPeer(t)
	out, err := l.run(t, "sp-paos", "")
	if err != nil {
		t.Fatal(err)
	}
	env, err := (&SOAPDecoder{}).Decode(strings.NewReader(out["envelope"]))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ReadECPHeaders(env, ECPQuirks{}); !errors.Is(err, ErrSOAP) {
		t.Fatalf("fail/strict: got %v", err)
	}
	h, err := ReadECPHeaders(env, ECPQuirks{UnqualifiedActor: true})
	if err != nil {
		t.Fatal(err)
	}
	if h.PAOSRequest == nil || h.PAOSRequest.ResponseConsumerURL != ecpACSURL || h.PAOSRequest.Service != ServiceECP ||
		h.Request == nil || h.Request.Issuer.Value != spEntity || h.RelayState == nil || *h.RelayState != "lasso-ecp-rs" {
		t.Fatalf("headers %+v", h)
	}
	r, _, err := samlp.VerifyAuthnRequest(env.Body, &dsig.Verifier{Trust: trustOf(l.sp.Cert)})
	if err != nil {
		t.Fatal(err)
	}
	if r.ID != out["id"] || r.ProtocolBinding != samlp.BindingPAOS || r.AssertionConsumerServiceURL != ecpACSURL {
		t.Fatalf("request %+v", r)
	}
}

// TestLassoResponse: a Lasso IdP answers our signed Redirect AuthnRequest;
// its HTTP-POST Response decodes, verifies with the IdP's key and carries a
// signed assertion that saml.VerifyAssertion accepts.
func TestLassoResponse(t *testing.T) {
	l := newLassoPeer(t)
	q, err := EncodeRedirect(authnRequest().Element(), "rs", &RedirectSigner{Key: l.sp.Key})
	if err != nil {
		t.Fatal(err)
	}
	out, err := l.run(t, "idp-response", q)
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{ParamResponse: {out["body"]}, ParamRelayState: {out["relayState"]}}
	m, err := (&POSTDecoder{}).Decode(strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	if m.RelayState != "rs" {
		t.Fatalf("RelayState %q", m.RelayState)
	}
	u, err := samlp.PeekResponse(m.Element)
	if err != nil || u.Issuer.Value != idpEntity || len(u.Assertions) != 1 {
		t.Fatalf("peek: %v %+v", err, u)
	}
	v := &dsig.Verifier{Trust: trustOf(l.idp.Cert)}
	resp, _, err := samlp.VerifyResponse(m.Element, v)
	if err != nil {
		t.Fatal(err)
	}
	if resp.InResponseTo != authnRequest().ID || !resp.Status.Success() || resp.Destination != acsURL {
		t.Fatalf("response %+v", resp)
	}
	a, _, err := saml.VerifyAssertion(u.Assertions[0], v)
	if err != nil {
		t.Fatal(err)
	}
	if a.Issuer.Value != idpEntity || a.Subject == nil || a.Subject.NameID == nil {
		t.Fatalf("assertion %+v", a)
	}
	if _, _, err := samlp.VerifyResponse(m.Element, &dsig.Verifier{Trust: trustOf(l.sp.Cert)}); !errors.Is(err, xmlsec.ErrUntrustedKey) {
		t.Fatalf("fail/untrusted-key: %v", err)
	}
}

// TestLassoECPRelaysOurMessages: a Lasso ECP takes our SP's PAOS request
// envelope and our IdP's ECP response envelope, and delivers the Response
// with our RelayState to the PAOS consumer; the envelopes it makes decode
// here. With an ecp:Response ACS that differs from the paos:Request
// responseConsumerURL, Lasso refuses, as SAML Profiles §4.2.4.5 wants.
func TestLassoECPRelaysOurMessages(t *testing.T) {
	l := newLassoPeer(t)
	req := authnRequest()
	req.ProtocolBinding, req.AssertionConsumerServiceURL, req.Destination = samlp.BindingPAOS, ecpACSURL, ""
	h := ecpRequestHeaders()
	h.PAOSRequest.ResponseConsumerURL = ecpACSURL
	paos := serialize(t, (&Envelope{Header: h.Elements(), Body: req.Element()}).Element())
	respEnv := func(acs string) string {
		r := &samlp.Response{StatusResponseHeader: samlp.StatusResponseHeader{ID: "_r1", InResponseTo: req.ID, IssueInstant: t0,
			Issuer: &saml.Issuer{Value: idpEntity}, Status: samlp.NewStatus(samlp.StatusSuccess, "")}}
		return string(serialize(t, (&Envelope{Header: []*etree.Element{(&ECPResponse{AssertionConsumerServiceURL: acs}).Element()}, Body: r.Element()}).Element()))
	}
	out, err := l.run(t, "ecp-relay", string(paos)+"\f"+respEnv(ecpACSURL))
	if err != nil {
		t.Fatal(err)
	}
	if out["acs"] != ecpACSURL {
		t.Fatalf("Lasso delivers to %q", out["acs"])
	}
	toIdP, err := (&SOAPDecoder{}).Decode(strings.NewReader(out["toIdP"]))
	if err != nil {
		t.Fatal(err)
	}
	if r, err := samlp.DecodeAuthnRequest(toIdP.Body); err != nil || r.ID != req.ID {
		t.Fatalf("forwarded request: %v", err)
	}
	toSP, err := (&SOAPDecoder{}).Decode(strings.NewReader(out["toSP"]))
	if err != nil {
		t.Fatal(err)
	}
	sh, err := ReadECPHeaders(toSP, ECPQuirks{UnqualifiedActor: true})
	if err != nil {
		t.Fatal(err)
	}
	if sh.RelayState == nil || *sh.RelayState != *h.RelayState {
		t.Fatalf("RelayState %v", sh.RelayState)
	}
	if r, err := samlp.DecodeResponse(toSP.Body); err != nil || r.InResponseTo != req.ID {
		t.Fatalf("delivered response: %v", err)
	}
	t.Run("fail/acs-mismatch", func(t *testing.T) {
		_, err := l.run(t, "ecp-relay", string(paos)+"\f"+respEnv("https://127.0.0.1:1/evil"))
		if err == nil || !strings.Contains(err.Error(), "EcpAssertionConsumerUrlMismatchError") {
			t.Fatalf("Lasso relayed a response for another ACS, or failed otherwise: %v", err)
		}
	})
}
