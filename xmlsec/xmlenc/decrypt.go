package xmlenc

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"io"
	"slices"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/wire"
)

// Size bounds checked on the base64 text, before anything is decoded.
const (
	// DefaultMaxCipherValue is the default bound of an EncryptedData's
	// CipherValue: an encrypted assertion is a few KB, and 1 MiB is the
	// whole-message bound of xmlsec.DefaultLimits.
	DefaultMaxCipherValue = 1 << 20
	// maxKeyCipherValue bounds an EncryptedKey's CipherValue: an RSA-16384
	// ciphertext is 2732 base64 characters.
	maxKeyCipherValue = 4096
)

// Decrypter decrypts SAML encrypted elements with an RSA private key.
//
// Every decryption failure (RSA-OAEP decoding, a session key of the wrong
// size, a wrong key, a GCM tag or CBC padding failure, a plaintext that is
// not exactly one well-formed element of the kind the wrapper holds, a
// missing or ambiguous EncryptedKey, bad base64) is the same error,
// xmlsec.ErrDecrypt, with the same text and no cause, and the steps after
// a failed one still run on substitute values, so that neither the error
// nor the time before it tells a padding oracle anything (XML Encryption
// 1.1, Security Considerations: error messages, timing attacks; SAML2.md
// §10). Refusals by policy, which depend only on what
// the message declares, are told apart: an algorithm not allowed is
// xmlsec.ErrAlgorithm and a CipherValue over the size bound is
// xmlsec.ErrTooLarge.
//
// CBC cannot be made safe by the decrypter alone: a caller that answers
// differently once the plaintext is well-formed (a signature check that
// fails, say) is still an oracle (Jager and Somorovsky, CCS 2011). This is
// why AES-GCM is the default on both sides and CBC must be allowed per
// peer.
type Decrypter struct {
	// Key is the RSA private key of the recipient: an *rsa.PrivateKey or a
	// card or HSM key behind crypto.Decrypter that accepts *rsa.OAEPOptions.
	Key crypto.Decrypter
	// EntityID is the recipient's entityID. When set, an EncryptedKey whose
	// Recipient names another entity is never used.
	EntityID string
	// KeyTransports allowed; nil means DefaultKeyTransports.
	KeyTransports []string
	// DataAlgorithms allowed; nil means DefaultDataAlgorithms (GCM only).
	DataAlgorithms []string
	// Limits bound the parse of the plaintext; zero fields take
	// xmlsec.DefaultLimits.
	Limits xmlsec.Limits
	// MaxCipherValue bounds the base64 text of the EncryptedData's
	// CipherValue; 0 means DefaultMaxCipherValue.
	MaxCipherValue int
	// Rand is the source of substitute keys; nil is crypto/rand.
	Rand io.Reader
}

// message is what an encrypted element says, read and checked against
// the policy before any decryption.
type message struct {
	data    dataCipher
	ct      []byte
	oaep    oaepParams
	keyCT   []byte
	wrapper *etree.Element
}

// Decrypt decrypts el, which is a wrapper (saml:EncryptedAssertion,
// saml:EncryptedID, samlp:NewEncryptedID, saml:EncryptedAttribute or any
// element holding one xenc:EncryptedData) or the xenc:EncryptedData
// itself. The EncryptedKey is taken from EncryptedData/ds:KeyInfo or from
// beside the EncryptedData in the wrapper (see selectKey). It returns the
// decrypted element, detached, declaring the namespaces it inherited from
// the wrapper's context. For a SAML wrapper, the element is checked to be
// what the wrapper may hold (SAML core §2.2.4, §2.3.4, §2.7.3.2, §3.6.1).
// el is not modified.
func (d *Decrypter) Decrypt(el *etree.Element) (*etree.Element, error) {
	if err := d.checkKey(); err != nil {
		return nil, err
	}
	m, err := d.read(el)
	if err != nil {
		return nil, err
	}
	return d.open(m)
}

// checkKey refuses a Decrypter without an RSA key: a configuration
// mistake, reported as such.
func (d *Decrypter) checkKey() error {
	if d.Key == nil {
		return xmlsec.Errorf(xmlsec.KindAlgorithm, "Decrypter has no key")
	}
	if _, ok := d.Key.Public().(*rsa.PublicKey); !ok {
		return xmlsec.Errorf(xmlsec.KindAlgorithm, "Decrypter key is %T, not RSA", d.Key.Public())
	}
	return nil
}

