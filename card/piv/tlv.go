package piv

import (
	"errors"
	"fmt"
)

// TLV is one BER-TLV data object as PIV uses them (SP 800-73-4 Part 1 §3):
// tags of one to three bytes, definite lengths up to 0xFFFF.
type TLV struct {
	Tag   uint32
	Value []byte
}

// AppendTLV appends the encoding of tag and value to b.
func AppendTLV(b []byte, tag uint32, value []byte) []byte {
	b = appendTag(b, tag)
	b = appendLen(b, len(value))
	return append(b, value...)
}

func appendTag(b []byte, tag uint32) []byte {
	switch {
	case tag > 0xFFFF:
		return append(b, byte(tag>>16), byte(tag>>8), byte(tag))
	case tag > 0xFF:
		return append(b, byte(tag>>8), byte(tag))
	default:
		return append(b, byte(tag))
	}
}

func appendLen(b []byte, n int) []byte {
	switch {
	case n < 0x80:
		return append(b, byte(n))
	case n < 0x100:
		return append(b, 0x81, byte(n))
	default:
		return append(b, 0x82, byte(n>>8), byte(n))
	}
}

var errTruncated = errors.New("piv: truncated BER-TLV")

// ParseTLVs splits b into consecutive data objects.
func ParseTLVs(b []byte) ([]TLV, error) {
	var out []TLV
	for len(b) > 0 {
		t, rest, err := parseOne(b)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
		b = rest
	}
	return out, nil
}

func parseOne(b []byte) (TLV, []byte, error) {
	tag, b, err := parseTag(b)
	if err != nil {
		return TLV{}, nil, err
	}
	n, b, err := parseLen(b)
	if err != nil {
		return TLV{}, nil, err
	}
	if n > len(b) {
		return TLV{}, nil, fmt.Errorf("piv: tag %X claims %d bytes, %d left", tag, n, len(b))
	}
	return TLV{Tag: tag, Value: b[:n]}, b[n:], nil
}

func parseTag(b []byte) (uint32, []byte, error) {
	if len(b) == 0 {
		return 0, nil, errTruncated
	}
	tag, i := uint32(b[0]), 1
	if b[0]&0x1F == 0x1F {
		for ; ; i++ {
			if i >= len(b) {
				return 0, nil, errTruncated
			}
			if i >= 3 {
				return 0, nil, errors.New("piv: BER tag longer than 3 bytes")
			}
			tag = tag<<8 | uint32(b[i])
			if b[i]&0x80 == 0 {
				i++
				break
			}
		}
	}
	return tag, b[i:], nil
}

func parseLen(b []byte) (int, []byte, error) {
	if len(b) == 0 {
		return 0, nil, errTruncated
	}
	switch {
	case b[0] < 0x80:
		return int(b[0]), b[1:], nil
	case b[0] == 0x81 && len(b) >= 2:
		return int(b[1]), b[2:], nil
	case b[0] == 0x82 && len(b) >= 3:
		return int(b[1])<<8 | int(b[2]), b[3:], nil
	}
	return 0, nil, fmt.Errorf("piv: unsupported BER length byte %02X", b[0])
}

// Find returns the value of the first object with tag in b, searched at
// the top level only.
func Find(b []byte, tag uint32) ([]byte, bool) {
	tlvs, err := ParseTLVs(b)
	if err != nil {
		return nil, false
	}
	for _, t := range tlvs {
		if t.Tag == tag {
			return t.Value, true
		}
	}
	return nil, false
}
