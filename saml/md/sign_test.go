package md

import (
	"bytes"
	"crypto/x509"
	"strings"
	"testing"

	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/internal/testkit/xmlsec1"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
	"github.com/renkei-idwsf/renkei/xmlsec/wire"
)

const (
	idAttrEntities = "urn:oasis:names:tc:SAML:2.0:metadata:EntitiesDescriptor"
	idAttrEntity   = "urn:oasis:names:tc:SAML:2.0:metadata:EntityDescriptor"
)

func signer(id *pki.Identity) *dsig.Signer {
	return &dsig.Signer{Key: id.Key, Certificates: []*x509.Certificate{id.Cert}}
}

func verifier(ids ...*pki.Identity) *dsig.Verifier {
	var certs []*x509.Certificate
	for _, id := range ids {
		certs = append(certs, id.Cert)
	}
	return &dsig.Verifier{Trust: xmlsec.NewTrustSet(certs)}
}

// signedAggregate returns the sample aggregate signed by id, serialized.
func signedAggregate(t testing.TB, id *pki.Identity) []byte {
	t.Helper()
	el, err := Sign(sampleAggregate(t), signer(id))
	if err != nil {
		t.Fatal(err)
	}
	return serialize(t, el)
}

// TestSignVerify: a signed aggregate and a signed entity carry the
// Signature as their first child, are schema-valid, and verify to what
// was signed; every way of breaking them is refused with its kind.
func TestSignVerify(t *testing.T) {
	p := pki.MustGet()
	agg := signedAggregate(t, p.RSA)
	validate(t, agg)
	root := parse(t, agg)
	if first := root.ChildElements()[0]; !wire.Is(first, NSDSig, "Signature") {
		t.Fatalf("first child is %s, want ds:Signature (SAML Metadata §3.1)", wire.Name(first))
	}
	doc, signed, err := Verify(root, verifier(p.RSA))
	if err != nil {
		t.Fatalf("ok/aggregate: %v", err)
	}
	if signed == nil || doc.Group == nil || len(doc.Group.Entities) != 2 || doc.Group.Entities[0].EntityID != "https://idp.renkei.test/metadata" {
		t.Fatalf("decoded %+v", doc)
	}
	ent, err := Sign(sampleSP(t), signer(p.P256))
	if err != nil {
		t.Fatal(err)
	}
	validate(t, serialize(t, ent))
	if d, _, err := Verify(parse(t, serialize(t, ent)), verifier(p.P256)); err != nil || d.Entity == nil {
		t.Fatalf("ok/entity-p256: %v", err)
	}

	unsigned := serialize(t, sampleAggregate(t).Element())
	noID := sampleAggregate(t)
	noID.ID = ""
	if _, err := Sign(noID, signer(p.RSA)); !isKind(err, KindInvalid) {
		t.Fatalf("fail/no-id: %v", err)
	}
	tampered := bytes.Replace(agg, []byte("https://portal.renkei.test/saml/acs\""), []byte("https://evil.example/acs\""), 1)
	if bytes.Equal(tampered, agg) {
		t.Fatal("tampering changed nothing")
	}
	cases := []struct {
		name string
		doc  []byte
		v    *dsig.Verifier
		want error
	}{
		{"fail/tampered-location", tampered, verifier(p.RSA), xmlsec.ErrDigest},
		{"fail/untrusted-key", agg, verifier(p.ForeignRSA), xmlsec.ErrUntrustedKey},
		{"fail/unsigned", unsigned, verifier(p.RSA), xmlsec.ErrNoSignature},
		{"fail/not-metadata", []byte(`<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_a"/>`), verifier(p.RSA), xmlsec.ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := Verify(parse(t, c.doc), c.v)
			wantErr(t, err, c.want)
		})
	}
}

func isKind(err error, k Kind) bool {
	e, ok := err.(*Error)
	return ok && e.Kind == k
}

// TestXmlsec1VerifiesOurs: xmlsec1 accepts our signed aggregate and entity
// and refuses a tampered copy.
func TestXmlsec1VerifiesOurs(t *testing.T) {
	p := pki.MustGet()
	x := xmlsec1.New(t)
	ca := x.File("ca.pem", p.CA.CertPEM())
	agg := signedAggregate(t, p.RSA)
	if out, err := x.Run("--verify", "--id-attr:ID", idAttrEntities, "--trusted-pem", ca, x.File("agg.xml", agg)); err != nil {
		t.Fatalf("xmlsec1 refused our aggregate: %v\n%s", err, out)
	}
	bad := bytes.Replace(agg, []byte("https://idp.renkei.test/saml/sso\""), []byte("https://evil.example/sso\""), 1)
	if _, err := x.Run("--verify", "--id-attr:ID", idAttrEntities, "--trusted-pem", ca, x.File("bad.xml", bad)); err == nil {
		t.Fatal("xmlsec1 accepted a tampered aggregate: the oracle proves nothing")
	}
	ent, err := Sign(sampleIDP(t), signer(p.P256))
	if err != nil {
		t.Fatal(err)
	}
	if out, err := x.Run("--verify", "--id-attr:ID", idAttrEntity, "--trusted-pem", ca, x.File("idp.xml", serialize(t, ent))); err != nil {
		t.Fatalf("xmlsec1 refused our entity: %v\n%s", err, out)
	}
}

// TestWeVerifyXmlsec1: an aggregate signed by xmlsec1 --sign verifies with
// Verify, and with a foreign key it does not.
func TestWeVerifyXmlsec1(t *testing.T) {
	p := pki.MustGet()
	for _, c := range []struct {
		name   string
		id     *pki.Identity
		method string
	}{
		{"ok/rsa-sha256", p.RSA, xmlsec.RSASHA256},
		{"ok/ecdsa-p384", p.P384, xmlsec.ECDSASHA384},
	} {
		t.Run(c.name, func(t *testing.T) {
			x := xmlsec1.New(t)
			certPath, keyPath, err := c.id.WriteFiles(x.Dir)
			if err != nil {
				t.Fatal(err)
			}
			el := sampleAggregate(t).Element()
			el.InsertChildAt(0, parse(t, []byte(sigTemplate(c.method, "_agg"))))
			out, err := x.Run("--sign", "--privkey-pem", keyPath+","+certPath, "--id-attr:ID", idAttrEntities, x.File("tmpl.xml", serialize(t, el)))
			if err != nil || !strings.Contains(string(out), "SignatureValue>") {
				t.Fatalf("xmlsec1 --sign: %v", err)
			}
			doc, _, err := Verify(parse(t, out), verifier(c.id))
			if err != nil || len(doc.Group.Entities) != 2 {
				t.Fatalf("ok: %v", err)
			}
			_, _, err = Verify(parse(t, out), verifier(p.ForeignRSA))
			wantErr(t, err, xmlsec.ErrUntrustedKey)
		})
	}
}

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
