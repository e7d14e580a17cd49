package virtual

import (
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/renkei-idwsf/renkei/card/piv"
)

// ATR is the answer-to-reset of the virtual card: T=1, with historical
// bytes in compact-TLV (category 80) holding the PIV AID under tag F
// (ISO/IEC 7816-4 §8.1.1.2.7, "application identifier"). OpenSC's PIV
// driver recognises this as a PIV card by its historical bytes
// (SC_CARD_TYPE_PIV_II_HIST), a type for which it offers ECC P-256 and
// P-384 as well as RSA; vendor ATRs such as PIVKey's disable ECC.
var ATR = buildATR()

func buildATR() []byte {
	hist := append([]byte{0x80, 0xF0 | byte(len(piv.AID))}, piv.AID...)
	atr := []byte{0x3B, 0x80 | byte(len(hist)), 0x80, 0x01}
	atr = append(atr, hist...)
	var tck byte
	for _, b := range atr[1:] {
		tck ^= b
	}
	return append(atr, tck)
}

// selectResponse is the application property template returned by SELECT
// (SP 800-73-4 Part 2 §3.1.1, Table 3 of Part 1): PIX, coexistent tag
// allocation authority, label and the algorithms the card supports.
func selectResponse() []byte {
	var b []byte
	b = piv.AppendTLV(b, 0x4F, piv.AID[5:])
	b = piv.AppendTLV(b, 0x79, piv.AppendTLV(nil, 0x4F, piv.AID[:5]))
	b = piv.AppendTLV(b, 0x50, []byte("Renkei virtual PIV"))
	var algs []byte
	for _, a := range []byte{piv.AlgRSA2048, piv.AlgECCP256} {
		algs = piv.AppendTLV(algs, 0x80, []byte{a})
	}
	algs = piv.AppendTLV(algs, 0x06, nil)
	b = piv.AppendTLV(b, 0xAC, algs)
	return piv.AppendTLV(nil, 0x61, b)
}

// objects builds the data objects the card serves with GET DATA, each
// complete with its 53 (or 7E) wrapper (SP 800-73-4 Part 1 §3).
func objects(f *File, cert *x509.Certificate) (map[uint32][]byte, error) {
	guid, err := hex.DecodeString(f.GUID)
	if err != nil || len(guid) != 16 {
		return nil, fmt.Errorf("virtual: guid must be 16 bytes of hex")
	}
	return map[uint32][]byte{
		piv.TagAuthCert:   certObject(cert),
		piv.TagCHUID:      chuid(f.CardNumber, guid, cert.NotAfter),
		piv.TagDiscovery:  discovery(),
		piv.TagCCC:        ccc(guid),
		piv.TagKeyHistory: keyHistory(),
	}, nil
}

func wrap(content []byte) []byte { return piv.AppendTLV(nil, 0x53, content) }

func certObject(cert *x509.Certificate) []byte {
	b := piv.AppendTLV(nil, 0x70, cert.Raw)
	b = piv.AppendTLV(b, 0x71, []byte{0x00}) // CertInfo: not compressed
	return wrap(piv.AppendTLV(b, 0xFE, nil))
}

// chuid is the Card Holder Unique Identifier (SP 800-73-4 Part 1 Table 9):
// FASC-N, GUID, expiration date, an empty issuer signature, error detection.
func chuid(cardNumber string, guid []byte, expires time.Time) []byte {
	b := piv.AppendTLV(nil, 0x30, fascN(cardNumber))
	b = piv.AppendTLV(b, 0x34, guid)
	b = piv.AppendTLV(b, 0x35, []byte(expires.UTC().Format("20060102")))
	b = piv.AppendTLV(b, 0x3E, nil)
	return wrap(piv.AppendTLV(b, 0xFE, nil))
}

// discovery is the Discovery Object (SP 800-73-4 Part 1 §3.3.2): the PIV
// AID and a PIN usage policy of "PIV Card Application PIN only".
func discovery() []byte {
	b := piv.AppendTLV(nil, 0x4F, piv.AID)
	b = piv.AppendTLV(b, 0x5F2F, []byte{0x40, 0x00})
	return piv.AppendTLV(nil, 0x7E, b)
}

// ccc is the Card Capability Container (SP 800-73-4 Part 1 Table 8), with
// a card identifier under the GSC-IS RID A0 00 00 01 16.
func ccc(guid []byte) []byte {
	id := append([]byte{0xA0, 0x00, 0x00, 0x01, 0x16, 0xFF, 0x02}, guid[:14]...)
	b := piv.AppendTLV(nil, 0xF0, id)
	b = piv.AppendTLV(b, 0xF1, []byte{0x21})
	b = piv.AppendTLV(b, 0xF2, []byte{0x21})
	for _, t := range []uint32{0xF3, 0xF4, 0xF5, 0xF6, 0xF7, 0xFA, 0xFB, 0xFC, 0xFD, 0xFE} {
		b = piv.AppendTLV(b, t, nil)
	}
	return wrap(b)
}

// keyHistory says the card holds no retired keys (Part 1 Table 19).
func keyHistory() []byte {
	b := piv.AppendTLV(nil, 0xC1, []byte{0})
	b = piv.AppendTLV(b, 0xC2, []byte{0})
	return wrap(piv.AppendTLV(b, 0xFE, nil))
}

// fascnCodes are the 5-bit BCD codes with odd parity, least significant
// bit first, of TIG SCEPACS §6.6 (digits, then SS, FS, ES).
var fascnCodes = map[byte]byte{
	'0': 0b00001, '1': 0b10000, '2': 0b01000, '3': 0b11001, '4': 0b00100,
	'5': 0b10101, '6': 0b01101, '7': 0b11100, '8': 0b00010, '9': 0b10011,
	';': 0b11010, '=': 0b10110, '?': 0b11111,
}

// fascN encodes a FASC-N for a PIV-compatible (non-federal) card: agency
// and system code 9999, the credential number taken from the card number.
func fascN(cardNumber string) []byte {
	cred := digits(cardNumber, 6)
	s := ";9999=9999=" + cred + "=1=1=" + digits(cardNumber, 10) + "1" + "9999" + "1" + "?"
	var lrc byte
	var bits []byte
	for i := 0; i < len(s); i++ {
		c := fascnCodes[s[i]]
		bits = append(bits, c)
		lrc ^= c >> 1 // the four data bits, written LSB first, then parity
	}
	bits = append(bits, lrcCode(lrc))
	return packBits(bits)
}

func lrcCode(lrc byte) byte {
	data := lrc & 0x0F
	ones := 0
	for i := 0; i < 4; i++ {
		ones += int(data>>i) & 1
	}
	return data<<1 | byte(1-ones%2)
}

func packBits(codes []byte) []byte {
	out := make([]byte, (len(codes)*5+7)/8)
	for i, c := range codes {
		for j := 0; j < 5; j++ {
			if c&(0x10>>j) != 0 {
				bit := i*5 + j
				out[bit/8] |= 0x80 >> (bit % 8)
			}
		}
	}
	return out
}

// digits returns the last n decimal digits of s, left-padded with zeros.
func digits(s string, n int) string {
	var d []byte
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			d = append(d, s[i])
		}
	}
	for len(d) < n {
		d = append([]byte{'0'}, d...)
	}
	return string(d[len(d)-n:])
}
