package wss

import (
	"crypto/x509"
	"errors"
	"path/filepath"
	"testing"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// FuzzVerify feeds arbitrary documents to a strict verifier and to one
// with the ZXID profile, seeded with our signed requests (each key
// reference form), a wrapped one, and the ZXID captures. Verify must
// never panic, must fail only with an *xmlsec.Error, and when it succeeds
// every verified copy must digest to its Reference's DigestValue on its
// own: the copy holds exactly what was signed.
func FuzzVerify(f *testing.F) {
	p := pki.MustGet()
	for _, s := range []*Signer{
		samlSigner(p.RSA),
		{Key: p.P256.Key, KeyRef: BinaryTokenRef(p.P256.Cert)},
		{Key: p.RSA.Key, KeyRef: X509DataRef(p.RSA.Cert), SignatureMethod: xmlsec.RSASHA1, Policy: xmlsec.Policy{AllowSHA1: true}},
	} {
		f.Add(signedRequest(f, s))
	}
	f.Add(wrappedBody(f, signedRequest(f, samlSigner(p.RSA))))
	for _, name := range []string{"zxid-14-req.xml", "zxid-14-resp.xml"} {
		f.Add(readFile(f, filepath.Join("zxid", name)))
	}
	trust := xmlsec.NewTrustSet([]*x509.Certificate{p.RSA.Cert, p.P256.Cert, wspSigningCert(f)})
	verifiers := []*Verifier{{Trust: trust}, zxidVerifier(trust)}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 1<<16 {
			return
		}
		doc := etree.NewDocument()
		if doc.ReadFromBytes(b) != nil || doc.Root() == nil {
			return
		}
		for _, v := range verifiers {
			checkVerify(t, v, doc.Root())
		}
	})
}

func checkVerify(t *testing.T, v *Verifier, env *etree.Element) {
	res, err := v.Verify(env)
	if err != nil {
		var xe *xmlsec.Error
		if !errors.As(err, &xe) {
			t.Fatalf("%T is not an *xmlsec.Error: %v", err, err)
		}
		return
	}
	sig, err := xmlsec.ParseSignature(signatureOf(t, env), xmlsec.ModeWSSecurity, v.Policy)
	if err != nil {
		t.Fatalf("verified, but the signature does not parse again: %v", err)
	}
	for i, part := range res.Parts {
		if err := sig.SignedInfo.References[i].Verify(part.Element, nil); err != nil {
			t.Fatalf("verified copy of %v does not digest as signed: %v", part.Part, err)
		}
	}
	if _, err := Unsigned(env, res); err != nil {
		t.Fatalf("Unsigned on a verified envelope: %v", err)
	}
}

// wrappedBody moves the signed Body of a message into a header and puts
// an unsigned one in its place.
func wrappedBody(t testing.TB, b []byte) []byte {
	env := parse(t, b)
	wrapInHeader(env, byID(t, env, "BDY"))
	env.CreateElement("S:Body").CreateElement("dstref:Delete")
	return serialize(t, env)
}
