package dsig

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/base64"
	"testing"

	"github.com/beevik/etree"
	goxmldsig "github.com/russellhaering/goxmldsig"

	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// goxmldsigFlavour rewrites an ECDSA SignatureValue from XML-DSig's r||s
// to the ASN.1 form goxmldsig reads; RSA documents are returned as they
// are.
func goxmldsigFlavour(t testing.TB, doc []byte) []byte {
	t.Helper()
	root := parse(t, doc).Root()
	sv := sigChild(root).SelectElement("ds:SignatureValue")
	if !bytes.Contains(doc, []byte("ecdsa-")) {
		return doc
	}
	raw, err := xmlsec.DecodeBase64(sv.Text())
	if err != nil {
		t.Fatal(err)
	}
	der, err := xmlsec.ECDSARawToDER(raw)
	if err != nil {
		t.Fatal(err)
	}
	sv.SetText(base64.StdEncoding.EncodeToString(der))
	return serialize(t, root)
}

// TestGoxmldsigInterop: goxmldsig (github.com/russellhaering/goxmldsig,
// used by most Go SAML libraries) validates our signatures, ECDSA after
// conversion to its ASN.1 form; we verify its RSA signatures, refuse its
// ECDSA ones as they are (ASN.1 is not XML-DSig's r||s) and verify them
// once converted.
func TestGoxmldsigInterop(t *testing.T) {
	p := pki.MustGet()
	for _, id := range []*pki.Identity{p.RSA, p.P256} {
		t.Run("ok/goxmldsig-validates-ours-"+id.Name, func(t *testing.T) {
			doc := goxmldsigFlavour(t, signedAssertionStandalone(t, id))
			ctx := goxmldsig.NewDefaultValidationContext(&goxmldsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{id.Cert}})
			d := etree.NewDocument()
			if err := d.ReadFromBytes(doc); err != nil {
				t.Fatal(err)
			}
			if _, err := ctx.Validate(d.Root()); err != nil {
				t.Fatal(err)
			}
		})
		t.Run("ok/we-verify-goxmldsig-"+id.Name, func(t *testing.T) {
			doc := goxmldsigSign(t, id)
			_, err := verifierFor(id).Verify(parse(t, doc).Root())
			if _, isEC := id.Key.Public().(*ecdsa.PublicKey); !isEC {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantErr(t, err, xmlsec.ErrSignature)
			got, err := verifierFor(id).Verify(parse(t, rawFlavour(t, doc, 32)).Root())
			if err != nil {
				t.Fatal(err)
			}
			if n := nameID(got); n != signedNameID {
				t.Fatalf("NameID %q", n)
			}
		})
	}
}

func signedAssertionStandalone(t testing.TB, id *pki.Identity) []byte {
	t.Helper()
	doc := parse(t, readFile(t, "response.xml"))
	signed, err := signerFor(id).Sign(assertion(doc.Root()))
	if err != nil {
		t.Fatal(err)
	}
	return serialize(t, signed)
}

// goxmldsigSign signs the standalone Assertion with goxmldsig's
// SignEnveloped (exc-c14n, SHA-256). No PrefixList: goxmldsig
// canonicalizes with one but does not write the InclusiveNamespaces
// element, so neither xmlsec1 nor we could verify the result.
func goxmldsigSign(t *testing.T, id *pki.Identity) []byte {
	t.Helper()
	el := xmlsec.DetachCopy(assertion(parse(t, readFile(t, "response.xml")).Root()))
	ctx, err := goxmldsig.NewSigningContext(id.Key, [][]byte{id.Cert.Raw})
	if err != nil {
		t.Fatal(err)
	}
	ctx.Canonicalizer = goxmldsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	method := goxmldsig.RSASHA256SignatureMethod
	if _, isEC := id.Key.Public().(*ecdsa.PublicKey); isEC {
		method = goxmldsig.ECDSASHA256SignatureMethod
	}
	if err := ctx.SetSignatureMethod(method); err != nil {
		t.Fatal(err)
	}
	signed, err := ctx.SignEnveloped(el)
	if err != nil {
		t.Fatal(err)
	}
	return serialize(t, signed)
}

// rawFlavour rewrites an ASN.1 ECDSA SignatureValue to r||s.
func rawFlavour(t *testing.T, doc []byte, size int) []byte {
	t.Helper()
	root := parse(t, doc).Root()
	sv := sigChild(root).SelectElement("ds:SignatureValue")
	der, err := xmlsec.DecodeBase64(sv.Text())
	if err != nil {
		t.Fatal(err)
	}
	raw, err := xmlsec.ECDSADERToRaw(der, size)
	if err != nil {
		t.Fatal(err)
	}
	sv.SetText(base64.StdEncoding.EncodeToString(raw))
	return serialize(t, root)
}
