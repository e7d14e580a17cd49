package wire

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/xmlsec"
)

func parse(t *testing.T, s string) *etree.Element {
	t.Helper()
	el, err := xmlsec.ParseElement([]byte(s), xmlsec.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return el
}

func TestAttrIgnoresPrefixedLookalike(t *testing.T) {
	el := parse(t, `<a xmlns:x="urn:x" x:ID="evil"/>`)
	if v, ok := Attr(el, "ID"); ok {
		t.Fatalf("fail/prefixed-id-read-as-unqualified: got %q", v)
	}
	if v, ok := AttrNS(el, "urn:x", "ID"); !ok || v != "evil" {
		t.Fatalf("ok/namespaced-lookup: got %q %v", v, ok)
	}
}

func TestTextRefusesElements(t *testing.T) {
	el := parse(t, `<a>x<!-- c -->y</a>`)
	if s, err := Text(el); err != nil || s != "xy" {
		t.Fatalf("ok/comment-split-text: %q %v", s, err)
	}
	el = parse(t, `<a>x<b/>y</a>`)
	if _, err := Text(el); !errors.Is(err, xmlsec.ErrMalformed) {
		t.Fatalf("fail/element-in-text: %v", err)
	}
}

func TestParseTime(t *testing.T) {
	want := time.Date(2024, 5, 2, 10, 5, 0, 500_000_000, time.UTC)
	if got, err := ParseTime(" 2024-05-02T10:05:00.5Z "); err != nil || !got.Equal(want) {
		t.Fatalf("ok/fractional-utc: %v %v", got, err)
	}
	for _, s := range []string{"2024-05-02T10:05:00+09:00", "2024-05-02T10:05:00", "2024-05-02Z"} {
		if _, err := ParseTime(s); !errors.Is(err, xmlsec.ErrMalformed) {
			t.Errorf("fail/%s: %v", s, err)
		}
	}
	if s := FormatTime(want.In(time.FixedZone("JST", 9*3600))); s != "2024-05-02T10:05:00.5Z" {
		t.Errorf("ok/format-utc: %s", s)
	}
	if s := FormatTime(want.Add(123_456_789)); s != "2024-05-02T10:05:00.623Z" {
		t.Errorf("ok/format-milliseconds: %s", s)
	}
	if s := FormatTime(want.Add(-500_000_000)); s != "2024-05-02T10:05:00Z" {
		t.Errorf("ok/format-whole-seconds: %s", s)
	}
}

func TestParseBool(t *testing.T) {
	for in, want := range map[string]bool{"1": true, "true": true, "0": false, "false": false} {
		if got, err := ParseBool(in); err != nil || got != want {
			t.Errorf("ok/%s: %v %v", in, got, err)
		}
	}
	if _, err := ParseBool("TRUE"); err == nil {
		t.Error("fail/uppercase-true accepted")
	}
}

func TestQName(t *testing.T) {
	el := parse(t, `<r xmlns:S="urn:s"><c>S:Client</c><d>Z:Client</d></r>`)
	ns, local, err := QName(el.SelectElement("c"), "S:Client")
	if err != nil || ns != "urn:s" || local != "Client" {
		t.Fatalf("ok/declared-prefix: %q %q %v", ns, local, err)
	}
	if _, _, err := QName(el.SelectElement("d"), "Z:Client"); !errors.Is(err, xmlsec.ErrMalformed) {
		t.Fatalf("fail/undeclared-prefix: %v", err)
	}
}

func TestOptionalRefusesDuplicates(t *testing.T) {
	el := parse(t, `<r xmlns:a="urn:a"><a:x/><a:x/></r>`)
	if _, err := Optional(el, "urn:a", "x"); !errors.Is(err, xmlsec.ErrMalformed) {
		t.Fatalf("fail/two-children: %v", err)
	}
	if c, err := Required(el, "urn:a", "y"); c != nil || !errors.Is(err, xmlsec.ErrMalformed) {
		t.Fatalf("fail/missing-required: %v", err)
	}
}

func TestCertificate(t *testing.T) {
	const ds = `xmlns:ds="http://www.w3.org/2000/09/xmldsig#"`
	for _, c := range []struct {
		name, xml string
		want      error
	}{
		{"fail/not-base64", `<ds:X509Certificate ` + ds + `>!!</ds:X509Certificate>`, xmlsec.ErrMalformed},
		{"fail/not-a-certificate", `<ds:X509Certificate ` + ds + `>AAEC</ds:X509Certificate>`, xmlsec.ErrMalformed},
		{"fail/child-element", `<ds:X509Certificate ` + ds + `><x/></ds:X509Certificate>`, xmlsec.ErrMalformed},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := Certificate(parse(t, c.xml)); !errors.Is(err, c.want) {
				t.Fatalf("Certificate = %v, want %v", err, c.want)
			}
		})
	}
}

// TestCertificateCache: the same DER bytes read twice give the same
// certificate, equal to a fresh parse; a failed parse is not kept; the
// cache stays within its bound.
func TestCertificateCache(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "wsc"},
		NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<31, 0)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	el := parse(t, `<ds:X509Certificate xmlns:ds="http://www.w3.org/2000/09/xmldsig#">`+base64.StdEncoding.EncodeToString(der)+`</ds:X509Certificate>`)
	a, err := Certificate(el)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Certificate(el)
	if err != nil || a != b || !a.Equal(b) || !bytes.Equal(a.Raw, der) || a.Subject.CommonName != "wsc" {
		t.Fatalf("second read: %v, same %v", err, a == b)
	}
	if certs.get([]byte{0, 1, 2}) != nil {
		t.Fatal("fail/not-kept: bytes that did not parse are kept")
	}
	for i := range maxCerts + 10 {
		certs.put([]byte{byte(i), byte(i >> 8), 9}, a)
		if n := len(certs.m); n > maxCerts {
			t.Fatalf("%d certificates kept, bound %d", n, maxCerts)
		}
	}
}
