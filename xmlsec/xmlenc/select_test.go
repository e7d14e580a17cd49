package xmlenc

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha512"
	"encoding/base64"
	"testing"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// TestDecryptFindsTheKey covers the forms of SAML core §2.2.4 and what
// ZXID, Lasso and Shibboleth send: where the EncryptedKey is and how the
// right one is picked among several.
func TestDecryptFindsTheKey(t *testing.T) {
	p := pki.MustGet()
	cases := []struct {
		name string
		pl   Placement
		f    func(w *etree.Element)
	}{
		{"ok/nested", KeyInside, func(*etree.Element) {}},
		{"ok/beside-by-retrieval-method", KeyBeside, remove("xenc:EncryptedData/ds:KeyInfo/ds:KeyName")},
		{"ok/beside-by-keyname-carriedkeyname", KeyBeside, remove("xenc:EncryptedData/ds:KeyInfo/ds:RetrievalMethod")},
		{"ok/beside-single-without-pointer-or-recipient", KeyBeside, func(w *etree.Element) {
			remove("xenc:EncryptedData/ds:KeyInfo")(w)
			w.SelectElement("EncryptedKey").RemoveAttr("Recipient")
		}},
		{"ok/beside-picked-by-recipient-among-three", KeyBeside, func(w *etree.Element) {
			remove("xenc:EncryptedData/ds:KeyInfo")(w)
			addForeignKeys(t, w, "https://127.0.0.1:9001/other", "")
		}},
		{"ok/nested-picked-by-certificate", KeyInside, func(w *etree.Element) {
			w.FindElement(ekPath).RemoveAttr("Recipient")
			addForeignKeys(t, w.FindElement("xenc:EncryptedData/ds:KeyInfo"), "")
		}},
		{"ok/beside-picked-by-reference-list", KeyBeside, func(w *etree.Element) {
			remove("xenc:EncryptedData/ds:KeyInfo")(w)
			ek := w.SelectElement("EncryptedKey")
			ek.RemoveAttr("Recipient")
			other := ek.Copy()
			other.FindElement("xenc:ReferenceList/xenc:DataReference").CreateAttr("URI", "#_elsewhere")
			w.InsertChildAt(1, other)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := mutate(t, gcm256, c.pl, c.f)
			got, err := decrypterOf(p.RSA).Decrypt(w)
			if err != nil {
				t.Fatal(err)
			}
			sameElement(t, got, assertionIn(t, readFixture(t, "response.xml")))
		})
	}
}

