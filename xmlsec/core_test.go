package xmlsec

import (
	"crypto"
	"crypto/x509"
	"errors"
	"strings"
	"testing"

	"github.com/beevik/etree"
	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
)

const coreDoc = `<env xmlns="urn:env" xmlns:p="urn:p"><p:Body ID="b1"><p:Item>one</p:Item></p:Body><p:Other ID="o1"/></env>`

// signDetached signs the element with ID id of doc in WS-Security shape and
// appends the Signature to the root.
func signDetached(t *testing.T, doc *etree.Document, key crypto.Signer, ids ...string) *etree.Element {
	t.Helper()
	m, err := DefaultSignatureMethod(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	si := &SignedInfo{Method: m}
	for _, id := range ids {
		target, err := FindByID(doc.Root(), id, DefaultIDAttrs)
		if err != nil {
			t.Fatal(err)
		}
		r := Reference{URI: "#" + id, Transforms: []string{ExcC14N}, Digest: crypto.SHA256}
		if err := r.Compute(target, nil); err != nil {
			t.Fatal(err)
		}
		si.References = append(si.References, r)
	}
	sig, err := NewSignature(nil, key, si, nil)
	if err != nil {
		t.Fatal(err)
	}
	doc.Root().AddChild(sig)
	return sig
}

func TestSignatureRoundTrip(t *testing.T) {
	p := pki.MustGet()
	for _, id := range []*pki.Identity{p.RSA, p.P256, p.P384} {
		t.Run("ok/"+id.Name, func(t *testing.T) {
			doc := mustParse(t, coreDoc)
			sigEl := signDetached(t, doc, id.Key, "b1", "o1")
			// Reparse from bytes, as a receiver would.
			s, _ := doc.WriteToString()
			doc = mustParse(t, s)
			sigEl = doc.Root().SelectElement("ds:Signature")
			sig, err := ParseSignature(sigEl, ModeWSSecurity, Policy{})
			if err != nil {
				t.Fatal(err)
			}
			key, err := sig.Verify(NewTrustSet(nil, p.RSA.Key.Public(), p.P256.Key.Public(), p.P384.Key.Public()).Keys(), Policy{})
			if err != nil || !key.(interface{ Equal(crypto.PublicKey) bool }).Equal(id.Key.Public()) {
				t.Fatalf("verify: %v", err)
			}
			for i := range sig.SignedInfo.References {
				r := &sig.SignedInfo.References[i]
				rid, _ := r.ID()
				target, _ := FindByID(doc.Root(), rid, DefaultIDAttrs)
				if err := r.Verify(target, nil); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

func TestSignatureTampered(t *testing.T) {
	p := pki.MustGet()
	doc := mustParse(t, coreDoc)
	sigEl := signDetached(t, doc, p.RSA.Key, "b1")
	sig, err := ParseSignature(sigEl, ModeWSSecurity, Policy{})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("fail/body-changed", func(t *testing.T) {
		body, _ := FindByID(doc.Root(), "b1", DefaultIDAttrs)
		body.SelectElement("p:Item").SetText("two")
		if err := sig.SignedInfo.References[0].Verify(body, nil); !errors.Is(err, ErrDigest) {
			t.Fatalf("got %v, want ErrDigest", err)
		}
	})
	t.Run("fail/foreign-key", func(t *testing.T) {
		if _, err := sig.Verify([]crypto.PublicKey{p.ForeignRSA.Key.Public()}, Policy{}); !errors.Is(err, ErrSignature) {
			t.Fatalf("got %v, want ErrSignature", err)
		}
	})
	t.Run("fail/no-key-of-family", func(t *testing.T) {
		if _, err := sig.Verify([]crypto.PublicKey{p.P256.Key.Public()}, Policy{}); !errors.Is(err, ErrUntrustedKey) {
			t.Fatalf("got %v, want ErrUntrustedKey", err)
		}
	})
}

// sigXML is an enveloped-mode ds:Signature with replaceable parts.
func sigXML(c14n, method, transforms, refs string) string {
	if refs == "" {
		refs = `<ds:Reference URI="#a"><ds:Transforms>` + transforms + `</ds:Transforms>` +
			`<ds:DigestMethod Algorithm="` + DigestSHA256 + `"/><ds:DigestValue>` + strings.Repeat("A", 43) + `=</ds:DigestValue></ds:Reference>`
	}
	return `<ds:Signature xmlns:ds="` + NSDSig + `"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="` + c14n + `"/>` +
		`<ds:SignatureMethod Algorithm="` + method + `"/>` + refs + `</ds:SignedInfo><ds:SignatureValue>AAAA</ds:SignatureValue></ds:Signature>`
}

func transform(alg string) string { return `<ds:Transform Algorithm="` + alg + `"/>` }

func TestParseSignatureRejects(t *testing.T) {
	env := transform(EnvelopedSignature) + transform(ExcC14N)
	ref := func(uri string) string {
		return `<ds:Reference URI="` + uri + `"><ds:Transforms>` + env + `</ds:Transforms><ds:DigestMethod Algorithm="` + DigestSHA256 +
			`"/><ds:DigestValue>` + strings.Repeat("A", 43) + `=</ds:DigestValue></ds:Reference>`
	}
	cases := []struct {
		name, xml string
		mode      Mode
		want      error
	}{
		{"ok/enveloped", sigXML(ExcC14N, RSASHA256, env, ""), ModeEnveloped, nil},
		{"fail/inclusive-c14n", sigXML("http://www.w3.org/TR/2001/REC-xml-c14n-20010315", RSASHA256, env, ""), ModeEnveloped, ErrAlgorithm},
		{"fail/c14n-with-comments", sigXML(ExcC14N+"WithComments", RSASHA256, env, ""), ModeEnveloped, ErrAlgorithm},
		{"fail/rsa-sha1", sigXML(ExcC14N, RSASHA1, env, ""), ModeEnveloped, ErrAlgorithm},
		{"fail/xslt-transform", sigXML(ExcC14N, RSASHA256, env+transform("http://www.w3.org/TR/1999/REC-xslt-19991116"), ""), ModeEnveloped, ErrTransform},
		{"fail/xpath-transform", sigXML(ExcC14N, RSASHA256, transform("http://www.w3.org/TR/1999/REC-xpath-19991116")+env, ""), ModeEnveloped, ErrTransform},
		{"fail/enveloped-only", sigXML(ExcC14N, RSASHA256, transform(EnvelopedSignature), ""), ModeEnveloped, ErrTransform},
		{"fail/enveloped-in-wss", sigXML(ExcC14N, RSASHA256, env, ""), ModeWSSecurity, ErrTransform},
		{"ok/exc-only-in-wss", sigXML(ExcC14N, RSASHA256, transform(ExcC14N), ""), ModeWSSecurity, nil},
		{"fail/two-refs-enveloped", sigXML(ExcC14N, RSASHA256, "", ref("#a")+ref("#b")), ModeEnveloped, ErrReference},
		{"fail/no-ref", sigXML(ExcC14N, RSASHA256, "", "<!-- none -->"), ModeEnveloped, ErrMalformed},
		{"fail/foreign-element-in-signedinfo", sigXML(ExcC14N, RSASHA256, "", ref("#a")+`<x:y xmlns:x="urn:x"/>`), ModeEnveloped, ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			el := mustParse(t, c.xml).Root()
			_, err := ParseSignature(el, c.mode, Policy{})
			if (c.want == nil) != (err == nil) || !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}

func TestReferenceID(t *testing.T) {
	for uri, want := range map[string]error{
		"#a1": nil, "": ErrReference, "#": ErrReference, "a1": ErrReference,
		"#xpointer(id('a1'))": ErrReference, "http://127.0.0.1/x#a1": ErrReference,
	} {
		r := Reference{URI: uri, hasURI: true}
		if _, err := r.ID(); (want == nil) != (err == nil) || !errors.Is(err, want) {
			t.Errorf("URI %q: got %v, want %v", uri, err, want)
		}
	}
	if _, err := (&Reference{}).ID(); !errors.Is(err, ErrReference) {
		t.Errorf("missing URI: got %v", err)
	}
}

func TestIDs(t *testing.T) {
	doc := mustParse(t, `<a ID="x"><b Id="y"/><c xmlns:w="urn:w" w:Id="z"><d id="x"/></c></a>`)
	if err := CheckUniqueIDs(doc.Root(), DefaultIDAttrs); !errors.Is(err, ErrDuplicateID) {
		t.Fatalf("duplicate x: got %v", err)
	}
	if _, err := FindByID(doc.Root(), "x", DefaultIDAttrs); !errors.Is(err, ErrDuplicateID) {
		t.Fatalf("FindByID x: got %v", err)
	}
	if el, err := FindByID(doc.Root(), "z", DefaultIDAttrs); err != nil || el.Tag != "c" {
		t.Fatalf("FindByID z: %v", err)
	}
	if _, err := FindByID(doc.Root(), "nope", DefaultIDAttrs); !errors.Is(err, ErrReference) {
		t.Fatalf("FindByID nope: got %v", err)
	}
	if err := CheckUniqueIDs(doc.Root(), []string{"ID", "Id"}); err != nil {
		t.Fatalf("without id: %v", err)
	}
	quirk := Policy{UnrelatedDuplicateIDs: true}
	if err := quirk.CheckIDs(doc.Root(), []string{"y", "z"}, DefaultIDAttrs); err != nil {
		t.Fatalf("quirk, unrelated duplicate: %v", err)
	}
	if err := quirk.CheckIDs(doc.Root(), []string{"x"}, DefaultIDAttrs); !errors.Is(err, ErrDuplicateID) {
		t.Fatalf("quirk, referenced duplicate: got %v", err)
	}
	if err := (Policy{}).CheckIDs(doc.Root(), []string{"y"}, DefaultIDAttrs); !errors.Is(err, ErrDuplicateID) {
		t.Fatalf("strict: got %v", err)
	}
}

func TestTrustSetResolve(t *testing.T) {
	p := pki.MustGet()
	trust := NewTrustSet([]*x509.Certificate{p.RSA.Cert}, p.P256.Key.Public())
	ki := func(ids ...*pki.Identity) *etree.Element {
		var cs []*x509.Certificate
		for _, id := range ids {
			cs = append(cs, id.Cert)
		}
		sig := etree.NewElement("ds:Signature")
		sig.CreateAttr("xmlns:ds", NSDSig)
		k := X509KeyInfo(cs...)
		sig.AddChild(k)
		return k
	}
	t.Run("ok/trusted-cert", func(t *testing.T) {
		keys, err := trust.Resolve(ki(p.RSA))
		if err != nil || len(keys) != 1 {
			t.Fatalf("got %d keys, %v", len(keys), err)
		}
	})
	t.Run("ok/cert-of-trusted-bare-key", func(t *testing.T) {
		if keys, err := trust.Resolve(ki(p.P256)); err != nil || len(keys) != 1 {
			t.Fatalf("got %d keys, %v", len(keys), err)
		}
	})
	t.Run("ok/no-keyinfo-selects-all", func(t *testing.T) {
		if keys, err := trust.Resolve(nil); err != nil || len(keys) != 2 {
			t.Fatalf("got %d keys, %v", len(keys), err)
		}
	})
	t.Run("fail/foreign-cert", func(t *testing.T) {
		if _, err := trust.Resolve(ki(p.ForeignRSA)); !errors.Is(err, ErrUntrustedKey) {
			t.Fatalf("got %v, want ErrUntrustedKey", err)
		}
	})
	t.Run("ok/foreign-then-trusted", func(t *testing.T) {
		if keys, err := trust.Resolve(ki(p.ForeignRSA, p.RSA)); err != nil || len(keys) != 1 {
			t.Fatalf("got %d keys, %v", len(keys), err)
		}
	})
}
