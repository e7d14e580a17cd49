package xmlenc

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

const (
	edValue = "xenc:EncryptedData/xenc:CipherData/xenc:CipherValue"
	ekPath  = "xenc:EncryptedData/ds:KeyInfo/xenc:EncryptedKey"
	ekValue = ekPath + "/xenc:CipherData/xenc:CipherValue"
	samlNS  = `xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"`
)

// forged builds an EncryptedAssertion with this package's own writer from
// chosen parts: the session key that is wrapped for the recipient (of any
// length) and the octets of the EncryptedData's CipherValue.
func forged(t testing.TB, to *pki.Identity, alg Algorithms, pl Placement, key, data []byte) *etree.Element {
	t.Helper()
	ekv, err := wrapKey(alg.KeyTransport, to.Cert.PublicKey.(*rsa.PublicKey), key, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ids := idPair{data: "_d0", key: "_k0"}
	w := (&Encrypter{Placement: pl}).build(wrappers[EncryptedAssertion], alg, recipientOf(to), ids, ekv, data)
	return reparse(t, w)
}

// sealed is forged with data properly encrypted under key.
func sealed(t testing.TB, to *pki.Identity, alg Algorithms, key []byte, plain string) *etree.Element {
	t.Helper()
	dc, _ := dataCipherOf(alg.Data)
	ct, err := sealData(dc, key[:dc.keyLen], []byte(plain), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return forged(t, to, alg, KeyInside, key, ct)
}

// cbcRaw encrypts an already padded plaintext with AES-CBC, IV first.
func cbcRaw(t testing.TB, key, padded []byte) []byte {
	t.Helper()
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]byte, aes.BlockSize+len(padded))
	copy(out, bytes.Repeat([]byte{7}, aes.BlockSize))
	cipher.NewCBCEncrypter(block, out[:aes.BlockSize]).CryptBlocks(out[aes.BlockSize:], padded)
	return out
}

// pad16 pads p to a whole number of blocks with count bytes, then sets
// the last octet to last.
func pad16(p string, last byte) []byte {
	n := aes.BlockSize - len(p)%aes.BlockSize
	b := append([]byte(p), bytes.Repeat([]byte{0xA5}, n)...)
	b[len(b)-1] = last
	return b
}

var (
	gcm256 = Algorithms{RSAOAEPMGF1P, AES256GCM}
	cbc256 = Algorithms{RSAOAEPMGF1P, AES256CBC}
)

// mutate returns a fresh wrapper encrypted for p.RSA, changed by f.
func mutate(t testing.TB, alg Algorithms, pl Placement, f func(w *etree.Element)) *etree.Element {
	t.Helper()
	p := pki.MustGet()
	a := assertionIn(t, readFixture(t, "response.xml"))
	w, err := (&Encrypter{Algorithms: alg, Placement: pl}).Encrypt(a, EncryptedAssertion, recipientOf(p.RSA))
	if err != nil {
		t.Fatal(err)
	}
	w = reparse(t, w)
	f(w)
	return reparse(t, w)
}

// flipByte flips one bit of the octet at i (negative: from the end) of
// the base64 CipherValue at path.
func flipByte(path string, i int) func(*etree.Element) {
	return func(w *etree.Element) {
		cv := w.FindElement(path)
		b, _ := base64.StdEncoding.DecodeString(cv.Text())
		if i < 0 {
			i += len(b)
		}
		b[i] ^= 0x01
		cv.SetText(base64.StdEncoding.EncodeToString(b))
	}
}

func setText(path, text string) func(*etree.Element) {
	return func(w *etree.Element) { w.FindElement(path).SetText(text) }
}

func setAttr(path, key, value string) func(*etree.Element) {
	return func(w *etree.Element) { w.FindElement(path).CreateAttr(key, value) }
}

func remove(path string) func(*etree.Element) {
	return func(w *etree.Element) {
		el := w.FindElement(path)
		el.Parent().RemoveChild(el)
	}
}

func truncateValue(path string, keep int) func(*etree.Element) {
	return func(w *etree.Element) {
		cv := w.FindElement(path)
		b, _ := base64.StdEncoding.DecodeString(cv.Text())
		cv.SetText(base64.StdEncoding.EncodeToString(b[:keep]))
	}
}

type decryptCase struct {
	name string
	w    func(t testing.TB) *etree.Element
	d    func(d *Decrypter)
	want error
}

