package xmlenc

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"io"
)

const (
	gcmNonceLen = 12 // XML Encryption 1.1 §5.2.4: 96-bit IV prepended
	gcmTagLen   = 16 // and a 128-bit tag appended
)

// sealData encrypts plaintext with a fresh IV read from rnd, returning the
// octets of CipherValue: IV, ciphertext and, for GCM, the tag.
func sealData(c dataCipher, key, plain []byte, rnd io.Reader) ([]byte, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	if c.gcm {
		return sealGCM(block, plain, rnd)
	}
	return sealCBC(block, plain, rnd)
}

func sealGCM(block cipher.Block, plain []byte, rnd io.Reader) ([]byte, error) {
	g, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	out := make([]byte, gcmNonceLen, gcmNonceLen+len(plain)+gcmTagLen)
	if _, err := io.ReadFull(rnd, out); err != nil {
		return nil, err
	}
	return g.Seal(out, out, plain, nil), nil
}

// sealCBC pads as XML Encryption 1.0 §5.2 asks (the last octet counts the
// padding octets, 1 to 16). The other padding octets may be anything; they
// repeat the count, as PKCS#7 does, so that strict PKCS#7 decryptors
// (openssl enc) read them too.
func sealCBC(block cipher.Block, plain []byte, rnd io.Reader) ([]byte, error) {
	n := aes.BlockSize - len(plain)%aes.BlockSize
	out := make([]byte, aes.BlockSize+len(plain)+n)
	if _, err := io.ReadFull(rnd, out[:aes.BlockSize]); err != nil {
		return nil, err
	}
	body := out[aes.BlockSize:]
	copy(body, plain)
	for i := len(plain); i < len(body); i++ {
		body[i] = byte(n)
	}
	cipher.NewCBCEncrypter(block, out[:aes.BlockSize]).CryptBlocks(body, body)
	return out, nil
}

// openData decrypts the octets of CipherValue. It returns the plaintext and
// 1, or something and 0: the caller keeps going either way and reports one
// error at the end, so that a padding failure costs as much as a
// well-padded message that does not parse.
func openData(c dataCipher, key, data []byte) ([]byte, int) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, 0
	}
	if c.gcm {
		return openGCM(block, data)
	}
	return openCBC(block, data)
}

func openGCM(block cipher.Block, data []byte) ([]byte, int) {
	g, err := cipher.NewGCM(block)
	if err != nil || len(data) < gcmNonceLen+gcmTagLen {
		return nil, 0
	}
	plain, err := g.Open(nil, data[:gcmNonceLen], data[gcmNonceLen:], nil)
	if err != nil {
		return nil, 0
	}
	return plain, 1
}

// openCBC checks only the last padding octet, as XML Encryption 1.0 §5.2
// requires (the others are arbitrary; ZXID had to patch OpenSSL's strict
// check for this), and does so without branching on it: the length cut is
// chosen in constant time and an invalid count leaves the whole block in
// place for the caller to parse and refuse.
func openCBC(block cipher.Block, data []byte) ([]byte, int) {
	if len(data) < 2*aes.BlockSize || len(data)%aes.BlockSize != 0 {
		return nil, 0
	}
	plain := make([]byte, len(data)-aes.BlockSize)
	cipher.NewCBCDecrypter(block, data[:aes.BlockSize]).CryptBlocks(plain, data[aes.BlockSize:])
	p := int(plain[len(plain)-1])
	ok := subtle.ConstantTimeLessOrEq(1, p) & subtle.ConstantTimeLessOrEq(p, aes.BlockSize)
	cut := subtle.ConstantTimeSelect(ok, p, 0)
	return plain[:len(plain)-cut], ok
}
