package xmlsec

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"encoding/asn1"
	"io"
	"math/big"
)

// SignBytes signs data (the canonical SignedInfo) with key for method m and
// returns the SignatureValue octets: PKCS#1 v1.5 for RSA, and for ECDSA the
// raw r||s form of XML-DSig 1.1 §6.4.3 (RFC 4050), each integer left-padded
// to the curve's byte size, converted from the ASN.1 a crypto.Signer
// returns. A nil rnd means crypto/rand.
func SignBytes(rnd io.Reader, key crypto.Signer, m SignatureMethod, data []byte) ([]byte, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	if err := (Policy{AllowSHA1: true, MinRSABits: 1}).CheckKey(m, key.Public()); err != nil {
		return nil, err
	}
	h := m.Hash.New()
	h.Write(data)
	sig, err := key.Sign(rnd, h.Sum(nil), m.Hash)
	if err != nil {
		return nil, Wrap(KindSignature, err, "signing")
	}
	if ec, ok := key.Public().(*ecdsa.PublicKey); ok {
		return ECDSADERToRaw(sig, ecdsaSize(ec))
	}
	return sig, nil
}

// VerifyBytes checks a SignatureValue over data with pub for method m. The
// policy must allow the key (family and size); a signature that does not
// verify is ErrSignature. An ECDSA SignatureValue must be exactly twice
// the curve's byte size.
func (p Policy) VerifyBytes(pub crypto.PublicKey, m SignatureMethod, data, sig []byte) error {
	if err := p.CheckKey(m, pub); err != nil {
		return err
	}
	h := m.Hash.New()
	h.Write(data)
	sum := h.Sum(nil)
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if err := rsa.VerifyPKCS1v15(k, m.Hash, sum, sig); err != nil {
			return Wrap(KindSignature, err, "")
		}
		return nil
	case *ecdsa.PublicKey:
		return verifyECDSARaw(k, sum, sig)
	}
	return Errorf(KindAlgorithm, "unsupported public key type %T", pub)
}

func verifyECDSARaw(k *ecdsa.PublicKey, sum, sig []byte) error {
	n := ecdsaSize(k)
	if len(sig) != 2*n {
		return Errorf(KindSignature, "ECDSA SignatureValue of %d octets, want %d", len(sig), 2*n)
	}
	r := new(big.Int).SetBytes(sig[:n])
	s := new(big.Int).SetBytes(sig[n:])
	if !ecdsa.Verify(k, sum, r, s) {
		return Errorf(KindSignature, "ECDSA signature does not verify")
	}
	return nil
}

func ecdsaSize(k *ecdsa.PublicKey) int { return (k.Curve.Params().BitSize + 7) / 8 }

// ECDSADERToRaw converts an ASN.1 ECDSA-Sig-Value (what crypto.Signer and
// goxmldsig produce) to XML-DSig's r||s with each integer padded to size
// octets.
func ECDSADERToRaw(der []byte, size int) ([]byte, error) {
	var v struct{ R, S *big.Int }
	rest, err := asn1.Unmarshal(der, &v)
	if err != nil || len(rest) != 0 || v.R.Sign() <= 0 || v.S.Sign() <= 0 {
		return nil, Errorf(KindSignature, "ECDSA signature is not two positive ASN.1 integers")
	}
	r, s := v.R.Bytes(), v.S.Bytes()
	if len(r) > size || len(s) > size {
		return nil, Errorf(KindSignature, "ECDSA integer longer than %d octets", size)
	}
	out := make([]byte, 2*size)
	copy(out[size-len(r):size], r)
	copy(out[2*size-len(s):], s)
	return out, nil
}

// ECDSARawToDER converts XML-DSig's r||s (two integers of equal width) to
// the ASN.1 ECDSA-Sig-Value that crypto/ecdsa.VerifyASN1 and goxmldsig
// expect.
func ECDSARawToDER(raw []byte) ([]byte, error) {
	if len(raw) == 0 || len(raw)%2 != 0 {
		return nil, Errorf(KindSignature, "ECDSA r||s of odd length %d", len(raw))
	}
	n := len(raw) / 2
	v := struct{ R, S *big.Int }{new(big.Int).SetBytes(raw[:n]), new(big.Int).SetBytes(raw[n:])}
	der, err := asn1.Marshal(v)
	if err != nil {
		return nil, Wrap(KindSignature, err, "encoding ECDSA signature")
	}
	return der, nil
}
