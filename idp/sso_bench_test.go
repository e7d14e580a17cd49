package idp

import (
	"crypto/x509"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/internal/testkit/benchkit"
	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// BenchmarkSSO times complete Web SSO round trips over the loopback HTTPS
// listeners, from the SP's AuthnRequest (HTTP-Redirect) to the Response
// the SP has verified: the IdP checks the request, writes the federation
// and session, signs the assertion and the SP verifies it. "session"
// reuses the IdP session, so the card handshake is not the cost;
// "fresh-login" makes a new browser each time, so every round trip also
// goes through the card listener's TLS handshake with a client
// certificate and starts a session. Each runs interleaved with the floor
// it is compared with, measured in the same run: one raw signature with
// the IdP's key (RSA-2048, then P-256), the one public-key operation an
// SSO cannot avoid. It reports SSO/s, signatures/s and their ratio.
func BenchmarkSSO(b *testing.B) {
	p := pki.MustGet()
	for _, k := range []struct {
		name string
		id   *pki.Identity
	}{{"rsa2048", p.RSA}, {"p256", p.P256}} {
		e := newSSOEnvWith(b, func(c *Config) {
			c.SigningKey, c.SigningCerts = k.id.Key, []*x509.Certificate{k.id.Cert}
		}, nil)
		floor := rawSign(b, k.id)
		b.Run(k.name+"/session", func(b *testing.B) {
			c := e.browser(&e.Alice)
			e.roundTrip(b, c, "warm")
			n := 0
			interleavedSSO(b, floor, func() { n++; e.roundTrip(b, c, fmt.Sprintf("_bs-%s-%d", k.name, n)) })
		})
		b.Run(k.name+"/fresh-login", func(b *testing.B) {
			n := 0
			interleavedSSO(b, floor, func() {
				n++
				c := e.browser(&e.Alice)
				e.roundTrip(b, c, fmt.Sprintf("_bf-%s-%d", k.name, n))
				c.CloseIdleConnections()
			})
		})
	}
}

// roundTrip is one SSO of otherSP for the browser c, verified at the SP.
func (e *ssoEnv) roundTrip(b *testing.B, c *http.Client, id string) {
	sp := e.sps[otherSP]
	got, err := e.consume(sp, e.redirect(c, e.newRequest(sp, id), "", nil), id)
	if err != nil || got.Assertion == nil {
		b.Fatalf("round trip %s: %v", id, err)
	}
}

// rawSign is one signature with id's key over 32 bytes, by the method
// the IdP signs with.
func rawSign(b *testing.B, id *pki.Identity) func() {
	m, err := xmlsec.DefaultSignatureMethod(id.Key.Public())
	if err != nil {
		b.Fatal(err)
	}
	data := make([]byte, 32)
	return func() {
		if _, err := xmlsec.SignBytes(nil, id.Key, m, data); err != nil {
			b.Fatal(err)
		}
	}
}

// interleavedSSO runs floor and subject in turn (benchkit.Interleave) and
// reports both rates and how many floor operations one SSO costs.
func interleavedSSO(b *testing.B, floor, subject func()) {
	ts, tf := benchkit.Interleave(b, nil, subject, floor)
	n := float64(b.N)
	b.ReportMetric(n/ts.Seconds(), "sso/s")
	b.ReportMetric(n/tf[0].Seconds(), "signatures/s")
	b.ReportMetric(float64(ts)/float64(tf[0]), "x-floor")
}

// BenchmarkIssueSchema times what Config.Schema adds to each assertion:
// the schema check of the signed assertion, interleaved with signing the
// same assertion (the floor: what every SSO pays anyway), as
// "validate-x-sign".
func BenchmarkIssueSchema(b *testing.B) {
	f := newFixture(b)
	req := f.issueRequest()
	p := f.withConfig(func(c *Config) { c.Schema = nil })
	schema := testSchema(b)
	var sign, check time.Duration
	for b.Loop() {
		a, err := p.assertion(req, f.now)
		if err != nil {
			b.Fatal(err)
		}
		s := time.Now()
		el, err := p.sign(a)
		if err != nil {
			b.Fatal(err)
		}
		m := time.Now()
		if err := schema.ValidateElement(el); err != nil {
			b.Fatal(err)
		}
		sign, check = sign+m.Sub(s), check+time.Since(m)
	}
	b.ReportMetric(float64(check)/float64(sign), "validate-x-sign")
}
