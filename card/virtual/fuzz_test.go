package virtual

import (
	"path/filepath"
	"testing"

	"github.com/renkei-idwsf/renkei/card/piv"
	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
)

// FuzzProcess sends arbitrary APDU sequences to a card whose PIN is
// verified: it must always answer with a status word and never panic.
func FuzzProcess(f *testing.F) {
	path := filepath.Join(f.TempDir(), "card.json")
	id := pki.MustGet().RSA
	if err := Create(path, "1", id.Key, id.Cert, nil); err != nil {
		f.Fatal(err)
	}
	card, err := Open(path, Options{})
	if err != nil {
		f.Fatal(err)
	}
	pin, _ := piv.EncodePIN(DefaultPIN)
	verify := piv.Command{INS: piv.InsVerify, P2: 0x80, Data: pin}.Bytes()
	f.Add(piv.Command{INS: piv.InsSelect, P1: 4, Data: piv.AID, HasLe: true}.Bytes(), []byte{0x00, 0xC0, 0x00, 0x00, 0x00})
	f.Add(piv.Command{CLA: 0x10, INS: 0x87, P1: 7, P2: 0x9A, Data: []byte{0x7C, 0x82, 0x01, 0x04}}.Bytes(),
		piv.Command{INS: 0x87, P1: 7, P2: 0x9A, Data: append([]byte{0x82, 0x00, 0x81, 0x82, 0x01, 0x00}, make([]byte, 250)...)}.Bytes())
	f.Add(piv.Command{INS: piv.InsGetData, P1: 0x3F, P2: 0xFF, Data: []byte{0x5C, 0x03, 0x5F, 0xC1, 0x05}, HasLe: true}.Bytes(), []byte{0x00, 0xC0, 0x00, 0x00, 0x00})
	f.Fuzz(func(t *testing.T, a, b []byte) {
		card.Process(verify)
		for _, apdu := range [][]byte{a, b} {
			if r := card.Process(apdu); len(r) < 2 {
				t.Fatalf("answer %X has no status word", r)
			}
		}
		card.Reset()
	})
}