// addForeignKeys adds to parent one EncryptedKey per recipient entity
// ("" for none), each holding a random key for the foreign test identity
// and its certificate.
func addForeignKeys(t testing.TB, parent *etree.Element, recipients ...string) {
	p := pki.MustGet()
	key := make([]byte, 32)
	for i, r := range recipients {
		ekv, err := wrapKey(RSAOAEPMGF1P, p.ForeignRSA.Cert.PublicKey.(*rsa.PublicKey), key, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		ek := encryptedKey(gcm256, Recipient{EntityID: r, Cert: p.ForeignRSA.Cert}, idPair{"_none", "_f" + string(rune('a'+i))}, ekv, false)
		ek.FindElement("xenc:ReferenceList").Parent().RemoveChild(ek.FindElement("xenc:ReferenceList"))
		parent.InsertChildAt(0, ek)
	}
}

// TestDecryptInWrapperContext decrypts the way xmlsec1 encrypts: the
// plaintext uses the prefixes saml, xs and xsi without declaring them,
// because they are declared on the samlp:Response around the wrapper.
func TestDecryptInWrapperContext(t *testing.T) {
	p := pki.MustGet()
	plain := `<saml:Assertion ID="_c" Version="2.0" IssueInstant="2026-11-25T05:54:51Z"><saml:Issuer>i</saml:Issuer>` +
		`<saml:AttributeStatement><saml:Attribute Name="n"><saml:AttributeValue xsi:type="xs:string">v</saml:AttributeValue></saml:Attribute></saml:AttributeStatement></saml:Assertion>`
	key := bytes.Repeat([]byte{9}, 32)
	w := sealed(t, p.RSA, gcm256, key, plain)
	w.RemoveAttr("xmlns:saml")
	doc := readFixture(t, "response.xml")
	a := assertionIn(t, doc)
	wire := replaceInDoc(t, doc, a, w)
	got, err := decrypterOf(p.RSA).Decrypt(wire)
	if err != nil {
		t.Fatal(err)
	}
	if got.NamespaceURI() != NSSAML || got.Tag != "Assertion" {
		t.Fatalf("decrypted {%s}%s", got.NamespaceURI(), got.Tag)
	}
	alone := reparse(t, got)
	v := alone.FindElement(".//saml:AttributeValue")
	if v == nil || v.SelectAttr("xsi:type").NamespaceURI() != "http://www.w3.org/2001/XMLSchema-instance" {
		t.Fatal("xsi not declared on the detached element")
	}
	if alone.SelectAttrValue("xmlns:xs", "") != "http://www.w3.org/2001/XMLSchema" {
		t.Fatal("xs, used only in xsi:type's value, not declared on the detached element")
	}
	t.Run("fail/without-the-context", func(t *testing.T) {
		// A detached copy: no ancestor declares saml, as in a document that
		// xmlsec.Parse would not even accept.
		_, err := decrypterOf(p.RSA).Decrypt(w.Copy())
		wantKind(t, err, xmlsec.ErrDecrypt)
	})
}

func TestDecryptOtherShapes(t *testing.T) {
	p := pki.MustGet()
	key := bytes.Repeat([]byte{3}, 32)
	assertion := `<saml:Assertion ` + samlNS + ` ID="_x" Version="2.0" IssueInstant="2026-11-25T05:54:51Z"><saml:Issuer>i</saml:Issuer></saml:Assertion>`
	t.Run("ok/encrypted-data-given-directly", func(t *testing.T) {
		w := sealed(t, p.RSA, gcm256, key, assertion)
		if _, err := decrypterOf(p.RSA).Decrypt(w.SelectElement("EncryptedData")); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("ok/xml-declaration-and-bom-in-plaintext", func(t *testing.T) {
		w := sealed(t, p.RSA, gcm256, key, "\xef\xbb\xbf<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"+assertion+"\n")
		if _, err := decrypterOf(p.RSA).Decrypt(w); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("ok/cbc-padding-octets-arbitrary", func(t *testing.T) {
		k := key[:32]
		padded := pad16(assertion, byte(16-len(assertion)%16))
		w := forged(t, p.RSA, cbc256, KeyInside, k, cbcRaw(t, k, padded))
		if _, err := decrypterOf(p.RSA).Decrypt(w); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("ok/oaep-label-and-sha512-digest", func(t *testing.T) {
		w := sealed(t, p.RSA, gcm256, key, assertion)
		label := []byte("renkei")
		ekv, err := rsa.EncryptOAEP(sha512.New(), rand.Reader, p.RSA.Cert.PublicKey.(*rsa.PublicKey), key, label)
		if err != nil {
			t.Fatal(err)
		}
		em := w.FindElement(ekPath + "/xenc:EncryptionMethod")
		em.CreateElement("xenc:OAEPparams").SetText(base64.StdEncoding.EncodeToString(label))
		em.CreateElement("ds:DigestMethod").CreateAttr("Algorithm", SHA512)
		w.FindElement(ekValue).SetText(base64.StdEncoding.EncodeToString(ekv))
		d := decrypterOf(p.RSA)
		d.KeyTransports = []string{RSAOAEPMGF1P}
		if _, err := d.Decrypt(reparse(t, w)); err == nil {
			t.Fatal("mgf1p with SHA-512 digest but MGF1-SHA1 decrypted a SHA-512/MGF1-SHA512 key")
		}
		em.SelectAttr("Algorithm").Value = RSAOAEP
		em.CreateElement("xenc11:MGF").CreateAttr("Algorithm", MGF1SHA512)
		em.SelectElement("MGF").CreateAttr("xmlns:xenc11", NSXEnc11)
		d.KeyTransports = nil
		if _, err := d.Decrypt(reparse(t, w)); err != nil {
			t.Fatal(err)
		}
	})
}
