package piv

import (
	"bytes"
	"testing"
)

// FuzzParseCommand checks that any byte string either fails to parse or
// parses into a command that re-encodes to the same bytes when it is in
// canonical form.
func FuzzParseCommand(f *testing.F) {
	f.Add([]byte{0x00, 0xA4, 0x04, 0x00, 0x09, 0xA0, 0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x10, 0x00, 0x00})
	f.Add([]byte{0x00, 0xCB, 0x3F, 0xFF, 0x05, 0x5C, 0x03, 0x5F, 0xC1, 0x05, 0x00})
	f.Add([]byte{0x00, 0x20, 0x00, 0x80})
	f.Add([]byte{0x00, 0x87, 0x07, 0x9A, 0x00, 0x00, 0x03, 0x01, 0x02, 0x03, 0x00, 0x00})
	f.Add([]byte{0x00, 0xC0, 0x00, 0x00, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseCommand(b)
		if err != nil {
			return
		}
		again, err := ParseCommand(c.Bytes())
		if err != nil {
			t.Fatalf("re-encoded command does not parse: %v", err)
		}
		if !bytes.Equal(again.Data, c.Data) || again.INS != c.INS || again.HasLe != c.HasLe {
			t.Fatalf("round trip changed the command: %+v -> %+v", c, again)
		}
	})
}

// FuzzParseTLVs checks that parsed objects re-encode to the same bytes.
func FuzzParseTLVs(f *testing.F) {
	f.Add(AppendTLV(AppendTLV(nil, 0x7C, AppendTLV(nil, 0x82, []byte{1, 2})), 0x5FC105, make([]byte, 300)))
	f.Add([]byte{0x53, 0x82, 0x01})
	f.Add([]byte{0x5F, 0xC1})
	f.Fuzz(func(t *testing.T, b []byte) {
		tlvs, err := ParseTLVs(b)
		if err != nil {
			return
		}
		var out []byte
		for _, x := range tlvs {
			out = AppendTLV(out, x.Tag, x.Value)
		}
		again, err := ParseTLVs(out)
		if err != nil || len(again) != len(tlvs) {
			t.Fatalf("re-encoded objects do not parse back: %v", err)
		}
	})
}
