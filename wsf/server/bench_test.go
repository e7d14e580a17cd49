package server

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

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
// signed response), next to its floor measured in the same run: parsing
// the message and the two raw RSA-2048 PKCS#1 v1.5 verifications any
// receiver of it must do (message and token signatures). The pipeline
// reports its ratio to the floor as x-floor.
func BenchmarkReceive(b *testing.B) {
	f := newFixture(b, wsf.Strict)
	msgs := benchMessages(b, f, 256)
	b.Logf("message size %d bytes", len(msgs[0]))
	var floor float64
	b.Run("floor/parse+2-raw-rsa-verify", func(b *testing.B) {
		floor = benchFloor(b, msgs[0])
	})
	b.Run("pipeline/client-tls-samlv2", func(b *testing.B) {
		if floor == 0 {
			floor = measureFloor(msgs[0])
		}
		benchPipeline(b, f, msgs)
		perOp := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		b.ReportMetric(perOp/floor, "x-floor")
	})
}

func benchFloor(b *testing.B, msg []byte) float64 {
	k := wsftest.Keys(b)
	pub := k.WSC.Cert.PublicKey.(*rsa.PublicKey)
	sum := sha256.Sum256(msg[:512])
	sig, err := k.WSC.Key.Sign(nil, sum[:], crypto.SHA256)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := xmlsec.Parse(msg, xmlsec.Limits{}); err != nil {
			b.Fatal(err)
		}
		for j := 0; j < 2; j++ {
			if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msg/s")
	return float64(b.Elapsed().Nanoseconds()) / float64(b.N)
}

func measureFloor(msg []byte) float64 {
	var ns float64
	testing.Benchmark(func(b *testing.B) { ns = benchFloor(b, msg) })
	return ns
}

// benchPipeline receives distinct messages; every 256 it starts a fresh
// receiver (and replay cache) so that each message is new to it.
func benchPipeline(b *testing.B, f *fixture, msgs [][]byte) {
	k := wsftest.Keys(b)
	b.SetBytes(int64(len(msgs[0])))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%len(msgs) == 0 {
			b.StopTimer()
			g := newFixture(b, wsf.Strict, func(c *Config) { c.Now = func() time.Time { return t0 } })
			f.rcv = g.rcv
			b.StartTimer()
		}
		resp := f.rcv.Receive(context.Background(), Request{Body: msgs[i%len(msgs)], TLS: true, ClientCert: k.WSC.Cert})
		if resp.Status != 200 {
			b.Fatalf("message %d refused: %v", i, resp.Err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msg/s")
}
