package dsig

import (
	"bytes"
	"strings"
	"testing"

	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/internal/testkit/xmlsec1"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

const (
	idAttrAssertion = "urn:oasis:names:tc:SAML:2.0:assertion:Assertion"
	idAttrResponse  = "urn:oasis:names:tc:SAML:2.0:protocol:Response"
)

// TestXmlsec1VerifiesOurs: xmlsec1 (libxml2 + OpenSSL) accepts our
// enveloped signatures, chaining the KeyInfo certificate to the test CA,
// and rejects them once the NameID is changed.
func TestXmlsec1VerifiesOurs(t *testing.T) {
	p := pki.MustGet()
	cases := []struct {
		name   string
		id     *pki.Identity
		doc    func(testing.TB, *pki.Identity) []byte
		idAttr string
	}{
		{"ok/assertion-rsa", p.RSA, signedAssertionResponse, idAttrAssertion},
		{"ok/assertion-p256", p.P256, signedAssertionResponse, idAttrAssertion},
		{"ok/assertion-p384", p.P384, signedAssertionResponse, idAttrAssertion},
		{"ok/response-rsa", p.RSA, signedResponse, idAttrResponse},
		{"ok/response-p256", p.P256, signedResponse, idAttrResponse},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			x := xmlsec1.New(t)
			ca := x.File("ca.pem", p.CA.CertPEM())
			doc := c.doc(t, c.id)
			in := x.File("signed.xml", doc)
			if out, err := x.Run("--verify", "--id-attr:ID", c.idAttr, "--trusted-pem", ca, in); err != nil {
				t.Fatalf("xmlsec1 refused our signature: %v\n%s", err, out)
			}
			bad := x.File("tampered.xml", bytes.Replace(doc, []byte(signedNameID), []byte("admin@idp.example.org"), 1))
			if _, err := x.Run("--verify", "--id-attr:ID", c.idAttr, "--trusted-pem", ca, bad); err == nil {
				t.Fatal("xmlsec1 accepted a tampered document: the oracle proves nothing")
			}
		})
	}
}

// sigTemplate is an xmlsec1 signing template: the Signature after the
// Issuer, empty DigestValue and SignatureValue, an empty X509Data for
// xmlsec1 to fill with the certificate.
func sigTemplate(method, id string) string {
	return `<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo>` +
		`<ds:CanonicalizationMethod Algorithm="` + xmlsec.ExcC14N + `"/>` +
		`<ds:SignatureMethod Algorithm="` + method + `"/>` +
		`<ds:Reference URI="#` + id + `"><ds:Transforms>` +
		`<ds:Transform Algorithm="` + xmlsec.EnvelopedSignature + `"/>` +
		`<ds:Transform Algorithm="` + xmlsec.ExcC14N + `"/></ds:Transforms>` +
		`<ds:DigestMethod Algorithm="` + xmlsec.DigestSHA256 + `"/><ds:DigestValue/></ds:Reference>` +
		`</ds:SignedInfo><ds:SignatureValue/><ds:KeyInfo><ds:X509Data/></ds:KeyInfo></ds:Signature>`
}

// templateDoc returns response.xml with a signing template after the
// Issuer of the Assertion (or of the Response).
func templateDoc(t *testing.T, method string, onResponse bool) []byte {
	t.Helper()
	doc := parse(t, readFile(t, "response.xml"))
	target := assertion(doc.Root())
	if onResponse {
		target = doc.Root()
	}
	id, _ := xmlsec.AttrValue(target, "ID")
	tmpl := parse(t, []byte(sigTemplate(method, id))).Root()
	issuer := target.SelectElement("saml:Issuer")
	target.InsertChildAt(issuer.Index()+1, tmpl)
	return serialize(t, doc.Root())
}

// TestWeVerifyXmlsec1: documents signed by xmlsec1 --sign verify with our
// Verifier, and the verified copy yields the signed NameID.
func TestWeVerifyXmlsec1(t *testing.T) {
	p := pki.MustGet()
	cases := []struct {
		name       string
		id         *pki.Identity
		method     string
		onResponse bool
	}{
		{"ok/assertion-rsa-sha256", p.RSA, xmlsec.RSASHA256, false},
		{"ok/assertion-rsa-sha512", p.RSA, xmlsec.RSASHA512, false},
		{"ok/assertion-ecdsa-p256", p.P256, xmlsec.ECDSASHA256, false},
		{"ok/assertion-ecdsa-p384", p.P384, xmlsec.ECDSASHA384, false},
		{"ok/response-rsa-sha256", p.RSA, xmlsec.RSASHA256, true},
		{"ok/response-ecdsa-p256", p.P256, xmlsec.ECDSASHA256, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			signed := xmlsec1Sign(t, c.id, templateDoc(t, c.method, c.onResponse), c.onResponse)
			root := parse(t, signed).Root()
			target := assertion(root)
			if c.onResponse {
				target = root
			}
			got, err := verifierFor(c.id).Verify(target)
			if err != nil {
				t.Fatalf("%v\n%s", err, signed)
			}
			if c.onResponse {
				got = assertion(got)
			}
			if n := nameID(got); n != signedNameID {
				t.Fatalf("NameID %q, want %q", n, signedNameID)
			}
			_, err = verifierFor(p.ForeignRSA).Verify(target)
			wantErr(t, err, xmlsec.ErrUntrustedKey)
		})
	}
}

func xmlsec1Sign(t *testing.T, id *pki.Identity, tmpl []byte, onResponse bool) []byte {
	t.Helper()
	x := xmlsec1.New(t)
	certPath, keyPath, err := id.WriteFiles(x.Dir)
	if err != nil {
		t.Fatal(err)
	}
	idAttr := idAttrAssertion
	if onResponse {
		idAttr = idAttrResponse
	}
	in := x.File("tmpl.xml", tmpl)
	out, err := x.Run("--sign", "--privkey-pem", keyPath+","+certPath, "--id-attr:ID", idAttr, in)
	if err != nil {
		t.Fatalf("xmlsec1 --sign: %v", err)
	}
	if !strings.Contains(string(out), "<ds:DigestValue>") || bytes.Contains(out, []byte("<ds:DigestValue/>")) {
		t.Fatalf("xmlsec1 did not sign:\n%s", out)
	}
	return out
}
