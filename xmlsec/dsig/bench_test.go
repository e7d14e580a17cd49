package dsig

import (
	"crypto/x509"
	"testing"

	"github.com/beevik/etree"
	goxmldsig "github.com/russellhaering/goxmldsig"

	"github.com/renkei-idwsf/renkei/internal/testkit/benchkit"
	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// Benchmarks on a signed Assertion of 3-5 KB (testdata/response.xml's
// Assertion with its KeyInfo certificate), each next to the floor it is
// compared with, measured in the same run:
//   - BenchmarkVerify: parse + Verify, against parse + raw verification of
//     the SignedInfo's bytes (the parse and public-key operation no
//     XML-DSig implementation avoids), once with xmlsec.Parse and once
//     with etree's parser alone (the parse goxmldsig callers use), and
//     goxmldsig's Validate on the etree parse;
//   - BenchmarkSign: Sign, against a raw signature over the SignedInfo.
//
// The "vs" sub-benchmarks run subject and floor alternately in each
// iteration and report subject/floor as "x-floor": on a shared, loaded
// machine that ratio holds where separately timed siblings drift apart.

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

// verifyOps are the operations BenchmarkVerify times, for one key.
type verifyOps struct {
	floor, subject, etreeFloor, etreeSubject, goxmldsig func()
	size                                                int
}

func newVerifyOps(b *testing.B, id *pki.Identity) verifyOps {
	doc := signedAssertion(b, id)
	method, si, value := floorInput(b, doc)
	v := verifierFor(id)
	gox := goxmldsigFlavour(b, doc)
	ctx := goxmldsig.NewDefaultValidationContext(&goxmldsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{id.Cert}})
	raw := func() {
		if err := (xmlsec.Policy{}).VerifyBytes(id.Cert.PublicKey, method, si, value); err != nil {
			b.Fatal(err)
		}
	}
	return verifyOps{
		size:         len(doc),
		floor:        func() { parseStrict(b, doc); raw() },
		subject:      func() { verifyOrFail(b, v, parseStrict(b, doc)) },
		etreeFloor:   func() { parseEtree(b, doc); raw() },
		etreeSubject: func() { verifyOrFail(b, v, parseEtree(b, doc)) },
		goxmldsig: func() {
			if _, err := ctx.Validate(parseEtree(b, gox)); err != nil {
				b.Fatal(err)
			}
		},
	}
}

func BenchmarkVerify(b *testing.B) {
	p := pki.MustGet()
	for _, k := range benchKeys {
		o := newVerifyOps(b, k.id(p))
		run := func(name string, op func()) {
			b.Run(k.name+"/"+name, func(b *testing.B) { benchLoop(b, o.size, op) })
		}
		run("floor-parse+raw-verify", o.floor)
		run("xmldsig", o.subject)
		run("floor-etree-parse+raw-verify", o.etreeFloor)
		run("xmldsig-etree-parse", o.etreeSubject)
		run("goxmldsig-validate", o.goxmldsig)
		b.Run(k.name+"/vs/xmldsig", func(b *testing.B) { interleaved(b, o.floor, o.subject) })
		b.Run(k.name+"/vs/xmldsig-etree-parse", func(b *testing.B) { interleaved(b, o.etreeFloor, o.etreeSubject) })
		b.Run(k.name+"/vs/goxmldsig-validate", func(b *testing.B) { interleaved(b, o.etreeFloor, o.goxmldsig) })
	}
}

func BenchmarkSign(b *testing.B) {
	p := pki.MustGet()
	for _, k := range benchKeys {
		id := k.id(p)
		el := assertion(parse(b, readFile(b, "response.xml")).Root())
		method, si, _ := floorInput(b, signedAssertion(b, id))
		s := signerFor(id)
		floor := func() {
			if _, err := xmlsec.SignBytes(nil, id.Key, method, si); err != nil {
				b.Fatal(err)
			}
		}
		subject := func() {
			if _, err := s.Sign(el); err != nil {
				b.Fatal(err)
			}
		}
		b.Run(k.name+"/floor-raw-sign", func(b *testing.B) { benchLoop(b, 0, floor) })
		b.Run(k.name+"/xmldsig", func(b *testing.B) { benchLoop(b, 0, subject) })
		b.Run(k.name+"/vs/xmldsig", func(b *testing.B) { interleaved(b, floor, subject) })
	}
}

func benchLoop(b *testing.B, size int, op func()) {
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		op()
	}
}

// interleaved runs floor and subject in turn (benchkit.Interleave) and
// reports both times per operation and their ratio.
func interleaved(b *testing.B, floor, subject func()) {
	ts, tf := benchkit.Interleave(b, nil, subject, floor)
	benchkit.ReportRatio(b, ts, tf[0], "subject-ns/op", "floor-ns/op")
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
