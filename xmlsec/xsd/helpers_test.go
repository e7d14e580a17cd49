package xsd

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/internal/testkit/xmlsec1"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// mustDefault returns the shared compiled schema or stops the test.
func mustDefault(tb testing.TB) *Schema {
	tb.Helper()
	s, err := Default()
	if err != nil {
		tb.Fatalf("compiling the embedded schema set: %v", err)
	}
	return s
}

// readTestdata reads a file under testdata/.
func readTestdata(tb testing.TB, rel string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", filepath.FromSlash(rel)))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// httpBody returns the body of a recorded HTTP message: what follows the
// first empty line (CRLF or LF).
func httpBody(tb testing.TB, raw []byte) []byte {
	tb.Helper()
	for _, sep := range [][]byte{[]byte("\r\n\r\n"), []byte("\n\n")} {
		if i := bytes.Index(raw, sep); i >= 0 {
			return raw[i+len(sep):]
		}
	}
	tb.Fatalf("no header/body separator in %.40q", raw)
	return nil
}

// messages returns the libxml2 message texts of a validation error, or
// stops the test if err is not an ErrSchema wrapping a *ValidationError.
func messages(tb testing.TB, err error) []string {
	tb.Helper()
	var ve *ValidationError
	if !errors.Is(err, xmlsec.ErrSchema) || !errors.As(err, &ve) {
		tb.Fatalf("error = %v, want xmlsec.ErrSchema with a *ValidationError", err)
	}
	out := make([]string, len(ve.Messages))
	for i, m := range ve.Messages {
		out[i] = m.Text
	}
	return out
}

// responseTemplate is a SAML Response as Renkei's IdP sends it, with an
// enveloped-signature template in the assertion for xmlsec1 to fill in.
const responseTemplate = `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r6c1e0e1b8a7f4c2d9e3b5a7c9d1f3e5a" Version="2.0" IssueInstant="2026-11-25T08:00:00Z" Destination="https://portal.renkei.test/saml/acs" InResponseTo="_q1b2c3d4e5f60718293a4b5c6d7e8f9a0">` +
	`<saml:Issuer>https://idp.renkei.test/saml</saml:Issuer>` +
	`<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>` +
	`<saml:Assertion ID="_a5f0c3e2d1b4a6978e5d4c3b2a1f0e9d8" Version="2.0" IssueInstant="2026-11-25T08:00:00Z">` +
	`<saml:Issuer>https://idp.renkei.test/saml</saml:Issuer>` +
	`<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo>` +
	`<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>` +
	`<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>` +
	`<ds:Reference URI="#_a5f0c3e2d1b4a6978e5d4c3b2a1f0e9d8"><ds:Transforms>` +
	`<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>` +
	`<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms>` +
	`<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue></ds:DigestValue></ds:Reference>` +
	`</ds:SignedInfo><ds:SignatureValue></ds:SignatureValue>` +
	`<ds:KeyInfo><ds:X509Data><ds:X509Certificate></ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature>` +
	`<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent" NameQualifier="https://idp.renkei.test/saml" SPNameQualifier="https://portal.renkei.test/saml">p7Hc2mQ9xW4kLr8sVt1nYb6zAe3u</saml:NameID>` +
	`<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData NotOnOrAfter="2026-11-25T08:05:00Z" Recipient="https://portal.renkei.test/saml/acs" InResponseTo="_q1b2c3d4e5f60718293a4b5c6d7e8f9a0"/></saml:SubjectConfirmation></saml:Subject>` +
	`<saml:Conditions NotBefore="2026-11-25T07:59:30Z" NotOnOrAfter="2026-11-25T08:05:00Z"><saml:AudienceRestriction><saml:Audience>https://portal.renkei.test/saml</saml:Audience></saml:AudienceRestriction></saml:Conditions>` +
	`<saml:AuthnStatement AuthnInstant="2026-11-25T07:59:58Z" SessionIndex="_s3f2e1d0c9b8a7"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:SmartcardPKI</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>` +
	`<saml:AttributeStatement><saml:Attribute Name="urn:oid:2.5.4.3" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri" FriendlyName="cn"><saml:AttributeValue>山田 太郎</saml:AttributeValue></saml:Attribute></saml:AttributeStatement>` +
	`</saml:Assertion></samlp:Response>`

// signedResponse has xmlsec1 sign responseTemplate's assertion with the
// test PKI's RSA key: a 3-5 KB signed Response made by an independent
// signer.
func signedResponse(tb testing.TB) []byte {
	tb.Helper()
	x := xmlsec1.New(tb)
	id := pki.MustGet().RSA
	key := x.File("rsa.key", id.KeyPEM())
	crt := x.File("rsa.crt", id.CertPEM())
	tmpl := x.File("response.xml", []byte(responseTemplate))
	out, err := x.Run("--sign", "--privkey-pem", key+","+crt,
		"--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:assertion:Assertion", tmpl)
	if err != nil {
		tb.Fatal(err)
	}
	if !bytes.Contains(out, []byte("<ds:X509Certificate>MII")) {
		tb.Fatalf("xmlsec1 output carries no certificate:\n%s", out)
	}
	return out
}

// moveSignatureAfterSubject returns doc with the assertion's ds:Signature
// moved behind saml:Subject, which the schema forbids (SAML core 2.3.3:
// Issuer, Signature?, Subject?, ...).
func moveSignatureAfterSubject(tb testing.TB, doc []byte) []byte {
	tb.Helper()
	s := string(doc)
	i, j := strings.Index(s, "<ds:Signature"), strings.Index(s, "</ds:Signature>")
	k := strings.Index(s, "</saml:Subject>")
	if i < 0 || j < i || k < j {
		tb.Fatalf("no Signature before Subject in %.200q", s)
	}
	j += len("</ds:Signature>")
	k += len("</saml:Subject>")
	return []byte(s[:i] + s[j:k] + s[i:j] + s[k:])
}
