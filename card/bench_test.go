//go:build cgo

package card_test

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"testing"

	"github.com/renkei-idwsf/renkei/card/virtual"
	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
)

// BenchmarkSign compares a signature made by the virtual card through the
// whole PC/SC stack (piv.Signer -> libpcsclite -> pcscd -> vpcd -> TCP ->
// virtual card) with the same signature made in-process by crypto/rsa or
// crypto/ecdsa. The pcsc sub-benchmark reports x-inprocess, its time per
// signature divided by its in-process sibling's from the same run.
func BenchmarkSign(b *testing.B) {
	digest := sha256.Sum256([]byte("benchmark"))
	for _, id := range []*pki.Identity{pki.MustGet().RSA, pki.MustGet().P256} {
		var floor float64
		b.Run(id.Name+"/inprocess", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := id.Key.Sign(rand.Reader, digest[:], crypto.SHA256); err != nil {
					b.Fatal(err)
				}
			}
			floor = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		})
		r := insert(b, 0, newCardFile(b, id), virtual.Options{})
		s := r.login(b)
		b.Run(id.Name+"/pcsc", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := s.Sign(rand.Reader, digest[:], crypto.SHA256); err != nil {
					b.Fatal(err)
				}
			}
			per := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			b.ReportMetric(1e9/per, "sig/s")
			if floor > 0 {
				b.ReportMetric(per/floor, "x-inprocess")
			}
		})
		r.remove(b)
	}
}
