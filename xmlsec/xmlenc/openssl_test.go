package xmlenc

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// opensslTool runs the openssl command line in a private directory. It
// fails, never skips, when openssl is missing: make test installs it.
type opensslTool struct {
	t   testing.TB
	dir string
}

func newOpenssl(t testing.TB) *opensslTool {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Fatalf("openssl not found (install Debian package openssl; make test does): %v", err)
	}
	return &opensslTool{t: t, dir: t.TempDir()}
}

func (o *opensslTool) file(name string, data []byte) string {
	o.t.Helper()
	p := filepath.Join(o.dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		o.t.Fatal(err)
	}
	return p
}

func (o *opensslTool) read(name string) []byte {
	o.t.Helper()
	b, err := os.ReadFile(filepath.Join(o.dir, name))
	if err != nil {
		o.t.Fatal(err)
	}
	return b
}

func (o *opensslTool) run(args ...string) {
	o.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "openssl", args...)
	cmd.Dir = o.dir
	if out, err := cmd.CombinedOutput(); err != nil {
		o.t.Fatalf("openssl %v: %v\n%s", args, err, out)
	}
}

// oaepOpts are the pkeyutl options of RSA-OAEP with the given digest and
// MGF1 digest.
func oaepOpts(md, mgf string) []string {
	return []string{"-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:" + md, "-pkeyopt", "rsa_mgf1_md:" + mgf}
}

