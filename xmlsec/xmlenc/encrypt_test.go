package xmlenc

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"io"
	"slices"
	"testing"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

func TestChoose(t *testing.T) {
	cases := []struct {
		name     string
		declared []string
		want     Algorithms
		err      error
	}{
		{"ok/no-list-gives-defaults", nil, Algorithms{RSAOAEPMGF1P, AES256GCM}, nil},
		{"ok/only-aes128-gcm", []string{AES128GCM}, Algorithms{RSAOAEPMGF1P, AES128GCM}, nil},
		{"ok/gcm-preferred-over-cbc-listed-first", []string{AES128CBC, AES256GCM}, Algorithms{RSAOAEPMGF1P, AES256GCM}, nil},
		{"ok/cbc-only-peer-gets-cbc", []string{AES128CBC, AES256CBC}, Algorithms{RSAOAEPMGF1P, AES256CBC}, nil},
		{"ok/rsa-oaep-11-when-declared", []string{RSAOAEPMGF1P, RSAOAEP, AES128GCM}, Algorithms{RSAOAEP, AES128GCM}, nil},
		{"ok/unknown-uris-ignored", []string{"urn:x-unknown", SHA256}, Algorithms{RSAOAEPMGF1P, AES256GCM}, nil},
		{"fail/only-rsa-1_5", []string{RSA15, AES256GCM}, Algorithms{}, xmlsec.ErrAlgorithm},
		{"fail/only-3des", []string{NSXEnc + "tripledes-cbc"}, Algorithms{}, xmlsec.ErrAlgorithm},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Choose(c.declared)
			if c.err != nil {
				wantKind(t, err, c.err)
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("Choose(%v) = %v, %v; want %v", c.declared, got, err, c.want)
			}
		})
	}
}

// TestRoundTrip encrypts the fixture assertion, whose prefixes are all
// declared on the enclosing Response, in every supported combination,
// puts the wrapper back into the Response in place of the assertion,
// parses the whole Response again as a receiver would, and decrypts.
func TestRoundTrip(t *testing.T) {
	p := pki.MustGet()
	for _, alg := range []Algorithms{
		{RSAOAEPMGF1P, AES256GCM}, {RSAOAEPMGF1P, AES128GCM},
		{RSAOAEP, AES256GCM}, {RSAOAEP, AES128CBC}, {RSAOAEPMGF1P, AES256CBC},
	} {
		for _, pl := range []Placement{KeyInside, KeyBeside} {
			name := "ok/" + short(alg.KeyTransport) + "/" + short(alg.Data) + "/" + [...]string{"inside", "beside"}[pl]
			t.Run(name, func(t *testing.T) {
				doc := readFixture(t, "response.xml")
				orig := assertionIn(t, doc)
				enc := &Encrypter{Algorithms: alg, Placement: pl}
				w, err := enc.Encrypt(orig, EncryptedAssertion, recipientOf(p.RSA))
				if err != nil {
					t.Fatal(err)
				}
				wire := replaceInDoc(t, doc, orig, w)
				got, err := decrypterOf(p.RSA).Decrypt(wire)
				if err != nil {
					t.Fatal(err)
				}
				sameElement(t, got, readFixture(t, "response.xml").Root().SelectElement("saml:Assertion"))
				sameElement(t, reparse(t, got), got)
			})
		}
	}
}

