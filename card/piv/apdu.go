package piv

import (
	"errors"
	"fmt"
)

// Command is an ISO/IEC 7816-4 command APDU.
type Command struct {
	CLA, INS, P1, P2 byte
	Data             []byte
	// Le is the expected response length; 0 means "up to 256" (short Le 00).
	Le int
	// HasLe says whether Le is sent at all (case 2 and 4 commands).
	HasLe bool
}

// Bytes encodes c as a short APDU when it fits, an extended one otherwise.
func (c Command) Bytes() []byte {
	b := []byte{c.CLA, c.INS, c.P1, c.P2}
	ext := len(c.Data) > 255 || c.Le > 256
	if len(c.Data) > 0 {
		if ext {
			b = append(b, 0, byte(len(c.Data)>>8), byte(len(c.Data)))
		} else {
			b = append(b, byte(len(c.Data)))
		}
		b = append(b, c.Data...)
	}
	if c.HasLe {
		b = appendLe(b, c.Le, ext, len(c.Data) > 0)
	}
	return b
}

func appendLe(b []byte, le int, ext, hasLc bool) []byte {
	if !ext {
		return append(b, byte(le))
	}
	if !hasLc {
		b = append(b, 0)
	}
	return append(b, byte(le>>8), byte(le))
}

// ParseCommand decodes a short or extended command APDU (ISO/IEC 7816-3
// §12.1.3 cases 1 to 4).
func ParseCommand(b []byte) (Command, error) {
	if len(b) < 4 {
		return Command{}, errors.New("piv: command APDU shorter than 4 bytes")
	}
	c := Command{CLA: b[0], INS: b[1], P1: b[2], P2: b[3]}
	body := b[4:]
	switch {
	case len(body) == 0:
		return c, nil
	case len(body) == 1:
		c.HasLe, c.Le = true, int(body[0])
		return c, nil
	case body[0] != 0:
		return parseShort(c, body)
	default:
		return parseExtended(c, body[1:])
	}
}

func parseShort(c Command, body []byte) (Command, error) {
	n := int(body[0])
	switch len(body) {
	case 1 + n:
		c.Data = body[1:]
	case 2 + n:
		c.Data, c.HasLe, c.Le = body[1:1+n], true, int(body[1+n])
	default:
		return c, fmt.Errorf("piv: short APDU body of %d bytes with Lc %d", len(body), n)
	}
	return c, nil
}

func parseExtended(c Command, body []byte) (Command, error) {
	if len(body) == 2 {
		c.HasLe, c.Le = true, int(body[0])<<8|int(body[1])
		return c, nil
	}
	if len(body) < 2 {
		return c, errors.New("piv: truncated extended APDU")
	}
	n := int(body[0])<<8 | int(body[1])
	switch len(body) {
	case 2 + n:
		c.Data = body[2:]
	case 4 + n:
		c.Data, c.HasLe = body[2:2+n], true
		c.Le = int(body[2+n])<<8 | int(body[3+n])
	default:
		return c, fmt.Errorf("piv: extended APDU body of %d bytes with Lc %d", len(body), n)
	}
	return c, nil
}

// Status words used by PIV (SP 800-73-4 Part 2 §3 and ISO/IEC 7816-4 §5.6).
const (
	SWOK                   uint16 = 0x9000
	SWWrongLength          uint16 = 0x6700
	SWSecurityNotSatisfied uint16 = 0x6982
	SWAuthBlocked          uint16 = 0x6983
	SWWrongData            uint16 = 0x6A80
	SWFileNotFound         uint16 = 0x6A82
	SWIncorrectP1P2        uint16 = 0x6A86
	SWInsNotSupported      uint16 = 0x6D00
	SWClaNotSupported      uint16 = 0x6E00
	SWConditionsNotMet     uint16 = 0x6985
)

// Response is a response APDU split into data and status word.
type Response struct {
	Data []byte
	SW   uint16
}

// ParseResponse splits a response APDU; it needs at least the two SW bytes.
func ParseResponse(b []byte) (Response, error) {
	if len(b) < 2 {
		return Response{}, fmt.Errorf("piv: response APDU of %d bytes has no status word", len(b))
	}
	n := len(b) - 2
	return Response{Data: b[:n], SW: uint16(b[n])<<8 | uint16(b[n+1])}, nil
}

// Bytes encodes r as data followed by SW1 SW2.
func (r Response) Bytes() []byte {
	out := make([]byte, 0, len(r.Data)+2)
	out = append(out, r.Data...)
	return append(out, byte(r.SW>>8), byte(r.SW))
}
