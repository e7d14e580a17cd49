package wss

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/internal/testkit/xmlsec1"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// idAttrArgs returns the xmlsec1 --id-attr options registering the Id
// attribute (xmlsec1 matches the local name, so wsu:Id too) of every
// element type of root that carries a resolvable ID.
func idAttrArgs(root *etree.Element) []string {
	var args []string
	for _, els := range indexIDs(root, false) {
		for _, el := range els {
			for _, a := range el.Attr {
				if idRank(&a, false) == 0 {
					continue
				}
				arg := "--id-attr:" + a.Key + "\x00" + el.NamespaceURI() + ":" + el.Tag
				if !slices.Contains(args, arg) {
					args = append(args, arg)
				}
			}
		}
	}
	slices.Sort(args)
	var out []string
	for _, a := range args {
		opt, node, _ := strings.Cut(a, "\x00")
		out = append(out, opt, node)
	}
	return out
}

// xmlsec1Verify runs xmlsec1 --verify on doc with the signer's certificate
// as the only key.
func xmlsec1Verify(t *testing.T, x *xmlsec1.Tool, doc []byte, id *pki.Identity, name string) error {
	t.Helper()
	args := append([]string{"--verify"}, idAttrArgs(parse(t, doc))...)
	args = append(args, "--pubkey-cert-pem", x.File("cert.pem", id.CertPEM()), x.File(name, doc))
	out, err := x.Run(args...)
	if err != nil {
		return fmt.Errorf("%w\n%s", err, out)
	}
	return nil
}

// TestXmlsec1VerifiesOurs: xmlsec1 (libxml2 + OpenSSL) accepts our
// multi-reference signatures with every signed element type's Id
// registered, and refuses them once the Body is changed.
func TestXmlsec1VerifiesOurs(t *testing.T) {
	p := pki.MustGet()
	cases := []struct {
		name string
		id   *pki.Identity
		ref  KeyRef
	}{
		{"ok/rsa-saml-token", p.RSA, SAMLTokenRef(tokenID)},
		{"ok/p256-saml-token", p.P256, SAMLTokenRef(tokenID)},
		{"ok/p384-binary-token", p.P384, BinaryTokenRef(p.P384.Cert)},
		{"ok/rsa-x509data", p.RSA, X509DataRef(p.RSA.Cert)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			x := xmlsec1.New(t)
			doc := signedRequest(t, &Signer{Key: c.id.Key, KeyRef: c.ref})
			if n := bytes.Count(doc, []byte("<ds:Reference ")); n < len(requiredIDs) {
				t.Fatalf("only %d References", n)
			}
			if err := xmlsec1Verify(t, x, doc, c.id, "signed.xml"); err != nil {
				t.Fatalf("xmlsec1 refused our signature: %v", err)
			}
			bad := bytes.Replace(doc, []byte(">/pp:PP/pp:CommonName<"), []byte(">/pp:PP/pp:Address<"), 1)
			if bytes.Equal(bad, doc) {
				t.Fatal("tampering changed nothing")
			}
			if err := xmlsec1Verify(t, x, bad, c.id, "tampered.xml"); err == nil {
				t.Fatal("xmlsec1 accepted a tampered Body: the oracle proves nothing")
			}
		})
	}
}

// wssTemplate is an xmlsec1 signing template with one Reference per ID,
// each with the given transforms, and an empty X509Data for xmlsec1 to
// fill.
func wssTemplate(method string, ids []string, transforms ...string) *etree.Element {
	var b strings.Builder
	b.WriteString(`<ds:Signature xmlns:ds="` + xmlsec.NSDSig + `"><ds:SignedInfo>`)
	b.WriteString(`<ds:CanonicalizationMethod Algorithm="` + xmlsec.ExcC14N + `"/>`)
	b.WriteString(`<ds:SignatureMethod Algorithm="` + method + `"/>`)
	for _, id := range ids {
		b.WriteString(`<ds:Reference URI="#` + id + `"><ds:Transforms>`)
		for _, tr := range transforms {
			b.WriteString(`<ds:Transform Algorithm="` + tr + `"/>`)
		}
		b.WriteString(`</ds:Transforms><ds:DigestMethod Algorithm="` + xmlsec.DigestSHA256 + `"/><ds:DigestValue/></ds:Reference>`)
	}
	b.WriteString(`</ds:SignedInfo><ds:SignatureValue/><ds:KeyInfo><ds:X509Data/></ds:KeyInfo></ds:Signature>`)
	doc := etree.NewDocument()
	if err := doc.ReadFromString(b.String()); err != nil {
		panic(err)
	}
	return doc.Root()
}

