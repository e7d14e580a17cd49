package xmlsec

import (
	"os"
	"testing"

	"github.com/beevik/etree"
)

// BenchmarkParse measures Parse on a signed SAML Response next to its floor,
// etree's own parse of the same bytes with none of Parse's checks.
func BenchmarkParse(b *testing.B) {
	msg, err := os.ReadFile("dsig/testdata/response.xml")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("floor/etree", func(b *testing.B) {
		b.SetBytes(int64(len(msg)))
		for b.Loop() {
			if err := etree.NewDocument().ReadFromBytes(msg); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("xmlsec.Parse", func(b *testing.B) {
		b.SetBytes(int64(len(msg)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Parse(msg, Limits{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
