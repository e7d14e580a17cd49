package xmlenc

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

var update = flag.Bool("update", false, "rewrite the fuzz seed corpus in testdata")

const seedDir = "testdata/fuzz/FuzzDecrypt"

// fuzzKey is the fixed key the seed corpus is encrypted for, so that a
// seed or a crasher found by the fuzzer decrypts the same in every run.
func fuzzKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "fuzz-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatal("testdata/fuzz-key.pem holds no PEM block")
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return k.(*rsa.PrivateKey)
}

// fuzzDecrypter accepts every algorithm this package reads, so that the
// fuzzer reaches every path.
func fuzzDecrypter(t testing.TB) *Decrypter {
	return &Decrypter{
		Key:            fuzzKey(t),
		EntityID:       testEntity,
		DataAlgorithms: append(LegacyDataAlgorithms(), ZXIDAES256GCM),
	}
}

// FuzzDecrypt feeds wrappers to Decrypt. Whatever the input, Decrypt must
// not panic, must fail only with ErrDecrypt (always the same text),
// ErrAlgorithm or ErrTooLarge, and what it returns must be a detached
// element that serialises and parses back to itself.
func FuzzDecrypt(f *testing.F) {
	d := fuzzDecrypter(f)
	f.Add([]byte(`<saml:EncryptedAssertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"/>`))
	f.Add([]byte(`<xenc:EncryptedData xmlns:xenc="http://www.w3.org/2001/04/xmlenc#"><xenc:EncryptionMethod Algorithm="http://www.w3.org/2009/xmlenc11#aes128-gcm"/></xenc:EncryptedData>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		doc, err := xmlsec.Parse(b, xmlsec.Limits{})
		if err != nil {
			return
		}
		el, err := d.Decrypt(doc.Root())
		checkOutcome(t, el, err)
	})
}

func checkOutcome(t testing.TB, el *etree.Element, err error) {
	t.Helper()
	if err != nil {
		var xe *xmlsec.Error
		if !errors.As(err, &xe) {
			t.Fatalf("error of type %T: %v", err, err)
		}
		switch xe.Kind {
		case xmlsec.KindDecrypt:
			if err.Error() != "xmlsec: decryption failed" {
				t.Fatalf("decryption failure with distinguishing text %q", err)
			}
		case xmlsec.KindAlgorithm, xmlsec.KindTooLarge:
		default:
			t.Fatalf("unexpected kind: %v", err)
		}
		return
	}
	if el == nil || el.Parent() != nil {
		t.Fatalf("success without a detached element: %v", el)
	}
	back := reparse(t, el)
	sameElement(t, back, el)
}

// TestFuzzSeeds checks that the committed seed corpus is meaningful: each
// ok-* seed decrypts with the fuzz key and each fail-* seed fails; other
// files (inputs the fuzzer once found) only have to pass checkOutcome.
// With -update it first rewrites the ok-* and fail-* seeds.
func TestFuzzSeeds(t *testing.T) {
	if *update {
		writeSeeds(t)
	}
	entries, err := os.ReadDir(seedDir)
	if err != nil || len(entries) < 8 {
		t.Fatalf("seed corpus %s: %d seeds, %v", seedDir, len(entries), err)
	}
	d := fuzzDecrypter(t)
	for _, e := range entries {
		t.Run(e.Name(), func(t *testing.T) {
			in := readSeed(t, filepath.Join(seedDir, e.Name()))
			doc, err := xmlsec.Parse(in, xmlsec.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			el, err := d.Decrypt(doc.Root())
			checkOutcome(t, el, err)
			switch {
			case strings.HasPrefix(e.Name(), "ok-") && err != nil:
				t.Fatalf("seed %s: %v", e.Name(), err)
			case strings.HasPrefix(e.Name(), "fail-") && err == nil:
				t.Fatalf("seed %s decrypted", e.Name())
			}
		})
	}
}

// readSeed reads a file of the native fuzzing corpus format.
func readSeed(t testing.TB, path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitN(string(b), "\n", 3)
	var s string
	if len(lines) < 2 || lines[0] != "go test fuzz v1" {
		t.Fatalf("%s is not a fuzz corpus file", path)
	}
	if _, err := fmt.Sscanf(lines[1], "[]byte(%q)", &s); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return []byte(s)
}

// writeSeeds encrypts the fixtures for the fuzz key in every form.
func writeSeeds(t *testing.T) {
	key := fuzzKey(t)
	cert, err := pki.MustGet().CA.IssueFor("fuzz", key)
	if err != nil {
		t.Fatal(err)
	}
	to := Recipient{EntityID: testEntity, Cert: cert.Cert}
	a := assertionIn(t, readFixture(t, "response.xml"))
	nameID := mustElement(t, `<saml:NameID xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">Pq3wR8</saml:NameID>`)
	newID := mustElement(t, `<samlp:NewID xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">hospital-a:0042</samlp:NewID>`)
	seeds := map[string]*etree.Element{}
	enc := func(name string, e Encrypter, el *etree.Element, w Wrapper, r Recipient) {
		out, err := e.Encrypt(el, w, r)
		if err != nil {
			t.Fatal(err)
		}
		seeds[name] = out
	}
	enc("ok-gcm256-inside", Encrypter{}, a, EncryptedAssertion, to)
	enc("ok-gcm128-beside", Encrypter{Placement: KeyBeside, Algorithms: Algorithms{Data: AES128GCM}}, a, EncryptedAssertion, to)
	enc("ok-cbc256-inside", Encrypter{Algorithms: Algorithms{Data: AES256CBC}}, a, EncryptedAssertion, to)
	enc("ok-cbc128-beside-oaep11", Encrypter{Placement: KeyBeside, Algorithms: Algorithms{RSAOAEP, AES128CBC}}, a, EncryptedAssertion, to)
	enc("ok-oaep11-gcm256-nocert", Encrypter{Algorithms: Algorithms{KeyTransport: RSAOAEP}}, a, EncryptedAssertion, Recipient{Key: &key.PublicKey})
	enc("ok-encryptedid", Encrypter{}, nameID, EncryptedID, to)
	enc("ok-newencryptedid-beside", Encrypter{Placement: KeyBeside}, newID, NewEncryptedID, to)
	zxid := readFixture(t, "zxid/zxid-12-token.xml").Root()
	reencryptZXID(t, zxid, cert, []byte(`<sa:Assertion xmlns:sa="urn:oasis:names:tc:SAML:2.0:assertion" ID="A1" Version="2.0" IssueInstant="2026-11-25T05:54:51Z"><sa:Issuer>http://127.0.0.1:8081/zxididp?o=B</sa:Issuer></sa:Assertion>`))
	seeds["ok-zxid-layout"] = zxid
	bad := seeds["ok-cbc256-inside"].Copy()
	flipByte(edValue, -1)(bad)
	seeds["fail-cbc-last-block-flipped"] = bad
	bad = seeds["ok-gcm256-inside"].Copy()
	flipByte(edValue, -1)(bad)
	seeds["fail-gcm-tag-flipped"] = bad
	saveSeeds(t, seeds)
}

func mustElement(t testing.TB, s string) *etree.Element {
	el, err := xmlsec.ParseElement([]byte(s), xmlsec.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return el
}

func saveSeeds(t testing.TB, seeds map[string]*etree.Element) {
	if err := os.MkdirAll(seedDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, el := range seeds {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", toBytes(t, el))
		if err := os.WriteFile(filepath.Join(seedDir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
