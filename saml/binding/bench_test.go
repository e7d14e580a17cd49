package binding

import (
	"testing"

	"github.com/renkei-idwsf/renkei/internal/testkit/benchkit"
	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// BenchmarkRedirectVerify times what an IdP does with a signed
// HTTP-Redirect AuthnRequest (split the raw query, inflate, parse, verify
// the query signature) against the floor no implementation avoids: the
// public-key verification of the same octets. Subject and floor run
// alternately in each iteration; "x-floor" is their ratio.
func BenchmarkRedirectVerify(b *testing.B) {
	p := pki.MustGet()
	for _, k := range []struct {
		name string
		id   *pki.Identity
	}{{"rsa2048", p.RSA}, {"p256", p.P256}} {
		q, err := EncodeRedirect(authnRequest().Element(), "rs", &RedirectSigner{Key: k.id.Key})
		if err != nil {
			b.Fatal(err)
		}
		m, err := (&RedirectDecoder{}).Decode(q)
		if err != nil {
			b.Fatal(err)
		}
		meth, err := xmlsec.Policy{}.SignatureMethod(m.SigAlg)
		if err != nil {
			b.Fatal(err)
		}
		trust := trustOf(k.id.Cert)
		pub := k.id.Cert.PublicKey
		floor := func() {
			if err := (xmlsec.Policy{}).VerifyBytes(pub, meth, m.signed, m.signature); err != nil {
				b.Fatal(err)
			}
		}
		subject := func() {
			m, err := (&RedirectDecoder{}).Decode(q)
			if err != nil {
				b.Fatal(err)
			}
			if _, _, err := m.Verify(trust, xmlsec.Policy{}); err != nil {
				b.Fatal(err)
			}
		}
		b.Run(k.name+"/vs/raw-verify", func(b *testing.B) { interleaved(b, floor, subject) })
	}
}

func interleaved(b *testing.B, floor, subject func()) {
	ts, tf := benchkit.Interleave(b, nil, subject, floor)
	benchkit.ReportRatio(b, ts, tf[0], "subject-ns/op", "floor-ns/op")
}