// replaceInDoc puts w where orig was, serialises the document, parses it
// back and returns the wrapper as the receiver sees it.
func replaceInDoc(t testing.TB, doc *etree.Document, orig, w *etree.Element) *etree.Element {
	t.Helper()
	parent := orig.Parent()
	i := orig.Index()
	parent.RemoveChildAt(i)
	parent.InsertChildAt(i, w)
	doc.WriteSettings = etree.WriteSettings{CanonicalText: true, CanonicalAttrVal: true}
	b, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	back, err := xmlsec.Parse(b, xmlsec.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	found := back.Root().SelectElement(w.Tag)
	if found == nil {
		found = back.Root().FindElement("//" + w.Tag)
	}
	return found
}

func TestEncryptWrappers(t *testing.T) {
	p := pki.MustGet()
	nameID := `<saml:NameID xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent" SPProvidedID="patient:0042">Pq3wR8</saml:NameID>`
	newID := `<samlp:NewID xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">hospital-a:patient:0042</samlp:NewID>`
	cases := []struct {
		name  string
		w     Wrapper
		plain string
		err   error
	}{
		{"ok/encrypted-id-of-nameid", EncryptedID, nameID, nil},
		{"ok/new-encrypted-id-of-newid", NewEncryptedID, newID, nil},
		{"fail/new-encrypted-id-of-nameid", NewEncryptedID, nameID, xmlsec.ErrMalformed},
		{"fail/encrypted-assertion-of-nameid", EncryptedAssertion, nameID, xmlsec.ErrMalformed},
		{"fail/unbound-prefix", EncryptedID, `<saml:NameID>x</saml:NameID>`, xmlsec.ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			el := etree.NewDocument()
			if err := el.ReadFromString(c.plain); err != nil {
				t.Fatal(err)
			}
			w, err := (&Encrypter{Placement: KeyBeside}).Encrypt(el.Root(), c.w, recipientOf(p.RSA))
			if c.err != nil {
				wantKind(t, err, c.err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if w.Tag != c.w.String()[len("saml:"):] && w.FullTag() != c.w.String() {
				t.Fatalf("wrapper %s, want %s", w.FullTag(), c.w)
			}
			got, err := decrypterOf(p.RSA).Decrypt(reparse(t, w))
			if err != nil {
				t.Fatal(err)
			}
			sameElement(t, got, el.Root())
		})
	}
}

func TestEncryptRefusesWeakOrForeignKeys(t *testing.T) {
	p := pki.MustGet()
	small, err := rsa.GenerateKey(seeded(1), 1024)
	if err != nil {
		t.Fatal(err)
	}
	doc := readFixture(t, "response.xml")
	a := assertionIn(t, doc)
	for name, to := range map[string]Recipient{
		"fail/rsa-1024":    {Key: &small.PublicKey},
		"fail/ecdsa-cert":  {Cert: p.P256.Cert},
		"fail/no-key":      {},
		"fail/only-rsa15":  {Cert: p.RSA.Cert, Methods: []string{RSA15}},
		"fail/only-3des":   {Cert: p.RSA.Cert, Methods: []string{NSXEnc + "tripledes-cbc"}},
		"fail/aes192-only": {Cert: p.RSA.Cert, Methods: []string{NSXEnc11 + "aes192-gcm"}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := (&Encrypter{}).Encrypt(a, EncryptedAssertion, to)
			wantKind(t, err, xmlsec.ErrAlgorithm)
		})
	}
}

// TestEncryptUsesConfiguredRand shows that all randomness (session key,
// IV, IDs, OAEP seed) comes from Encrypter.Rand: the same seed gives the
// same bytes, another seed other bytes.
func TestEncryptUsesConfiguredRand(t *testing.T) {
	p := pki.MustGet()
	a := assertionIn(t, readFixture(t, "response.xml"))
	out := func(seed uint64) []byte {
		w, err := (&Encrypter{Rand: seeded(seed)}).Encrypt(a, EncryptedAssertion, recipientOf(p.RSA))
		if err != nil {
			t.Fatal(err)
		}
		return toBytes(t, w)
	}
	if !bytes.Equal(out(7), out(7)) {
		t.Fatal("same seed, different output: some randomness does not come from Rand")
	}
	if bytes.Equal(out(7), out(8)) {
		t.Fatal("different seeds, same output")
	}
}

// cardKey stands for a card or HSM key: only crypto.Decrypter, no access
// to the private key.
type cardKey struct{ k *rsa.PrivateKey }

func (c cardKey) Public() crypto.PublicKey { return c.k.Public() }
func (c cardKey) Decrypt(r io.Reader, ct []byte, o crypto.DecrypterOpts) ([]byte, error) {
	return c.k.Decrypt(r, ct, o)
}

func TestDecryptWithOpaqueDecrypter(t *testing.T) {
	p := pki.MustGet()
	a := assertionIn(t, readFixture(t, "response.xml"))
	w, err := (&Encrypter{Algorithms: Algorithms{KeyTransport: RSAOAEP}}).Encrypt(a, EncryptedAssertion, recipientOf(p.RSA))
	if err != nil {
		t.Fatal(err)
	}
	d := &Decrypter{Key: cardKey{p.RSA.Key.(*rsa.PrivateKey)}}
	got, err := d.Decrypt(reparse(t, w))
	if err != nil {
		t.Fatal(err)
	}
	sameElement(t, got, a)
}

// TestPlaintextKeepsSignedBytes checks what an enveloped signature inside
// the assertion depends on: attribute values with tab, line feed and
// carriage return, and text with a carriage return, read back unchanged.
func TestPlaintextKeepsSignedBytes(t *testing.T) {
	p := pki.MustGet()
	a := assertionIn(t, readFixture(t, "response.xml"))
	w, err := (&Encrypter{}).Encrypt(a, EncryptedAssertion, recipientOf(p.RSA))
	if err != nil {
		t.Fatal(err)
	}
	got, err := decrypterOf(p.RSA).Decrypt(reparse(t, w))
	if err != nil {
		t.Fatal(err)
	}
	attr := got.FindElement(".//saml:Attribute[@Name='urn:renkei:attr:note']")
	if attr == nil {
		t.Fatal("attribute lost")
	}
	if v := attr.SelectAttrValue("FriendlyName", ""); v != "line\nbreaks\tand\rreturns" {
		t.Fatalf("FriendlyName = %q", v)
	}
	if v := attr.SelectElement("saml:AttributeValue").Text(); v != "text with a carriage return\r & markup <kept>" {
		t.Fatalf("AttributeValue = %q", v)
	}
	if !slices.ContainsFunc(got.Attr, func(a etree.Attr) bool { return a.FullKey() == "xmlns:xs" }) {
		t.Fatal("xmlns:xs, used only inside xsi:type values, was not carried into the plaintext")
	}
}
