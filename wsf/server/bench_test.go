package server

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/internal/testkit/benchkit"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/internal/wsftest"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// benchMessages returns n distinct ClientTLS:SAMLV2 requests (each with
// its own MessageID) with one token whose issuer key the WSP knows from
// metadata (no KeyInfo): about 6 KB, the holder-of-key certificate alone
// taking 1.1 KB.
func benchMessages(b *testing.B, f *fixture, n int) [][]byte {
	tok := f.hokToken(wsftest.TokenSpec{NoKeyInfo: true})
	out := make([][]byte, n)
	for i := range out {
		r := req{mech: wsf.ClientTLSSAMLV2, token: tok, payload: queryPayload()}
		id := fmt.Sprintf("urn:uuid:00000000-0000-4000-8000-%012d", i)
		r.header = func(h *wsf.Header) { h.MessageID = id }
		out[i] = f.request(r)
	}
	return out
}

// BenchmarkReceive measures received messages verified per second through
// the whole pipeline (parse, mustUnderstand, schema, WS-Security signature
// and coverage, Timestamp, replay, token signature and rules, service,
// signed response), next to two floors measured in the same run and
// interleaved with it, iteration by iteration:
//   - verify: parsing the message and the two raw RSA-2048 PKCS#1 v1.5
//     verifications any receiver of it must do (message and token
//     signatures), reported as x-floor;
//   - verify+sign: that, plus the one raw RSA-2048 signature of the
//     response the binding requires, reported as x-floor-with-sign.
func BenchmarkReceive(b *testing.B) {
	f := newFixture(b, wsf.Strict)
	msgs := benchMessages(b, f, 256)
	b.Logf("message size %d bytes", len(msgs[0]))
	fl := newFloor(b, msgs[0])
	b.Run("floor/parse+2-raw-rsa-verify", func(b *testing.B) {
		b.SetBytes(int64(len(msgs[0])))
		b.ReportAllocs()
		for b.Loop() {
			fl.verify()
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msg/s")
	})
	b.Run("pipeline/client-tls-samlv2", func(b *testing.B) {
		b.SetBytes(int64(len(msgs[0])))
		b.ReportAllocs()
		reset, next := pipeline(b, f, msgs)
		tp, tf := benchkit.Interleave(b, reset, next, fl.verify, fl.verifySign)
		b.ReportMetric(float64(b.N)/tp.Seconds(), "msg/s")
		b.ReportMetric(float64(tp)/float64(tf[0]), "x-floor")
		b.ReportMetric(float64(tp)/float64(tf[1]), "x-floor-with-sign")
	})
}

// floor holds the raw operations the floors are made of.
type floor struct {
	b   *testing.B
	msg []byte
	key *rsa.PrivateKey
	pub *rsa.PublicKey
	sum []byte
	sig []byte
}

func newFloor(b *testing.B, msg []byte) *floor {
	k := wsftest.Keys(b)
	key, ok := k.WSP.Key.(*rsa.PrivateKey)
	if !ok {
		b.Fatalf("WSP key is %T, want RSA", k.WSP.Key)
	}
	sum := sha256.Sum256(msg[:512])
	sig, err := k.WSC.Key.Sign(nil, sum[:], crypto.SHA256)
	if err != nil {
		b.Fatal(err)
	}
	return &floor{b: b, msg: msg, key: key, pub: k.WSC.Cert.PublicKey.(*rsa.PublicKey), sum: sum[:], sig: sig}
}

func (f *floor) verify() {
	if _, err := xmlsec.Parse(f.msg, xmlsec.Limits{}); err != nil {
		f.b.Fatal(err)
	}
	for j := 0; j < 2; j++ {
		if err := rsa.VerifyPKCS1v15(f.pub, crypto.SHA256, f.sum, f.sig); err != nil {
			f.b.Fatal(err)
		}
	}
}

func (f *floor) verifySign() {
	f.verify()
	if _, err := rsa.SignPKCS1v15(nil, f.key, crypto.SHA256, f.sum); err != nil {
		f.b.Fatal(err)
	}
}

// pipeline returns a receive step over distinct messages, and the reset
// to run untimed before each step: every 256 messages it starts a fresh
// receiver (and replay cache), so that each message is new to it.
func pipeline(b *testing.B, f *fixture, msgs [][]byte) (reset, step func()) {
	k := wsftest.Keys(b)
	i := 0
	reset = func() {
		if i > 0 && i%len(msgs) == 0 {
			g := newFixture(b, wsf.Strict, func(c *Config) { c.Now = func() time.Time { return t0 } })
			f.rcv = g.rcv
		}
	}
	step = func() {
		resp := f.rcv.Receive(context.Background(), Request{Body: msgs[i%len(msgs)], TLS: true, ClientCert: k.WSC.Cert})
		if resp.Status != 200 {
			b.Fatalf("message %d refused: %v", i, resp.Err)
		}
		i++
	}
	return reset, step
}
