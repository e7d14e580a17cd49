package dsig

import (
	"crypto/x509"
	"testing"

	"github.com/beevik/etree"
	goxmldsig "github.com/russellhaering/goxmldsig"

	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// Benchmarks on a signed Assertion of 3-5 KB (testdata/response.xml's
// Assertion with its KeyInfo certificate). Each compares with a floor
// measured in the same run and reports the ratio as the "x-floor" metric:
//   - BenchmarkVerify: parse + Verify, against parse + raw verification of
//     the SignedInfo's bytes (the parse and the public-key operation no
//     XML-DSig implementation can avoid), once with xmlsec.Parse and once
//     with etree's parser alone, the latter also for goxmldsig's Validate;
//   - BenchmarkSign: Sign, against a raw signature over bytes of the
//     SignedInfo's size.

type benchKey struct {
	name string
	id   func(*pki.Shared) *pki.Identity
}

var benchKeys = []benchKey{
	{"rsa2048", func(p *pki.Shared) *pki.Identity { return p.RSA }},
	{"p256", func(p *pki.Shared) *pki.Identity { return p.P256 }},
}

// signedAssertion returns a standalone signed Assertion as bytes.
func signedAssertion(b *testing.B, id *pki.Identity) []byte {
	doc := parse(b, readFile(b, "response.xml"))
	signed, err := signerFor(id).Sign(assertion(doc.Root()))
	if err != nil {
		b.Fatal(err)
	}
	return serialize(b, signed)
}

// floorInput is the canonical SignedInfo and SignatureValue of doc.
func floorInput(b *testing.B, doc []byte) (xmlsec.SignatureMethod, []byte, []byte) {
	root := parse(b, doc).Root()
	sig, err := xmlsec.ParseSignature(sigChild(root), xmlsec.ModeEnveloped, xmlsec.Policy{})
	if err != nil {
		b.Fatal(err)
	}
	si, err := xmlsec.C14N{}.Canonicalize(sigChild(root).SelectElement("ds:SignedInfo"))
	if err != nil {
		b.Fatal(err)
	}
	return sig.SignedInfo.Method, si, sig.Value
}

func BenchmarkVerify(b *testing.B) {
	p := pki.MustGet()
	for _, k := range benchKeys {
		id := k.id(p)
		doc := signedAssertion(b, id)
		method, si, value := floorInput(b, doc)
		v := verifierFor(id)
		rawVerify := func(b *testing.B) {
			if err := (xmlsec.Policy{}).VerifyBytes(id.Cert.PublicKey, method, si, value); err != nil {
				b.Fatal(err)
			}
		}
		// With xmlsec.Parse, the parser every Renkei role uses.
		var floor, etreeFloor float64
		b.Run(k.name+"/floor-parse+raw-verify", func(b *testing.B) {
			benchLoop(b, doc, func() { parseStrict(b, doc); rawVerify(b) })
			floor = perOp(b)
		})
		b.Run(k.name+"/xmldsig", func(b *testing.B) {
			benchLoop(b, doc, func() { verifyOrFail(b, v, parseStrict(b, doc)) })
			reportRatio(b, floor)
		})
		// With etree's parser alone, the parse goxmldsig callers use.
		b.Run(k.name+"/floor-etree-parse+raw-verify", func(b *testing.B) {
			benchLoop(b, doc, func() { parseEtree(b, doc); rawVerify(b) })
			etreeFloor = perOp(b)
		})
		b.Run(k.name+"/xmldsig-etree-parse", func(b *testing.B) {
			benchLoop(b, doc, func() { verifyOrFail(b, v, parseEtree(b, doc)) })
			reportRatio(b, etreeFloor)
		})
		b.Run(k.name+"/goxmldsig-validate", func(b *testing.B) {
			benchGoxmldsig(b, goxmldsigFlavour(b, doc), id.Cert, etreeFloor)
		})
	}
}

func benchLoop(b *testing.B, doc []byte, op func()) {
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		op()
	}
}

func parseStrict(b *testing.B, doc []byte) *etree.Element {
	root, err := xmlsec.ParseElement(doc, xmlsec.Limits{})
	if err != nil {
		b.Fatal(err)
	}
	return root
}

func parseEtree(b *testing.B, doc []byte) *etree.Element {
	d := etree.NewDocument()
	if err := d.ReadFromBytes(doc); err != nil {
		b.Fatal(err)
	}
	return d.Root()
}

func verifyOrFail(b *testing.B, v *Verifier, el *etree.Element) {
	if _, err := v.Verify(el); err != nil {
		b.Fatal(err)
	}
}

// benchGoxmldsig times etree parsing plus goxmldsig's Validate.
func benchGoxmldsig(b *testing.B, doc []byte, cert *x509.Certificate, floor float64) {
	ctx := goxmldsig.NewDefaultValidationContext(&goxmldsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{cert}})
	benchLoop(b, doc, func() {
		if _, err := ctx.Validate(parseEtree(b, doc)); err != nil {
			b.Fatal(err)
		}
	})
	reportRatio(b, floor)
}

func BenchmarkSign(b *testing.B) {
	p := pki.MustGet()
	for _, k := range benchKeys {
		id := k.id(p)
		el := assertion(parse(b, readFile(b, "response.xml")).Root())
		method, si, _ := floorInput(b, signedAssertion(b, id))
		s := signerFor(id)
		var floor float64
		b.Run(k.name+"/floor-raw-sign", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := xmlsec.SignBytes(nil, id.Key, method, si); err != nil {
					b.Fatal(err)
				}
			}
			floor = perOp(b)
		})
		b.Run(k.name+"/xmldsig", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Sign(el); err != nil {
					b.Fatal(err)
				}
			}
			reportRatio(b, floor)
		})
	}
}

func perOp(b *testing.B) float64 { return float64(b.Elapsed().Nanoseconds()) / float64(b.N) }

// reportRatio reports time per operation over the floor's, when the floor
// ran in this process (a -bench filter may have left it out).
func reportRatio(b *testing.B, floor float64) {
	if floor > 0 && b.N > 0 {
		b.ReportMetric(perOp(b)/floor, "x-floor")
	}
}