func writePublicKey(t testing.TB, o *opensslTool, id *pki.Identity) string {
	der, err := x509.MarshalPKIXPublicKey(id.Cert.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return o.file("pub.pem", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// vectorXML is an EncryptedAssertion written by hand, independent of this
// package's writer, around openssl's EncryptedKey and the content.
func vectorXML(keyMethod, dataAlg string, ek, ct []byte) string {
	return `<saml:EncryptedAssertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">` +
		`<xenc:EncryptedData xmlns:xenc="http://www.w3.org/2001/04/xmlenc#" Type="http://www.w3.org/2001/04/xmlenc#Element">` +
		`<xenc:EncryptionMethod Algorithm="` + dataAlg + `"/>` +
		`<ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><xenc:EncryptedKey>` + keyMethod +
		`<xenc:CipherData><xenc:CipherValue>` + base64.StdEncoding.EncodeToString(ek) + `</xenc:CipherValue></xenc:CipherData>` +
		`</xenc:EncryptedKey></ds:KeyInfo>` +
		`<xenc:CipherData><xenc:CipherValue>` + base64.StdEncoding.EncodeToString(ct) + `</xenc:CipherValue></xenc:CipherData>` +
		`</xenc:EncryptedData></saml:EncryptedAssertion>`
}

const (
	oaep11SHA256 = `<xenc:EncryptionMethod Algorithm="http://www.w3.org/2009/xmlenc11#rsa-oaep">` +
		`<ds:DigestMethod xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>` +
		`<xenc11:MGF xmlns:xenc11="http://www.w3.org/2009/xmlenc11#" Algorithm="http://www.w3.org/2009/xmlenc11#mgf1sha256"/></xenc:EncryptionMethod>`
	oaep11MGF1SHA1 = `<xenc:EncryptionMethod Algorithm="http://www.w3.org/2009/xmlenc11#rsa-oaep">` +
		`<ds:DigestMethod xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>` +
		`<xenc11:MGF xmlns:xenc11="http://www.w3.org/2009/xmlenc11#" Algorithm="http://www.w3.org/2009/xmlenc11#mgf1sha1"/></xenc:EncryptionMethod>`
	mgf1pSHA256 = `<xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p">` +
		`<ds:DigestMethod xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/></xenc:EncryptionMethod>`
)

// TestWeDecryptOpensslVectors covers xmlenc11#rsa-oaep, which Debian's
// xmlsec1 1.2.37 lacks: openssl pkeyutl encrypts the session key
// (RSA-OAEP with SHA-256 and MGF1-SHA256), openssl enc encrypts the CBC
// content and this package's GCM the GCM content.
func TestWeDecryptOpensslVectors(t *testing.T) {
	p := pki.MustGet()
	o := newOpenssl(t)
	pub := writePublicKey(t, o, p.RSA)
	plain := serializedAssertion(t)
	cases := []struct {
		name, method, data, md, mgf string
		want                        error
	}{
		{"ok/rsa-oaep-sha256-mgf1sha256/aes256-gcm", oaep11SHA256, AES256GCM, "sha256", "sha256", nil},
		{"ok/rsa-oaep-sha256-mgf1sha256/aes128-gcm", oaep11SHA256, AES128GCM, "sha256", "sha256", nil},
		{"ok/rsa-oaep-sha256-mgf1sha256/aes256-cbc-openssl-enc", oaep11SHA256, AES256CBC, "sha256", "sha256", nil},
		{"ok/rsa-oaep-sha256-mgf1sha1/aes256-gcm", oaep11MGF1SHA1, AES256GCM, "sha256", "sha1", nil},
		{"ok/rsa-oaep-mgf1p-digest-sha256/aes256-gcm", mgf1pSHA256, AES256GCM, "sha256", "sha1", nil},
		{"fail/mgf-declared-differs-from-used", oaep11MGF1SHA1, AES256GCM, "sha256", "sha256", xmlsec.ErrDecrypt},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dc, _ := dataCipherOf(c.data)
			key := make([]byte, dc.keyLen)
			rand.Read(key)
			o.file("key.bin", key)
			o.run(append([]string{"pkeyutl", "-encrypt", "-pubin", "-inkey", pub, "-in", "key.bin", "-out", "ek.bin"}, oaepOpts(c.md, c.mgf)...)...)
			ct := contentFor(t, o, dc, key, plain)
			w, err := xmlsec.ParseElement([]byte(vectorXML(c.method, c.data, o.read("ek.bin"), ct)), xmlsec.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			got, err := decrypterOf(p.RSA).Decrypt(w)
			if c.want != nil {
				wantKind(t, err, c.want)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			sameElement(t, got, readFixture(t, "response.xml").Root().SelectElement("saml:Assertion"))
		})
	}
}

// serializedAssertion is the fixture assertion as this package would
// encrypt it.
func serializedAssertion(t testing.TB) []byte {
	b, err := serialize(assertionIn(t, readFixture(t, "response.xml")))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// contentFor encrypts plain: CBC with openssl enc (PKCS#7 padding, which
// XML Encryption's padding rule accepts), GCM with this package.
func contentFor(t testing.TB, o *opensslTool, dc dataCipher, key, plain []byte) []byte {
	if dc.gcm {
		ct, err := sealData(dc, key, plain, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return ct
	}
	iv := make([]byte, aes.BlockSize)
	rand.Read(iv)
	o.file("plain.xml", plain)
	o.run("enc", "-aes-256-cbc", "-K", hex.EncodeToString(key), "-iv", hex.EncodeToString(iv), "-in", "plain.xml", "-out", "ct.bin")
	return append(iv, o.read("ct.bin")...)
}

// TestOpensslDecryptsOurs has openssl undo our encryption step by step:
// pkeyutl recovers the session key from our xmlenc11#rsa-oaep
// EncryptedKey, then openssl enc decrypts our CBC content, or the Go
// standard library our GCM content, with that key.
func TestOpensslDecryptsOurs(t *testing.T) {
	p := pki.MustGet()
	o := newOpenssl(t)
	_, keyPath, err := p.RSA.WriteFiles(o.dir)
	if err != nil {
		t.Fatal(err)
	}
	want := serializedAssertion(t)
	for _, data := range []string{AES256CBC, AES256GCM} {
		t.Run("ok/rsa-oaep-sha256-mgf1sha256/"+short(data), func(t *testing.T) {
			a := assertionIn(t, readFixture(t, "response.xml"))
			w, err := (&Encrypter{Algorithms: Algorithms{RSAOAEP, data}}).Encrypt(a, EncryptedAssertion, recipientOf(p.RSA))
			if err != nil {
				t.Fatal(err)
			}
			ek, _ := base64.StdEncoding.DecodeString(w.FindElement(ekValue).Text())
			ct, _ := base64.StdEncoding.DecodeString(w.FindElement(edValue).Text())
			o.file("ek.bin", ek)
			o.run(append([]string{"pkeyutl", "-decrypt", "-inkey", keyPath, "-in", "ek.bin", "-out", "key.bin"}, oaepOpts("sha256", "sha256")...)...)
			key := o.read("key.bin")
			got := openWithoutUs(t, o, data, key, ct)
			if !bytes.Equal(got, want) {
				t.Fatalf("plaintext differs:\n got %.200q\nwant %.200q", got, want)
			}
		})
	}
}

// openWithoutUs decrypts content with openssl enc (CBC) or crypto/cipher
// (GCM), not with this package.
func openWithoutUs(t testing.TB, o *opensslTool, data string, key, ct []byte) []byte {
	if strings.HasSuffix(data, "-cbc") {
		o.file("ct.bin", ct[aes.BlockSize:])
		o.run("enc", "-d", "-aes-256-cbc", "-K", hex.EncodeToString(key), "-iv", hex.EncodeToString(ct[:aes.BlockSize]), "-in", "ct.bin", "-out", "plain.bin")
		return o.read("plain.bin")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	g, _ := cipher.NewGCM(block)
	plain, err := g.Open(nil, ct[:12], ct[12:], nil)
	if err != nil {
		t.Fatal(err)
	}
	return plain
}
