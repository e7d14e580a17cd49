package wss

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"testing"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// benchIDs are the six parts the benchmark message signs.
var benchIDs = []string{"FWK", "SND", "MID", "ACT", "TS", "BDY"}

// benchEnvelope is testdata/request.xml without its token, whose six
// headers and Body are what the benchmarks sign.
func benchEnvelope(b *testing.B) (*etree.Element, []*etree.Element) {
	env := request(b)
	sec := security(b, env)
	sec.RemoveChild(sec.SelectElement("saml:Assertion"))
	var parts []*etree.Element
	for _, id := range benchIDs {
		parts = append(parts, byID(b, env, id))
	}
	return env, parts
}

// benchMessage returns the bytes of the benchmark envelope signed with
// RSA-SHA256, no KeyInfo: a ~4 KB message with six References.
func benchMessage(b *testing.B) []byte {
	env, parts := benchEnvelope(b)
	out, err := (&Signer{Key: pki.MustGet().RSA.Key}).Sign(env, parts...)
	if err != nil {
		b.Fatal(err)
	}
	return serialize(b, out)
}

// nsPerOp is the mean time of the sub-benchmark that just ran.
func nsPerOp(b *testing.B) float64 {
	return float64(b.Elapsed().Nanoseconds()) / float64(b.N)
}

// BenchmarkVerify measures parse + Verify of a ~4 KB envelope with six
// References (wss) next to its floor, parse + one raw RSA-2048 PKCS#1
// v1.5 verification (raw-rsa), and reports wss/raw-rsa as x-raw-rsa.
func BenchmarkVerify(b *testing.B) {
	p := pki.MustGet()
	msg := benchMessage(b)
	sum := sha256.Sum256(msg[:512])
	sig, err := p.RSA.Key.Sign(rand.Reader, sum[:], crypto.SHA256)
	if err != nil {
		b.Fatal(err)
	}
	pub := p.RSA.Cert.PublicKey.(*rsa.PublicKey)
	var floor float64
	b.Run("raw-rsa", func(b *testing.B) {
		b.SetBytes(int64(len(msg)))
		for b.Loop() {
			if _, err := xmlsec.ParseElement(msg, xmlsec.Limits{}); err != nil {
				b.Fatal(err)
			}
			if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
				b.Fatal(err)
			}
		}
		floor = nsPerOp(b)
	})
	v := verifierFor(p.RSA)
	b.Run("wss", func(b *testing.B) {
		b.SetBytes(int64(len(msg)))
		for b.Loop() {
			env, err := xmlsec.ParseElement(msg, xmlsec.Limits{})
			if err != nil {
				b.Fatal(err)
			}
			if res, err := v.Verify(env); err != nil || len(res.Parts) != len(benchIDs) {
				b.Fatalf("verify: %v", err)
			}
		}
		b.ReportMetric(nsPerOp(b)/floor, "x-raw-rsa")
	})
}

// BenchmarkSign measures Sign of the same envelope over six parts (wss,
// which copies the envelope) next to one raw RSA-2048 PKCS#1 v1.5
// signature (raw-rsa), and reports wss/raw-rsa as x-raw-rsa.
func BenchmarkSign(b *testing.B) {
	key := pki.MustGet().RSA.Key
	env, parts := benchEnvelope(b)
	sum := sha256.Sum256([]byte("SignedInfo"))
	var floor float64
	b.Run("raw-rsa", func(b *testing.B) {
		for b.Loop() {
			if _, err := key.Sign(rand.Reader, sum[:], crypto.SHA256); err != nil {
				b.Fatal(err)
			}
		}
		floor = nsPerOp(b)
	})
	s := &Signer{Key: key}
	b.Run("wss", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Sign(env, parts...); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(nsPerOp(b)/floor, "x-raw-rsa")
	})
}