// read locates the EncryptedData and its EncryptedKey and checks every
// algorithm and size before anything is decrypted.
func (d *Decrypter) read(el *etree.Element) (*message, error) {
	ed, err := locate(el)
	if err != nil {
		return nil, err
	}
	m := &message{wrapper: ed.Parent()}
	if m.data, err = d.readDataMethod(ed); err != nil {
		return nil, err
	}
	if m.ct, err = readCipherValue(ed, d.maxCipherValue()); err != nil {
		return nil, err
	}
	ek, err := d.selectKey(ed, m.wrapper)
	if err != nil {
		return nil, err
	}
	if m.oaep, err = d.readKeyMethod(ek); err != nil {
		return nil, err
	}
	m.keyCT, err = readCipherValue(ek, maxKeyCipherValue)
	return m, err
}

// locate returns the EncryptedData of el: el itself, or its one
// xenc:EncryptedData child. The Type, when present, must be Element: a
// Content plaintext is not an element to return.
func locate(el *etree.Element) (*etree.Element, error) {
	ed := el
	if !wire.Is(el, NSXEnc, "EncryptedData") {
		var err error
		if ed, err = required(el, NSXEnc, "EncryptedData"); err != nil {
			return nil, err
		}
	}
	if t := ed.SelectAttr("Type"); t != nil && t.Value != TypeElement {
		return nil, errDecrypt()
	}
	return ed, nil
}

// readDataMethod checks the EncryptedData's EncryptionMethod against the
// allowed block encryptions. The method is required: this package never
// guesses one from context.
func (d *Decrypter) readDataMethod(ed *etree.Element) (dataCipher, error) {
	em, err := only(ed, NSXEnc, "EncryptionMethod")
	if err != nil {
		return dataCipher{}, err
	}
	alg := ""
	if em != nil {
		alg = em.SelectAttrValue("Algorithm", "")
	}
	allowed := d.DataAlgorithms
	if allowed == nil {
		allowed = DefaultDataAlgorithms()
	}
	dc, known := dataCipherOf(alg)
	if !known || !slices.Contains(allowed, alg) {
		return dataCipher{}, xmlsec.Errorf(xmlsec.KindAlgorithm, "block encryption %.120q", alg)
	}
	return dc, nil
}

// readKeyMethod checks the EncryptedKey's EncryptionMethod.
func (d *Decrypter) readKeyMethod(ek *etree.Element) (oaepParams, error) {
	em, err := only(ek, NSXEnc, "EncryptionMethod")
	if err != nil {
		return oaepParams{}, err
	}
	if em == nil {
		return oaepParams{}, xmlsec.Errorf(xmlsec.KindAlgorithm, "EncryptedKey names no key transport")
	}
	allowed := d.KeyTransports
	if allowed == nil {
		allowed = DefaultKeyTransports()
	}
	return readOAEP(em, allowed)
}

// readCipherValue decodes the CipherValue of el within maxChars.
func readCipherValue(el *etree.Element, maxChars int) ([]byte, error) {
	cv, err := cipherValue(el)
	if err != nil {
		return nil, err
	}
	return decodeBase64(cv, maxChars)
}

func (d *Decrypter) maxCipherValue() int {
	if d.MaxCipherValue > 0 {
		return d.MaxCipherValue
	}
	return DefaultMaxCipherValue
}

func (d *Decrypter) rand() io.Reader {
	if d.Rand != nil {
		return d.Rand
	}
	return rand.Reader
}

// open runs every decryption step whatever the previous one gave, then
// reports one uniform error if any step failed.
func (d *Decrypter) open(m *message) (*etree.Element, error) {
	key, keyOK, err := unwrapKey(d.Key, m.oaep, m.keyCT, m.data.keyLen, d.rand())
	if err != nil {
		return nil, errDecrypt()
	}
	plain, dataOK := openData(m.data, key, m.ct)
	el, parseOK := parseInContext(plain, inScope(m.wrapper), d.Limits)
	contentOK := 1
	if wi, ok := wrapperOf(m.wrapper); ok && (el == nil || !wi.holds(el)) {
		contentOK = 0
	}
	if keyOK&dataOK&parseOK&contentOK != 1 {
		return nil, errDecrypt()
	}
	return el, nil
}
