package dsig

import (
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"testing"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// signedNameID is the NameID text of testdata/response.xml.
const signedNameID = "citizen-7f3e9a1b@idp.example.org"

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func parse(t testing.TB, b []byte) *etree.Document {
	t.Helper()
	doc, err := xmlsec.Parse(b, xmlsec.Limits{})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return doc
}

func serialize(t testing.TB, el *etree.Element) []byte {
	t.Helper()
	doc := etree.NewDocument()
	doc.SetRoot(el)
	b, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func signerFor(id *pki.Identity) *Signer {
	return &Signer{Key: id.Key, Certificates: []*x509.Certificate{id.Cert}}
}

func verifierFor(ids ...*pki.Identity) *Verifier {
	var certs []*x509.Certificate
	for _, id := range ids {
		certs = append(certs, id.Cert)
	}
	return &Verifier{Trust: xmlsec.NewTrustSet(certs)}
}

// assertion returns the first saml:Assertion child of a Response.
func assertion(resp *etree.Element) *etree.Element {
	for _, c := range resp.ChildElements() {
		if c.Tag == "Assertion" && c.NamespaceURI() == nsAssertion {
			return c
		}
	}
	return nil
}

// signedAssertionResponse returns testdata/response.xml with its Assertion
// signed by id, serialized and parsed again as a receiver sees it.
func signedAssertionResponse(t testing.TB, id *pki.Identity) []byte {
	t.Helper()
	doc := parse(t, readFile(t, "response.xml"))
	a := assertion(doc.Root())
	signed, err := signerFor(id).Sign(a)
	if err != nil {
		t.Fatal(err)
	}
	doc.Root().InsertChildAt(a.Index(), signed)
	doc.Root().RemoveChild(a)
	return serialize(t, doc.Root())
}

// signedResponse returns testdata/response.xml with the Response itself
// signed by id.
func signedResponse(t testing.TB, id *pki.Identity) []byte {
	t.Helper()
	doc := parse(t, readFile(t, "response.xml"))
	signed, err := signerFor(id).Sign(doc.Root())
	if err != nil {
		t.Fatal(err)
	}
	return serialize(t, signed)
}

// nameID reads the NameID text of a verified Assertion.
func nameID(a *etree.Element) string {
	if a == nil {
		return ""
	}
	n := a.FindElement("./Subject/NameID")
	if n == nil {
		return ""
	}
	return n.Text()
}

func wantErr(t *testing.T, err, want error) {
	t.Helper()
	if err == nil || !errors.Is(err, want) {
		t.Fatalf("got %v, want %v", err, want)
	}
	var xe *xmlsec.Error
	if !errors.As(err, &xe) {
		t.Fatalf("%v is not an *xmlsec.Error", err)
	}
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

// signedBoth returns response.xml with the Assertion signed, then the
// Response signed over it.
func signedBoth(t testing.TB, id *pki.Identity) []byte {
	t.Helper()
	doc := parse(t, signedAssertionResponse(t, id))
	signed, err := signerFor(id).Sign(doc.Root())
	if err != nil {
		t.Fatal(err)
	}
	return serialize(t, signed)
}

func readFileAbs(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func rsaKeyValue(t testing.TB, kv *etree.Element) *rsa.PublicKey {
	t.Helper()
	n, err1 := xmlsec.DecodeBase64(kv.SelectElement("Modulus").Text())
	e, err2 := xmlsec.DecodeBase64(kv.SelectElement("Exponent").Text())
	if err1 != nil || err2 != nil {
		t.Fatalf("RSAKeyValue: %v %v", err1, err2)
	}
	return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
}

func asXmlsecError(err error, target **xmlsec.Error) bool { return errors.As(err, target) }
