package wss

import (
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/internal/testkit/xmlsec1"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/wire"
)

// tokenID is the ID of the saml:Assertion token in testdata/request.xml.
const tokenID = "_b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6"

// requiredIDs are the wsu:Ids of the parts of testdata/request.xml that
// RequiredParts lists, in document order.
var requiredIDs = []string{"FWK", "SND", "MID", "TO", "ACT", "REP", "UI", "STR", "TS", "BDY"}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// parse reads bytes as a receiver does, through the strict parser.
func parse(t testing.TB, b []byte) *etree.Element {
	t.Helper()
	root, err := xmlsec.ParseElement(b, xmlsec.Limits{})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return root
}

// parseLoose reads with etree alone: xmlsec.Parse refuses the ZXID
// captures (its round-trip validator trips on ZXID's per-element
// namespace declarations), and what these tests check is the signature.
func parseLoose(t testing.TB, b []byte) *etree.Element {
	t.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(b); err != nil {
		t.Fatal(err)
	}
	return doc.Root()
}

func serialize(t testing.TB, el *etree.Element) []byte {
	t.Helper()
	doc := etree.NewDocument()
	doc.SetRoot(el.Copy())
	b, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// request returns testdata/request.xml parsed.
func request(t testing.TB) *etree.Element {
	t.Helper()
	return parse(t, readFile(t, "request.xml"))
}

// signedRequest signs testdata/request.xml with s and returns the bytes a
// receiver gets.
func signedRequest(t testing.TB, s *Signer) []byte {
	t.Helper()
	out, err := s.Sign(request(t))
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return serialize(t, out)
}

func samlSigner(id *pki.Identity) *Signer {
	return &Signer{Key: id.Key, KeyRef: SAMLTokenRef(tokenID)}
}

func trustOf(ids ...*pki.Identity) *xmlsec.TrustSet {
	var certs []*x509.Certificate
	for _, id := range ids {
		certs = append(certs, id.Cert)
	}
	return xmlsec.NewTrustSet(certs)
}

func verifierFor(ids ...*pki.Identity) *Verifier {
	return &Verifier{Trust: trustOf(ids...)}
}

func wantErr(t testing.TB, err, want error) {
	t.Helper()
	if err == nil || !errors.Is(err, want) {
		t.Fatalf("got %v, want %v", err, want)
	}
	var xe *xmlsec.Error
	if !errors.As(err, &xe) {
		t.Fatalf("%v is not an *xmlsec.Error", err)
	}
}

// byID returns the element of root carrying the ID id.
func byID(t testing.TB, root *etree.Element, id string) *etree.Element {
	t.Helper()
	el, err := xmlsec.FindByID(root, id, idNames)
	if err != nil {
		t.Fatal(err)
	}
	return el
}

// partIDs lists the IDs of a Verified result's parts.
func partIDs(v *Verified) []string {
	out := make([]string, len(v.Parts))
	for i, p := range v.Parts {
		out[i] = p.ID
	}
	return out
}

// security returns the wsse:Security header of an envelope.
func security(t testing.TB, env *etree.Element) *etree.Element {
	t.Helper()
	e, err := parseEnvelope(env)
	if err != nil || e.security == nil {
		t.Fatalf("no wsse:Security: %v", err)
	}
	return e.security
}

// signatureOf returns the ds:Signature of an envelope's wsse:Security.
func signatureOf(t testing.TB, env *etree.Element) *etree.Element {
	t.Helper()
	sigs := wire.Children(security(t, env), xmlsec.NSDSig, "Signature")
	if len(sigs) != 1 {
		t.Fatalf("%d signatures", len(sigs))
	}
	return sigs[0]
}

// readAbs reads a file of an xmlsec1 tool's directory.
func readAbs(t testing.TB, x interface{ File(string, []byte) string }, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(x.(*xmlsec1.Tool).Dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// othersThan returns the test PKI's leaf identities other than id.
func othersThan(id *pki.Identity) []*pki.Identity {
	p := pki.MustGet()
	var out []*pki.Identity
	for _, o := range []*pki.Identity{p.RSA, p.P256, p.P384, p.ForeignRSA} {
		if o != id {
			out = append(out, o)
		}
	}
	return out
}
