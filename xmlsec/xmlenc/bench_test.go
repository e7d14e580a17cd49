package xmlenc

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"testing"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
)

// The floor of both benchmarks is one RSA-2048 OAEP operation on a 32-byte
// session key, measured in the same run as the sibling raw-rsa-oaep; each
// other sub-benchmark reports its time as a multiple of it (x-raw-rsa).
// The plaintext is the fixture's 4.2 KB assertion.

func BenchmarkDecrypt(b *testing.B) {
	p := pki.MustGet()
	key := p.RSA.Key.(*rsa.PrivateKey)
	var floor float64
	b.Run("raw-rsa-oaep", func(b *testing.B) {
		ct, err := rsa.EncryptOAEP(sha1.New(), rand.Reader, &key.PublicKey, make([]byte, 32), nil)
		if err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, err := rsa.DecryptOAEP(sha1.New(), nil, key, ct, nil); err != nil {
				b.Fatal(err)
			}
		}
		floor = perOp(b)
	})
	for _, data := range []string{AES256GCM, AES256CBC} {
		b.Run("assertion-"+short(data), func(b *testing.B) {
			w := benchWrapper(b, p, Algorithms{Data: data})
			d := decrypterOf(p.RSA)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := d.Decrypt(w); err != nil {
					b.Fatal(err)
				}
			}
			reportRatio(b, floor)
		})
	}
}

func BenchmarkEncrypt(b *testing.B) {
	p := pki.MustGet()
	pub := p.RSA.Cert.PublicKey.(*rsa.PublicKey)
	var floor float64
	b.Run("raw-rsa-oaep", func(b *testing.B) {
		k := make([]byte, 32)
		for i := 0; i < b.N; i++ {
			if _, err := rsa.EncryptOAEP(sha1.New(), rand.Reader, pub, k, nil); err != nil {
				b.Fatal(err)
			}
		}
		floor = perOp(b)
	})
	b.Run("assertion-aes256-gcm", func(b *testing.B) {
		a := assertionIn(b, readFixture(b, "response.xml"))
		enc := &Encrypter{}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, err := enc.Encrypt(a, EncryptedAssertion, recipientOf(p.RSA)); err != nil {
				b.Fatal(err)
			}
		}
		reportRatio(b, floor)
	})
}

// benchWrapper is the fixture assertion encrypted and parsed back.
func benchWrapper(b *testing.B, p *pki.Shared, alg Algorithms) *etree.Element {
	a := assertionIn(b, readFixture(b, "response.xml"))
	w, err := (&Encrypter{Algorithms: alg}).Encrypt(a, EncryptedAssertion, recipientOf(p.RSA))
	if err != nil {
		b.Fatal(err)
	}
	return reparse(b, w)
}

func perOp(b *testing.B) float64 {
	return float64(b.Elapsed().Nanoseconds()) / float64(b.N)
}

// reportRatio reports the time per operation as a multiple of the floor,
// when the floor ran in this invocation.
func reportRatio(b *testing.B, floor float64) {
	if floor > 0 {
		b.ReportMetric(perOp(b)/floor, "x-raw-rsa")
	}
}
