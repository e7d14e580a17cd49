package piv

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
)

// digestInfoPrefix holds the DER prefixes of DigestInfo for each hash
// (RFC 8017 §9.2, Note 1).
var digestInfoPrefix = map[crypto.Hash][]byte{
	crypto.SHA1:   {0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14},
	crypto.SHA224: {0x30, 0x2d, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x04, 0x05, 0x00, 0x04, 0x1c},
	crypto.SHA256: {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20},
	crypto.SHA384: {0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30},
	crypto.SHA512: {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40},
	// MD5+SHA1 (TLS 1.0/1.1) and crypto.Hash(0) sign the digest bare.
	crypto.MD5SHA1: {},
	0:              {},
}

// ErrEncoding reports input that an EMSA encoding cannot take: an unknown
// hash, a digest of the wrong length, or a key too short.
var ErrEncoding = errors.New("piv: message encoding error")

// EncodePKCS1v15 implements EMSA-PKCS1-v1_5-ENCODE (RFC 8017 §9.2) for an
// already computed digest: EM = 0x00 || 0x01 || PS || 0x00 || T, where T is
// the DER DigestInfo and PS at least eight 0xFF bytes; emLen is k bytes.
func EncodePKCS1v15(h crypto.Hash, digest []byte, k int) ([]byte, error) {
	prefix, ok := digestInfoPrefix[h]
	if !ok {
		return nil, fmt.Errorf("%w: hash %v has no DigestInfo", ErrEncoding, h)
	}
	if h != 0 && len(digest) != h.Size() {
		return nil, fmt.Errorf("%w: digest is %d bytes, %v needs %d", ErrEncoding, len(digest), h, h.Size())
	}
	tLen := len(prefix) + len(digest)
	if k < tLen+11 {
		return nil, fmt.Errorf("%w: intended encoded message length too short", ErrEncoding)
	}
	em := make([]byte, k)
	em[1] = 0x01
	for i := 2; i < k-tLen-1; i++ {
		em[i] = 0xFF
	}
	copy(em[k-tLen:], prefix)
	copy(em[k-len(digest):], digest)
	return em, nil
}

// pssSaltLength resolves the salt length of opts for emLen and hLen
// (rsa.PSSSaltLengthAuto takes the largest that fits, RFC 8017 §9.1.1).
func pssSaltLength(opts *rsa.PSSOptions, emLen, hLen int) (int, error) {
	switch s := opts.SaltLength; {
	case s == rsa.PSSSaltLengthEqualsHash:
		return hLen, nil
	case s == rsa.PSSSaltLengthAuto:
		return emLen - hLen - 2, nil
	case s > 0:
		return s, nil
	}
	return 0, fmt.Errorf("%w: invalid PSS salt length %d", ErrEncoding, opts.SaltLength)
}

// EncodePSS implements EMSA-PSS-ENCODE (RFC 8017 §9.1.1) with MGF1 over
// the same hash, for the digest mHash of the message, emBits = modBits-1.
// It returns EM left-padded to k = ceil(modBits/8) bytes, ready for the
// raw RSA operation on the card.
func EncodePSS(rand io.Reader, mHash []byte, modBits int, opts *rsa.PSSOptions) ([]byte, error) {
	h := opts.Hash
	if !h.Available() || len(mHash) != h.Size() {
		return nil, fmt.Errorf("%w: PSS needs a %v digest of %d bytes", ErrEncoding, h, h.Size())
	}
	emBits := modBits - 1
	emLen, hLen := (emBits+7)/8, h.Size()
	sLen, err := pssSaltLength(opts, emLen, hLen)
	if err != nil {
		return nil, err
	}
	if emLen < hLen+sLen+2 { // step 3
		return nil, fmt.Errorf("%w: key too short for a %d-byte salt", ErrEncoding, sLen)
	}
	salt := make([]byte, sLen) // step 4
	if _, err := io.ReadFull(rand, salt); err != nil {
		return nil, err
	}
	em := pssBlock(h, mHash, salt, emLen, emBits)
	k := (modBits + 7) / 8
	return append(make([]byte, k-emLen), em...), nil
}

// pssBlock runs steps 5 to 12 of EMSA-PSS-ENCODE.
func pssBlock(h crypto.Hash, mHash, salt []byte, emLen, emBits int) []byte {
	hLen := h.Size()
	d := h.New() // steps 5-6: H = Hash(0x00*8 || mHash || salt)
	d.Write(make([]byte, 8))
	d.Write(mHash)
	d.Write(salt)
	hv := d.Sum(nil)
	db := make([]byte, emLen-hLen-1) // steps 7-8: DB = PS || 0x01 || salt
	db[len(db)-len(salt)-1] = 0x01
	copy(db[len(db)-len(salt):], salt)
	mask := mgf1(h, hv, len(db)) // steps 9-10
	for i := range db {
		db[i] ^= mask[i]
	}
	db[0] &= 0xFF >> (8*emLen - emBits) // step 11
	em := append(db, hv...)             // step 12
	return append(em, 0xBC)
}

// mgf1 is the mask generation function of RFC 8017 Appendix B.2.1.
func mgf1(h crypto.Hash, seed []byte, n int) []byte {
	var out bytes.Buffer
	for c := uint32(0); out.Len() < n; c++ {
		d := h.New()
		d.Write(seed)
		d.Write([]byte{byte(c >> 24), byte(c >> 16), byte(c >> 8), byte(c)})
		out.Write(d.Sum(nil))
	}
	return out.Bytes()[:n]
}