func decryptFailures() []decryptCase {
	p := pki.MustGet()
	key := bytes.Repeat([]byte{0x42}, 32)
	assertion := `<saml:Assertion ` + samlNS + ` ID="_x" Version="2.0" IssueInstant="2026-11-25T05:54:51Z"><saml:Issuer>i</saml:Issuer></saml:Assertion>`
	m := func(alg Algorithms, pl Placement, f func(*etree.Element)) func(testing.TB) *etree.Element {
		return func(t testing.TB) *etree.Element { return mutate(t, alg, pl, f) }
	}
	s := func(alg Algorithms, k []byte, plain string) func(testing.TB) *etree.Element {
		return func(t testing.TB) *etree.Element { return sealed(t, p.RSA, alg, k, plain) }
	}
	cbc := func(padded []byte) func(testing.TB) *etree.Element {
		return func(t testing.TB) *etree.Element {
			return forged(t, p.RSA, cbc256, KeyInside, key, cbcRaw(t, key, padded))
		}
	}
	nothing := func(*etree.Element) {}
	return []decryptCase{
		{"fail/wrong-key", func(t testing.TB) *etree.Element { return sealed(t, p.ForeignRSA, gcm256, key, assertion) }, nil, xmlsec.ErrDecrypt},
		{"fail/oaep-garbage", m(gcm256, KeyInside, setText(ekValue, base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 256)))), nil, xmlsec.ErrDecrypt},
		{"fail/session-key-too-short", s(gcm256, key[:16], assertion), nil, xmlsec.ErrDecrypt},
		{"fail/session-key-too-long", func(t testing.TB) *etree.Element {
			ct, _ := sealData(dataCipher{16, true}, key[:16], []byte(assertion), rand.Reader)
			return forged(t, p.RSA, Algorithms{RSAOAEPMGF1P, AES128GCM}, KeyInside, key, ct)
		}, nil, xmlsec.ErrDecrypt},
		{"fail/tampered-ciphertext", m(gcm256, KeyInside, flipByte(edValue, 100)), nil, xmlsec.ErrDecrypt},
		{"fail/tampered-tag", m(gcm256, KeyInside, flipByte(edValue, -1)), nil, xmlsec.ErrDecrypt},
		{"fail/tampered-iv", m(gcm256, KeyInside, flipByte(edValue, 0)), nil, xmlsec.ErrDecrypt},
		{"fail/tampered-cbc-ciphertext", m(cbc256, KeyInside, flipByte(edValue, 40)), nil, xmlsec.ErrDecrypt},
		{"fail/cbc-padding-zero", cbc(pad16(assertion, 0)), nil, xmlsec.ErrDecrypt},
		{"fail/cbc-padding-over-block", cbc(pad16(assertion, 17)), nil, xmlsec.ErrDecrypt},
		{"fail/cbc-padding-over-plaintext", cbc(pad16(assertion, 0xFF)), nil, xmlsec.ErrDecrypt},
		{"fail/truncated-gcm", m(gcm256, KeyInside, truncateValue(edValue, 27)), nil, xmlsec.ErrDecrypt},
		{"fail/truncated-gcm-half", m(gcm256, KeyInside, truncateValue(edValue, 2000)), nil, xmlsec.ErrDecrypt},
		{"fail/truncated-cbc-partial-block", m(cbc256, KeyInside, truncateValue(edValue, 100)), nil, xmlsec.ErrDecrypt},
		{"fail/truncated-cbc-whole-blocks", m(cbc256, KeyInside, truncateValue(edValue, 96)), nil, xmlsec.ErrDecrypt},
		{"fail/truncated-key", m(gcm256, KeyInside, truncateValue(ekValue, 128)), nil, xmlsec.ErrDecrypt},
		{"fail/bad-base64", m(gcm256, KeyInside, setText(edValue, "!!!!")), nil, xmlsec.ErrDecrypt},
		{"fail/malformed-plaintext", s(gcm256, key, `<saml:Assertion `+samlNS+`>`), nil, xmlsec.ErrDecrypt},
		{"fail/plaintext-not-xml", s(gcm256, key, "\x00\x01binary"), nil, xmlsec.ErrDecrypt},
		{"fail/plaintext-text-only", s(gcm256, key, "hello"), nil, xmlsec.ErrDecrypt},
		{"fail/plaintext-two-elements", s(gcm256, key, assertion+assertion), nil, xmlsec.ErrDecrypt},
		{"fail/plaintext-comment-beside", s(gcm256, key, assertion+"<!--x-->"), nil, xmlsec.ErrDecrypt},
		{"fail/plaintext-breaks-out-of-context", s(gcm256, key, assertion+"</"+contextTag+"><"+contextTag+">"), nil, xmlsec.ErrDecrypt},
		{"fail/plaintext-doctype", s(gcm256, key, `<!DOCTYPE a [<!ENTITY x "y">]>`+assertion), nil, xmlsec.ErrDecrypt},
		{"fail/plaintext-latin1-declaration", s(gcm256, key, `<?xml version="1.0" encoding="ISO-8859-1"?>`+assertion), nil, xmlsec.ErrDecrypt},
		{"fail/plaintext-unbound-prefix", s(gcm256, key, `<foo:Assertion/>`), nil, xmlsec.ErrDecrypt},
		{"fail/plaintext-wrong-content", s(gcm256, key, `<saml:NameID `+samlNS+`>x</saml:NameID>`), nil, xmlsec.ErrDecrypt},
		{"fail/plaintext-over-limits", s(gcm256, key, assertion), func(d *Decrypter) { d.Limits = xmlsec.Limits{MaxElements: 1} }, xmlsec.ErrDecrypt},
		{"fail/missing-encryptedkey", m(gcm256, KeyInside, remove(ekPath)), nil, xmlsec.ErrDecrypt},
		{"fail/missing-sibling-key", m(gcm256, KeyBeside, remove("xenc:EncryptedKey")), nil, xmlsec.ErrDecrypt},
		{"fail/retrieval-method-points-nowhere", m(gcm256, KeyBeside, func(w *etree.Element) {
			remove("xenc:EncryptedData/ds:KeyInfo/ds:KeyName")(w)
			setAttr("xenc:EncryptedData/ds:KeyInfo/ds:RetrievalMethod", "URI", "#nope")(w)
		}), nil, xmlsec.ErrDecrypt},
		{"fail/two-keys-for-other-recipients", m(gcm256, KeyBeside, twoForOthers), nil, xmlsec.ErrDecrypt},
		{"fail/two-keys-ambiguous", m(gcm256, KeyInside, duplicateNestedKey), nil, xmlsec.ErrDecrypt},
		{"fail/cipher-reference", m(gcm256, KeyInside, func(w *etree.Element) {
			cd := w.FindElement("xenc:EncryptedData/xenc:CipherData")
			cd.RemoveChildAt(0)
			cd.CreateElement("xenc:CipherReference").CreateAttr("URI", "http://127.0.0.1:9/ct")
		}), nil, xmlsec.ErrDecrypt},
		{"fail/type-content", m(gcm256, KeyInside, setAttr("xenc:EncryptedData", "Type", NSXEnc+"Content")), nil, xmlsec.ErrDecrypt},
		{"fail/no-encrypted-data", m(gcm256, KeyInside, remove("xenc:EncryptedData")), nil, xmlsec.ErrDecrypt},
		{"fail/two-encrypted-data", m(gcm256, KeyInside, func(w *etree.Element) {
			w.AddChild(w.SelectElement("EncryptedData").Copy())
		}), nil, xmlsec.ErrDecrypt},
		{"fail/cbc-not-allowed-by-default", m(cbc256, KeyInside, nothing), func(d *Decrypter) { d.DataAlgorithms = nil }, xmlsec.ErrAlgorithm},
		{"fail/gcm-not-allowed", m(gcm256, KeyInside, nothing), func(d *Decrypter) { d.DataAlgorithms = []string{AES128GCM} }, xmlsec.ErrAlgorithm},
		{"fail/rsa-1_5-refused", m(gcm256, KeyInside, setAttr(ekPath+"/xenc:EncryptionMethod", "Algorithm", RSA15)), nil, xmlsec.ErrAlgorithm},
		{"fail/rsa-oaep-11-not-allowed", m(Algorithms{RSAOAEP, AES256GCM}, KeyInside, nothing), func(d *Decrypter) { d.KeyTransports = []string{RSAOAEPMGF1P} }, xmlsec.ErrAlgorithm},
		{"fail/oaep-md5-digest", m(gcm256, KeyInside, func(w *etree.Element) {
			w.FindElement(ekPath+"/xenc:EncryptionMethod").CreateElement("ds:DigestMethod").CreateAttr("Algorithm", "http://www.w3.org/2001/04/xmldsig-more#md5")
		}), nil, xmlsec.ErrAlgorithm},
		{"fail/oaep-unknown-mgf", m(Algorithms{RSAOAEP, AES256GCM}, KeyInside, setAttr(ekPath+"/xenc:EncryptionMethod/xenc11:MGF", "Algorithm", NSXEnc11+"mgf1md5")), nil, xmlsec.ErrAlgorithm},
		{"fail/no-data-encryption-method", m(gcm256, KeyInside, remove("xenc:EncryptedData/xenc:EncryptionMethod")), nil, xmlsec.ErrAlgorithm},
		{"fail/no-key-encryption-method", m(gcm256, KeyInside, remove(ekPath+"/xenc:EncryptionMethod")), nil, xmlsec.ErrAlgorithm},
		{"fail/aes192-gcm-unsupported", m(gcm256, KeyInside, setAttr("xenc:EncryptedData/xenc:EncryptionMethod", "Algorithm", NSXEnc11+"aes192-gcm")), nil, xmlsec.ErrAlgorithm},
		{"fail/zxid-uri-not-allowed-by-default", m(gcm256, KeyInside, setAttr("xenc:EncryptedData/xenc:EncryptionMethod", "Algorithm", ZXIDAES256GCM)), nil, xmlsec.ErrAlgorithm},
		{"fail/cipher-value-over-bound", m(gcm256, KeyInside, nothing), func(d *Decrypter) { d.MaxCipherValue = 1000 }, xmlsec.ErrTooLarge},
		{"fail/key-cipher-value-over-bound", m(gcm256, KeyInside, setText(ekValue, strings.Repeat("A", maxKeyCipherValue+4))), nil, xmlsec.ErrTooLarge},
	}
}

