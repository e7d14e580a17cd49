package dsig

import (
	"crypto"
	"crypto/x509"
	"path/filepath"
	"testing"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// FuzzVerify feeds arbitrary bytes through Parse and Verify (on the root
// and on its first Assertion), with a strict verifier and with the ZXID
// quirk profile trusting Lasso's captured key as well. Seeds are real
// signed messages: ours (RSA, P-256, Response and Assertion), Lasso's and
// ZXID's. Beyond not panicking, a success must return a copy holding no
// comment, processing instruction or Signature, whose canonical form
// digests to the DigestValue that was checked.
func FuzzVerify(f *testing.F) {
	p := pki.MustGet()
	f.Add(signedAssertionResponse(f, p.RSA))
	f.Add(signedResponse(f, p.P256))
	f.Add(signedBoth(f, p.RSA))
	for _, pat := range []string{"lasso/lasso-0*.xml", "zxid/a7n-2L9*.xml"} {
		for _, file := range interopFiles(f, pat) {
			f.Add(readFileAbs(f, file))
		}
	}
	strict := verifierFor(p.RSA, p.P256)
	quirky := &Verifier{Trust: lassoTrust(f, p), Policy: zxidProfile}
	f.Fuzz(func(t *testing.T, b []byte) {
		root, err := xmlsec.ParseElement(b, xmlsec.Limits{MaxBytes: 64 << 10})
		if err != nil {
			return
		}
		for _, el := range []*etree.Element{root, assertion(root)} {
			if el == nil {
				continue
			}
			for _, v := range []*Verifier{strict, quirky} {
				checkVerified(t, v, el)
			}
		}
	})
}

// checkVerified runs Verify and, on success, checks the invariants of the
// verified copy; every failure must be an *xmlsec.Error.
func checkVerified(t *testing.T, v *Verifier, el *etree.Element) {
	got, err := v.Verify(el)
	if err != nil {
		var xe *xmlsec.Error
		if !asXmlsecError(err, &xe) {
			t.Fatalf("untyped error %T: %v", err, err)
		}
		return
	}
	sig, err := xmlsec.ParseSignature(sigChild(el), xmlsec.ModeEnveloped, v.Policy)
	if err != nil {
		t.Fatalf("verified, but the signature does not parse again: %v", err)
	}
	if sigChild(got) != nil || hasCommentOrPI(got) {
		t.Fatal("verified copy holds a Signature, comment or PI")
	}
	if !hasCommentOrPI(el) {
		ref := sig.SignedInfo.References[0]
		if err := ref.Verify(got, nil); err != nil {
			t.Fatalf("the verified copy is not what was digested: %v", err)
		}
	}
}

func hasCommentOrPI(el *etree.Element) bool {
	for _, tok := range el.Child {
		switch c := tok.(type) {
		case *etree.Comment, *etree.ProcInst:
			return true
		case *etree.Element:
			if hasCommentOrPI(c) {
				return true
			}
		}
	}
	return false
}

// lassoTrust trusts the test PKI and the key Lasso's captured assertions
// are signed with.
func lassoTrust(f *testing.F, p *pki.Shared) *xmlsec.TrustSet {
	b := readFileAbs(f, filepath.Join("..", "testdata", "interop", "lasso", "lasso-00-bootstrap-epr.xml"))
	d := etree.NewDocument()
	if err := d.ReadFromBytes(b); err != nil {
		f.Fatal(err)
	}
	kv := d.FindElement("//RSAKeyValue")
	if kv == nil {
		f.Fatal("no RSAKeyValue in the Lasso capture")
	}
	return xmlsec.NewTrustSet([]*x509.Certificate{p.RSA.Cert, p.P256.Cert}, crypto.PublicKey(rsaKeyValue(f, kv)))
}
