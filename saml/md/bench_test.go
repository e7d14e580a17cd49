package md

import (
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/wire"
	"github.com/renkei-idwsf/renkei/xmlsec/xsd"
)

// mdSchema is the schema set a role gives Config.Schema.
func mdSchema(t testing.TB) *xsd.Schema {
	t.Helper()
	s, err := xsd.Default()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// BenchmarkVerifyAggregate times what a role does on each refresh of an
// aggregate of n entities (parse, verify the operator's signature, decode)
// against a floor measured in the same iterations: parse, exclusive c14n of
// the whole document, SHA-256 of it and one RSA verification of the
// SignedInfo, which no verifier avoids. It reports subject/floor as
// "x-floor".
func BenchmarkVerifyAggregate(b *testing.B) {
	p := pki.MustGet()
	for _, n := range []int{10, 200} {
		b.Run(fmt.Sprintf("entities=%d", n), func(b *testing.B) {
			g := &EntitiesDescriptor{ID: "_agg", ValidUntil: t0.Add(time.Hour)}
			for i := range n {
				e := sampleSP(b)
				e.EntityID, e.ID = fmt.Sprintf("https://sp%d.renkei.test/", i), ""
				g.Entities = append(g.Entities, e)
			}
			el, err := Sign(g, signer(p.RSA))
			if err != nil {
				b.Fatal(err)
			}
			doc := serialize(b, el)
			lim := xmlsec.Limits{MaxBytes: DefaultMaxBytes, MaxDepth: DefaultMaxDepth, MaxElements: DefaultMaxBytes / 8}
			v := verifier(p.RSA)
			floor := func() {
				root, err := xmlsec.ParseElement(doc, lim)
				if err != nil {
					b.Fatal(err)
				}
				sigEl, _ := wire.Required(root, NSDSig, "Signature")
				sig, err := xmlsec.ParseSignature(sigEl, xmlsec.ModeEnveloped, xmlsec.Policy{})
				if err != nil {
					b.Fatal(err)
				}
				all, err := xmlsec.C14N{Omit: sigEl}.Canonicalize(root)
				if err != nil {
					b.Fatal(err)
				}
				_ = sha256.Sum256(all)
				si, _ := xmlsec.C14N{}.Canonicalize(sigEl.ChildElements()[0])
				if err := (xmlsec.Policy{}).VerifyBytes(p.RSA.Cert.PublicKey, sig.SignedInfo.Method, si, sig.Value); err != nil {
					b.Fatal(err)
				}
			}
			var subject, base, schema time.Duration
			b.SetBytes(int64(len(doc)))
			for b.Loop() {
				s := time.Now()
				root, err := xmlsec.ParseElement(doc, lim)
				if err != nil {
					b.Fatal(err)
				}
				if _, _, err := Verify(root, v); err != nil {
					b.Fatal(err)
				}
				m := time.Now()
				floor()
				f := time.Now()
				if err := mdSchema(b).ValidateParsed(doc); err != nil {
					b.Fatal(err)
				}
				subject, base, schema = subject+m.Sub(s), base+f.Sub(m), schema+time.Since(f)
			}
			b.ReportMetric(float64(subject)/float64(base), "x-floor")
			// What Config.Schema adds to each load, against the same floor.
			b.ReportMetric(float64(schema)/float64(base), "schema-x-floor")
		})
	}
}
