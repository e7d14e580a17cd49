package disco

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// FuzzDecode runs Decode, the entry point that dispatches to every typed
// decoder, over arbitrary bytes, seeded with the golden files and the Body
// of each Lasso capture. It must refuse with a KindMalformed error, never
// panic, and a message it accepts (under the lenient Lasso profile) must
// encode to a message the strict decoder reads back to the same tree.
func FuzzDecode(f *testing.F) {
	goldens, err := filepath.Glob(filepath.Join("testdata", "TestGolden_*.xml"))
	if err != nil || len(goldens) == 0 {
		f.Fatalf("no golden files: %v", err)
	}
	for _, name := range goldens {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, name := range []string{"lasso-01-SvcMDRegister-req.xml", "lasso-01-SvcMDRegister-resp.xml", "lasso-02-Query-req.xml",
		"lasso-02-QueryResponse-resp.xml", "lasso2zxid-2-Query-req.xml", "lasso2zxid-2-Query-resp.xml"} {
		b, err := xmlsec.Serialize(captureBody(f, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		el, err := xmlsec.ParseElement(b, xmlsec.Limits{MaxBytes: 64 << 10})
		if err != nil {
			return
		}
		m, err := Decode(el, wsf.Lasso)
		if err != nil {
			mustMalformed(t, err)
			return
		}
		reencode(t, m)
	})
}

// reencode checks that an accepted message encodes to one the strict
// decoder accepts and that encodes the same again.
func reencode(t *testing.T, m Message) {
	b, err := xmlsec.Serialize(m.Element())
	if err != nil {
		t.Fatalf("accepted message does not serialize: %v", err)
	}
	el, err := xmlsec.ParseElement(b, xmlsec.Limits{})
	if err != nil {
		t.Fatalf("encoded message does not parse: %v\n%s", err, b)
	}
	again, err := Decode(el, wsf.Strict)
	if err != nil {
		t.Fatalf("encoded message is refused: %v\n%s", err, b)
	}
	if !sameTree(el, again.Element()) {
		t.Fatalf("second round trip changed the message:\n%s", b)
	}
}
