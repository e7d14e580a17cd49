package xmlenc

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// zxidWSP is the entity the captured ZXID token was minted for.
const zxidWSP = "http://127.0.0.1:8081/zxididp?o=B"

// zxidIV is the GCM IV ZXID 1.43 puts in front of every ciphertext: the
// first 12 octets of its ZX_DEFAULT_IV constant (its session keys are
// fresh per message, so the fixed IV does not repeat a key and nonce).
const zxidIV = "ZX_DEFAULT_I"

// TestZXIDCapturedToken reads the EncryptedAssertion ZXID 1.43 sent on the
// wire. The ZXID server's private key is not among the captures, so the
// token can be taken only as far as the RSA step; then the same bytes,
// with the two CipherValues replaced by an encryption of a plaintext
// assertion ZXID logged, are decrypted in full with the test key.
func TestZXIDCapturedToken(t *testing.T) {
	p := pki.MustGet()
	zxidProfile := func(id *pki.Identity) *Decrypter {
		return &Decrypter{Key: id.Key.(*rsa.PrivateKey), EntityID: zxidWSP, DataAlgorithms: []string{ZXIDAES256GCM, AES256GCM}}
	}
	t.Run("fail/non-standard-gcm-uri-refused-by-default", func(t *testing.T) {
		_, err := (&Decrypter{Key: p.RSA.Key.(*rsa.PrivateKey)}).Decrypt(readFixture(t, "zxid/zxid-12-token.xml").Root())
		wantKind(t, err, xmlsec.ErrAlgorithm)
	})
	t.Run("fail/zxid-profile-but-not-the-recipient-key", func(t *testing.T) {
		token := readFixture(t, "zxid/zxid-12-token.xml").Root()
		m, err := zxidProfile(p.RSA).read(token)
		if err != nil {
			t.Fatalf("the captured token does not get as far as the RSA step: %v", err)
		}
		if len(m.keyCT) != 256 || len(m.ct) != 5175 || !m.data.gcm || m.oaep.hash != crypto.SHA1 {
			t.Fatalf("read %d key octets, %d data octets, %+v", len(m.keyCT), len(m.ct), m.data)
		}
		_, err = zxidProfile(p.RSA).Decrypt(token)
		wantKind(t, err, xmlsec.ErrDecrypt)
	})
	t.Run("ok/zxid-wire-layout-reencrypted-for-the-test-key", func(t *testing.T) {
		token := readFixture(t, "zxid/zxid-12-token.xml").Root()
		plain, err := os.ReadFile(filepath.Join("testdata", "zxid", "a7n.xml"))
		if err != nil {
			t.Fatal(err)
		}
		reencryptZXID(t, token, p.RSA, plain)
		got, err := zxidProfile(p.RSA).Decrypt(reparse(t, token))
		if err != nil {
			t.Fatal(err)
		}
		sameElement(t, got, readFixture(t, "zxid/a7n.xml").Root())
	})
}

// reencryptZXID replaces the CipherValues of a ZXID token with plain
// encrypted as ZXID does: a fresh AES-256 key under rsa-oaep-mgf1p, and
// AES-256-GCM with ZXID's IV in front and the tag at the end.
func reencryptZXID(t testing.TB, token *etree.Element, to *pki.Identity, plain []byte) {
	t.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	ek, err := rsa.EncryptOAEP(sha1.New(), rand.Reader, to.Cert.PublicKey.(*rsa.PublicKey), key, nil)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := aes.NewCipher(key)
	g, _ := cipher.NewGCM(block)
	ct := g.Seal([]byte(zxidIV), []byte(zxidIV), plain, nil)
	set := func(path string, b []byte) {
		el := token.FindElement(path)
		if el == nil {
			t.Fatalf("ZXID token has no %s", path)
		}
		el.SetText(base64.StdEncoding.EncodeToString(b))
	}
	set("xenc:EncryptedData/ds:KeyInfo/xenc:EncryptedKey/xenc:CipherData/xenc:CipherValue", ek)
	set("xenc:EncryptedData/xenc:CipherData/xenc:CipherValue", ct)
}

// TestLassoCapturedToken reads the EncryptedID of Lasso 2.7's bootstrap
// token: its key transport is RSA PKCS#1 v1.5, which is refused by policy
// before anything is decrypted, even with CBC allowed.
func TestLassoCapturedToken(t *testing.T) {
	p := pki.MustGet()
	doc := readFixture(t, "lasso/lasso-00-bootstrap-epr.xml")
	encID := doc.FindElement("//saml:EncryptedID")
	if encID == nil {
		t.Fatal("capture has no saml:EncryptedID")
	}
	d := &Decrypter{Key: p.RSA.Key.(*rsa.PrivateKey), DataAlgorithms: LegacyDataAlgorithms()}
	_, err := d.Decrypt(encID)
	wantKind(t, err, xmlsec.ErrAlgorithm)
}
