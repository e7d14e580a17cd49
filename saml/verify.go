package saml

import (
	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
	"github.com/renkei-idwsf/renkei/xmlsec/xmlenc"
)

// VerifyAssertion checks the enveloped signature of a saml:Assertion with
// v (the issuer's trusted keys and the algorithm policy) and decodes what
// was signed: the only way this package reads an assertion. The returned
// element is the verified standalone copy, for a caller that must keep or
// forward the token exactly as signed. Signature failures are the
// *xmlsec.Error kinds of dsig.Verifier.Verify; a signed element that is not
// a well-formed assertion is xmlsec.ErrMalformed or a *saml.Error.
func VerifyAssertion(el *etree.Element, v *dsig.Verifier) (*Assertion, *etree.Element, error) {
	if el == nil {
		return nil, nil, xmlsec.Errorf(xmlsec.KindNoSignature, "no assertion")
	}
	if !isAssertion(el) {
		return nil, nil, xmlsec.Errorf(xmlsec.KindMalformed, "element is not a saml:Assertion")
	}
	signed, err := v.Verify(el)
	if err != nil {
		return nil, nil, err
	}
	a, err := decodeAssertion(signed)
	if err != nil {
		return nil, nil, err
	}
	return a, signed, nil
}

func isAssertion(el *etree.Element) bool {
	return el.Tag == "Assertion" && el.NamespaceURI() == NS
}

// SignAssertion renders a and signs it with s: the signed saml:Assertion
// element, ready to be sent or wrapped.
func SignAssertion(a *Assertion, s *dsig.Signer) (*etree.Element, error) {
	return s.Sign(a.Element())
}

// Decrypt decrypts the EncryptedID with d (the recipient's key) and reads
// the saml:NameID inside. The EncryptedID must come from a verified
// assertion: the ciphertext was signed, so its plaintext is too. Every
// decryption failure is xmlsec.ErrDecrypt; a plaintext that is not a
// NameID is xmlsec.ErrMalformed.
func (e *EncryptedID) Decrypt(d *xmlenc.Decrypter) (*NameID, error) {
	if e == nil || e.Element == nil {
		return nil, Errorf(KindSubject, "no EncryptedID")
	}
	plain, err := d.Decrypt(e.Element)
	if err != nil {
		return nil, err
	}
	if plain.Tag != "NameID" || plain.NamespaceURI() != NS {
		return nil, xmlsec.Errorf(xmlsec.KindMalformed, "EncryptedID does not hold a saml:NameID")
	}
	return decodeNameID(plain)
}

// EncryptNameID encrypts n for the recipient to into a saml:EncryptedID
// (SAML Core §2.2.4).
func EncryptNameID(n *NameID, enc *xmlenc.Encrypter, to xmlenc.Recipient) (*EncryptedID, error) {
	el, err := enc.Encrypt(n.Element(), xmlenc.EncryptedID, to)
	if err != nil {
		return nil, err
	}
	return &EncryptedID{Element: el}, nil
}