// xmlsec1Sign has xmlsec1 sign testdata/request.xml through a template
// whose References name ids, with the given transforms.
func xmlsec1Sign(t *testing.T, id *pki.Identity, method string, ids []string, transforms ...string) []byte {
	t.Helper()
	env := request(t)
	security(t, env).AddChild(wssTemplate(method, ids, transforms...))
	tmpl := serialize(t, env)
	x := xmlsec1.New(t)
	cert, key, err := id.WriteFiles(x.Dir)
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"--sign"}, idAttrArgs(env)...)
	args = append(args, "--privkey-pem", key+","+cert, "--output", "signed.xml", x.File("tmpl.xml", tmpl))
	if out, err := x.Run(args...); err != nil {
		t.Fatalf("xmlsec1 could not sign: %v\n%s", err, out)
	}
	return readAbs(t, x, "signed.xml")
}

// TestXmlsec1SignsOursVerifies: xmlsec1's signature of a template with a
// Reference to every required part verifies with our Verifier, covers
// everything, and its verified Body is the one xmlsec1 signed.
func TestXmlsec1SignsOursVerifies(t *testing.T) {
	p := pki.MustGet()
	cases := []struct {
		name   string
		id     *pki.Identity
		method string
	}{
		{"ok/rsa-sha256", p.RSA, xmlsec.RSASHA256},
		{"ok/ecdsa-p256-sha256", p.P256, xmlsec.ECDSASHA256},
		{"ok/ecdsa-p384-sha384", p.P384, xmlsec.ECDSASHA384},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := parse(t, xmlsec1Sign(t, c.id, c.method, requiredIDs, xmlsec.ExcC14N))
			v, err := verifierFor(c.id).Verify(env)
			if err != nil {
				t.Fatal(err)
			}
			if err := CheckCoverage(env, v); err != nil {
				t.Fatal(err)
			}
			if v.KeyRef.Kind != KeyRefX509Data || !v.KeyRef.Certificate.Equal(c.id.Cert) {
				t.Fatalf("KeyRef %+v", v.KeyRef)
			}
			if got := v.Body().FindElement("./Query/QueryItem/Select").Text(); got != "/pp:PP/pp:CommonName" {
				t.Fatalf("verified Select %q", got)
			}
			_, err = verifierFor(othersThan(c.id)...).Verify(env)
			wantErr(t, err, xmlsec.ErrUntrustedKey)
		})
	}
}

// TestXmlsec1EnvelopedTransform: xmlsec1 signs ZXID's transform pair
// (enveloped-signature, exc-c14n) validly; a strict verifier refuses it
// with ErrTransform, the DetachedEnveloped quirk accepts it.
func TestXmlsec1EnvelopedTransform(t *testing.T) {
	p := pki.MustGet()
	env := parse(t, xmlsec1Sign(t, p.RSA, xmlsec.RSASHA256, requiredIDs, xmlsec.EnvelopedSignature, xmlsec.ExcC14N))
	v := verifierFor(p.RSA)
	_, err := v.Verify(env)
	wantErr(t, err, xmlsec.ErrTransform)
	v.Policy.DetachedEnveloped = true
	got, err := v.Verify(env)
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckCoverage(env, got); err != nil {
		t.Fatal(err)
	}
}