// twoForOthers leaves two sibling EncryptedKeys, each with a Recipient
// that is another entity, and no pointer from the EncryptedData.
func twoForOthers(w *etree.Element) {
	remove("xenc:EncryptedData/ds:KeyInfo/ds:RetrievalMethod")(w)
	remove("xenc:EncryptedData/ds:KeyInfo/ds:KeyName")(w)
	ek := w.SelectElement("EncryptedKey")
	ek.CreateAttr("Recipient", "https://127.0.0.1:9001/other")
	ek2 := ek.Copy()
	ek2.CreateAttr("Id", "_other2")
	ek2.CreateAttr("Recipient", "https://127.0.0.1:9002/other")
	w.AddChild(ek2)
}

// duplicateNestedKey leaves two nested EncryptedKeys that nothing tells
// apart.
func duplicateNestedKey(w *etree.Element) {
	ek := w.FindElement(ekPath)
	ek.RemoveAttr("Recipient")
	ek.RemoveChild(ek.SelectElement("KeyInfo"))
	ek.Parent().AddChild(ek.Copy())
}

func TestDecryptFailures(t *testing.T) {
	p := pki.MustGet()
	for _, c := range decryptFailures() {
		t.Run(c.name, func(t *testing.T) {
			d := decrypterOf(p.RSA)
			if c.d != nil {
				c.d(d)
			}
			got, err := d.Decrypt(c.w(t))
			if err == nil {
				t.Fatalf("decrypted to %s", toBytes(t, got))
			}
			wantKind(t, err, c.want)
		})
	}
}

// TestDecryptFailuresLookAlike is the padding-oracle check: every
// decryption failure, whatever its cause, has the same text and carries
// no cause a caller could forward.
func TestDecryptFailuresLookAlike(t *testing.T) {
	p := pki.MustGet()
	texts := map[string][]string{}
	for _, c := range decryptFailures() {
		if c.want != xmlsec.ErrDecrypt {
			continue
		}
		d := decrypterOf(p.RSA)
		if c.d != nil {
			c.d(d)
		}
		_, err := d.Decrypt(c.w(t))
		if err == nil {
			t.Fatalf("%s: decrypted", c.name)
		}
		var xe *xmlsec.Error
		if !errors.As(err, &xe) || xe.Err != nil || xe.Detail != "" {
			t.Errorf("%s: error %#v carries a cause", c.name, err)
		}
		texts[err.Error()] = append(texts[err.Error()], c.name)
	}
	if len(texts) != 1 {
		t.Fatalf("decryption failures are told apart by their text: %v", texts)
	}
	for text, names := range texts {
		if text != "xmlsec: decryption failed" || len(names) < 30 {
			t.Fatalf("%d failures share the text %q", len(names), text)
		}
	}
}
