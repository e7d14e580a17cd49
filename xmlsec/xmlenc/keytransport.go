package xmlenc

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"hash"
	"io"
	"slices"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/xmlsec"
)

// wrapKey encrypts the session key for the recipient with RSA-OAEP:
// SHA-1 and MGF1-SHA1 for rsa-oaep-mgf1p, SHA-256 and MGF1-SHA256 for
// xmlenc11#rsa-oaep (XML Encryption 1.1 §5.5.2), no OAEPparams.
func wrapKey(kt string, pub *rsa.PublicKey, key []byte, rnd io.Reader) ([]byte, error) {
	var h hash.Hash
	switch kt {
	case RSAOAEPMGF1P:
		h = sha1.New()
	case RSAOAEP:
		h = sha256.New()
	default:
		return nil, xmlsec.Errorf(xmlsec.KindAlgorithm, "key transport %q not sent", kt)
	}
	return rsa.EncryptOAEP(h, rnd, pub, key, nil)
}

// keyTransportMethod writes the EncryptionMethod of an EncryptedKey. The
// mgf1p form carries no DigestMethod (SHA-1 is implied), which is what
// ZXID, Lasso and xmlsec1 write; the 1.1 form names both functions.
func keyTransportMethod(kt string) *etree.Element {
	em := etree.NewElement("xenc:EncryptionMethod")
	em.CreateAttr("Algorithm", kt)
	if kt == RSAOAEP {
		em.CreateElement("ds:DigestMethod").CreateAttr("Algorithm", SHA256)
		mgf := em.CreateElement("xenc11:MGF")
		mgf.CreateAttr("xmlns:xenc11", NSXEnc11)
		mgf.CreateAttr("Algorithm", MGF1SHA256)
	}
	return em
}

// oaepParams are the RSA-OAEP parameters an EncryptedKey names.
type oaepParams struct {
	hash, mgf crypto.Hash
	label     []byte
}

// maxLabelChars bounds the base64 text of xenc:OAEPparams.
const maxLabelChars = 1024

// readOAEP reads the EncryptionMethod of an EncryptedKey and checks it
// against the allowed key transports. A missing EncryptionMethod, an
// algorithm outside the list or an unknown digest or MGF is ErrAlgorithm:
// the message says what it uses, so refusing it reveals nothing.
func readOAEP(em *etree.Element, allowed []string) (oaepParams, error) {
	alg := em.SelectAttrValue("Algorithm", "")
	if !slices.Contains(allowed, alg) {
		return oaepParams{}, xmlsec.Errorf(xmlsec.KindAlgorithm, "key transport %.120q", alg)
	}
	p := oaepParams{hash: crypto.SHA1, mgf: crypto.SHA1}
	var err error
	if p.hash, err = readDigest(em); err != nil {
		return oaepParams{}, err
	}
	if alg == RSAOAEP {
		if p.mgf, err = readMGF(em); err != nil {
			return oaepParams{}, err
		}
	}
	if p.label, err = readLabel(em); err != nil {
		return oaepParams{}, err
	}
	return p, nil
}

// readDigest reads ds:DigestMethod; absent means SHA-1 (XML Encryption 1.1
// §5.5.2).
func readDigest(em *etree.Element) (crypto.Hash, error) {
	dm, err := only(em, NSDSig, "DigestMethod")
	if err != nil || dm == nil {
		return crypto.SHA1, err
	}
	alg := dm.SelectAttrValue("Algorithm", "")
	h, ok := digestOf(alg)
	if !ok {
		return 0, xmlsec.Errorf(xmlsec.KindAlgorithm, "OAEP digest %.120q", alg)
	}
	return h, nil
}

// readMGF reads xenc11:MGF; absent means MGF1 with SHA-1 (§5.5.2).
func readMGF(em *etree.Element) (crypto.Hash, error) {
	m, err := only(em, NSXEnc11, "MGF")
	if err != nil || m == nil {
		return crypto.SHA1, err
	}
	alg := m.SelectAttrValue("Algorithm", "")
	h, ok := mgfOf(alg)
	if !ok {
		return 0, xmlsec.Errorf(xmlsec.KindAlgorithm, "OAEP mask generation %.120q", alg)
	}
	return h, nil
}

// readLabel reads the optional xenc:OAEPparams (the OAEP label).
func readLabel(em *etree.Element) ([]byte, error) {
	lp, err := only(em, NSXEnc, "OAEPparams")
	if err != nil || lp == nil {
		return nil, err
	}
	return decodeBase64(lp, maxLabelChars)
}

// unwrapKey decrypts the session key. Whatever goes wrong (the OAEP
// decoding, a key of the wrong length for the block cipher) it returns a
// random key of the right length and 0 instead of stopping, so that the
// block decryption runs and fails the same way it would for a wrong key:
// the time to the one uniform error does not say which step refused.
func unwrapKey(dec crypto.Decrypter, p oaepParams, ct []byte, keyLen int, rnd io.Reader) ([]byte, int, error) {
	substitute := make([]byte, keyLen)
	if _, err := io.ReadFull(rnd, substitute); err != nil {
		return nil, 0, err
	}
	opts := &rsa.OAEPOptions{Hash: p.hash, MGFHash: p.mgf, Label: p.label}
	key, err := dec.Decrypt(rnd, ct, opts)
	ok := 0
	if err == nil {
		ok = subtle.ConstantTimeEq(int32(len(key)), int32(keyLen))
	}
	if ok == 1 {
		copy(substitute, key)
	}
	return substitute, ok, nil
}
