package dsig

import (
	"crypto"
	"encoding/base64"
	"testing"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// The signature-wrapping corpus: each attack starts from a valid signed
// message (which must verify and yield the signed NameID) and must be
// refused with a typed xmlsec error. XSW1-XSW8 follow the catalogue of
// Somorovsky et al., "On Breaking SAML: Be Whoever You Want to Be" (USENIX
// Security 2012), as SAML Raider applies them; the caller model is the
// usual one: it verifies the Response root, or the first saml:Assertion
// child of the Response.

const evilNameID = "admin@idp.example.org"

// attack is one entry of the corpus.
type attack struct {
	name     string
	base     func(testing.TB, *pki.Identity) []byte // the valid original
	onResp   bool                                   // the caller verifies the Response root
	mutate   func(t *testing.T, root *etree.Element)
	want     error  // nil: must verify
	wantName string // with want nil: the NameID read from the verified copy
	verifier func() *Verifier
}

func TestSignatureWrapping(t *testing.T) {
	p := pki.MustGet()
	for _, a := range attacks(p) {
		t.Run(a.name, func(t *testing.T) {
			b := a.base(t, p.RSA)
			v := verifierFor(p.RSA)
			if a.verifier != nil {
				v = a.verifier()
			}
			// The valid original verifies and yields the signed NameID.
			if got, err := verifyAs(v, parse(t, b).Root(), a.onResp); err != nil || nameID(got) != signedNameID {
				t.Fatalf("original: NameID %q, %v", nameID(got), err)
			}
			root := parse(t, b).Root()
			a.mutate(t, root)
			root = parse(t, serialize(t, root)).Root()
			got, err := verifyAs(v, root, a.onResp)
			if a.want == nil {
				if err != nil {
					t.Fatalf("must verify: %v", err)
				}
				if n := nameID(got); n != a.wantName {
					t.Fatalf("verified NameID %q, want %q", n, a.wantName)
				}
				assertDigestedOnly(t, got)
				return
			}
			wantErr(t, err, a.want)
			if got != nil {
				t.Fatal("an element was returned with the error")
			}
		})
	}
}

// verifyAs verifies the Response root, or its first Assertion, and
// returns the verified Assertion.
func verifyAs(v *Verifier, root *etree.Element, onResp bool) (*etree.Element, error) {
	if onResp {
		got, err := v.Verify(root)
		if err != nil {
			return nil, err
		}
		return assertion(got), nil
	}
	a := assertion(root)
	if a == nil {
		return nil, xmlsec.Errorf(xmlsec.KindMalformed, "no Assertion")
	}
	return v.Verify(a)
}

func attacks(p *pki.Shared) []attack {
	resp, asrt := signedResponse, signedAssertionResponse
	// XSW1 and XSW6 put a foreign element inside ds:Signature, which the
	// schema check refuses before the Reference is even read.
	return []attack{
		{name: "fail/XSW1-response-clone-inside-signature", base: resp, onResp: true, want: xmlsec.ErrMalformed, mutate: xsw12(true)},
		{name: "fail/XSW2-response-clone-before-signature", base: resp, onResp: true, want: xmlsec.ErrReference, mutate: xsw12(false)},
		{name: "fail/XSW3-evil-assertion-first", base: asrt, want: xmlsec.ErrNoSignature, mutate: xsw3},
		{name: "fail/XSW4-original-inside-evil-assertion", base: asrt, want: xmlsec.ErrNoSignature, mutate: xsw4},
		{name: "fail/XSW5-evil-keeps-signature-original-appended", base: asrt, want: xmlsec.ErrReference, mutate: xsw5},
		{name: "fail/XSW6-original-inside-evil-signature", base: asrt, want: xmlsec.ErrMalformed, mutate: xsw6},
		{name: "fail/XSW7-evil-in-extensions", base: asrt, want: xmlsec.ErrDuplicateID, mutate: xsw7},
		{name: "fail/XSW8-original-in-signature-object", base: asrt, want: xmlsec.ErrDuplicateID, mutate: xsw8},
		{name: "fail/XSW7-under-zxid-duplicate-id-quirk", base: asrt, want: xmlsec.ErrDuplicateID, mutate: xsw7, verifier: quirky(p)},
		{name: "fail/XSW8-under-zxid-duplicate-id-quirk", base: asrt, want: xmlsec.ErrDuplicateID, mutate: xsw8, verifier: quirky(p)},
		{name: "ok/unrelated-duplicate-id-under-zxid-quirk", base: asrt, wantName: signedNameID, mutate: unrelatedDuplicate, verifier: quirky(p)},
		{name: "fail/unrelated-duplicate-id-strict", base: asrt, want: xmlsec.ErrDuplicateID, mutate: unrelatedDuplicate},
		{name: "ok/comment-in-nameid-reads-full-text", base: asrt, wantName: signedNameID, mutate: splitNameID(func(a, b string) etree.Token { return etree.NewComment("x") })},
		{name: "ok/cdata-in-nameid-reads-full-text", base: asrt, wantName: signedNameID, mutate: splitNameIDCData},
		{name: "fail/processing-instruction-in-nameid", base: asrt, want: xmlsec.ErrDigest, mutate: splitNameID(func(a, b string) etree.Token { return etree.NewProcInst("x", "y") })},
		{name: "fail/nameid-changed", base: asrt, want: xmlsec.ErrDigest, mutate: func(t *testing.T, r *etree.Element) { setNameID(assertion(r), evilNameID) }},
		{name: "fail/duplicate-id-elsewhere", base: asrt, want: xmlsec.ErrDuplicateID, mutate: duplicateID},
		{name: "fail/duplicate-id-prefixed-attr", base: asrt, want: xmlsec.ErrDuplicateID, mutate: duplicateIDPrefixed},
		{name: "fail/second-unsigned-assertion-first", base: asrt, want: xmlsec.ErrNoSignature, mutate: unsignedFirst},
		{name: "fail/second-unsigned-assertion-in-signed-response", base: resp, onResp: true, want: xmlsec.ErrDigest, mutate: unsignedFirst},
		{name: "fail/response-signature-copied-into-assertion", base: signedBoth, want: xmlsec.ErrReference, mutate: moveResponseSignature},
		{name: "fail/signature-stripped", base: asrt, want: xmlsec.ErrNoSignature, mutate: stripSignature},
		{name: "fail/two-signatures", base: asrt, want: xmlsec.ErrMalformed, mutate: twoSignatures},
		{name: "fail/reference-to-issuer", base: asrt, want: xmlsec.ErrReference, mutate: forged(p.RSA, refToIssuer)},
		{name: "fail/empty-reference-uri", base: asrt, want: xmlsec.ErrReference, mutate: forged(p.RSA, setURI(""))},
		{name: "fail/missing-reference-uri", base: asrt, want: xmlsec.ErrReference, mutate: forged(p.RSA, dropURI)},
		{name: "fail/xpointer-reference-uri", base: asrt, want: xmlsec.ErrReference, mutate: forged(p.RSA, setURIFromID("#xpointer(id('%s'))"))},
		{name: "fail/xpath-transform", base: asrt, want: xmlsec.ErrTransform, mutate: forged(p.RSA, addTransform("http://www.w3.org/TR/1999/REC-xpath-19991116"))},
		{name: "fail/xslt-transform", base: asrt, want: xmlsec.ErrTransform, mutate: forged(p.RSA, addTransform("http://www.w3.org/TR/1999/REC-xslt-19991116"))},
		{name: "fail/enveloped-transform-only", base: asrt, want: xmlsec.ErrTransform, mutate: forged(p.RSA, keepFirstTransform)},
		{name: "fail/inclusive-c14n-with-comments", base: asrt, want: xmlsec.ErrAlgorithm, mutate: forged(p.RSA, setC14N("http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments"))},
		{name: "fail/key-outside-trust-set", base: asrt, want: xmlsec.ErrUntrustedKey, mutate: forged(p.ForeignRSA, nil)},
		{name: "fail/untrusted-key-without-keyinfo", base: asrt, want: xmlsec.ErrSignature, mutate: forged(p.ForeignRSA, dropKeyInfo)},
		{name: "fail/sha1-not-allowed", base: asrt, want: xmlsec.ErrAlgorithm, mutate: forgedSHA1(p.RSA)},
		{name: "ok/sha1-allowed-for-this-peer", base: asrt, wantName: signedNameID, mutate: forgedSHA1(p.RSA),
			verifier: func() *Verifier { v := verifierFor(p.RSA); v.Policy.AllowSHA1 = true; return v }},
	}
}

// xsw12 makes the root Response evil (new ID, changed NameID) and puts an
// unsigned clone of the original inside its Signature (XSW1) or before it
// (XSW2).
func xsw12(inside bool) func(*testing.T, *etree.Element) {
	return func(t *testing.T, root *etree.Element) {
		orig := root.Copy()
		orig.RemoveChild(sigChild(orig))
		sig := sigChild(root)
		if inside {
			sig.AddChild(orig)
		} else {
			root.InsertChildAt(sig.Index(), orig)
		}
		root.CreateAttr("ID", "_evil_response_ID")
		setNameID(assertion(root), evilNameID)
	}
}

func evilClone(a *etree.Element, id string) *etree.Element {
	e := a.Copy()
	e.RemoveChild(sigChild(e))
	setNameID(e, evilNameID)
	if id != "" {
		e.CreateAttr("ID", id)
	}
	return e
}

func xsw3(t *testing.T, root *etree.Element) {
	a := assertion(root)
	root.InsertChildAt(a.Index(), evilClone(a, "_evil_assertion_ID"))
}

func xsw4(t *testing.T, root *etree.Element) {
	a := assertion(root)
	evil := evilClone(a, "_evil_assertion_ID")
	root.RemoveChild(a)
	evil.AddChild(a)
	root.AddChild(evil)
}

func xsw5(t *testing.T, root *etree.Element) {
	a := assertion(root)
	orig := a.Copy()
	orig.RemoveChild(sigChild(orig))
	root.AddChild(orig)
	setNameID(a, evilNameID)
	a.CreateAttr("ID", "_evil_assertion_ID")
}

func xsw6(t *testing.T, root *etree.Element) {
	a := assertion(root)
	orig := a.Copy()
	orig.RemoveChild(sigChild(orig))
	sigChild(a).AddChild(orig)
	setNameID(a, evilNameID)
	a.CreateAttr("ID", "_evil_assertion_ID")
}

func xsw7(t *testing.T, root *etree.Element) {
	a := assertion(root)
	ext := etree.NewElement("samlp:Extensions")
	ext.AddChild(evilClone(a, ""))
	root.InsertChildAt(a.Index(), ext)
}

func xsw8(t *testing.T, root *etree.Element) {
	a := assertion(root)
	orig := a.Copy()
	orig.RemoveChild(sigChild(orig))
	obj := etree.NewElement("ds:Object")
	obj.AddChild(orig)
	sigChild(a).AddChild(obj)
	setNameID(a, evilNameID)
}

func setNameID(a *etree.Element, v string) {
	a.FindElement("./Subject/NameID").SetText(v)
}

// splitNameID cuts the NameID text in two around a token.
func splitNameID(tok func(a, b string) etree.Token) func(*testing.T, *etree.Element) {
	return func(t *testing.T, root *etree.Element) {
		n := assertion(root).FindElement("./Subject/NameID")
		head, tail := signedNameID[:16], signedNameID[16:]
		n.SetText(head)
		n.AddChild(tok(head, tail))
		n.AddChild(etree.NewText(tail))
	}
}

func splitNameIDCData(t *testing.T, root *etree.Element) {
	n := assertion(root).FindElement("./Subject/NameID")
	n.SetText(signedNameID[:16])
	n.AddChild(etree.NewCData(signedNameID[16:]))
}

func duplicateID(t *testing.T, root *etree.Element) {
	id, _ := xmlsec.AttrValue(assertion(root), "ID")
	root.SelectElement("samlp:Status").CreateAttr("ID", id)
}

func duplicateIDPrefixed(t *testing.T, root *etree.Element) {
	id, _ := xmlsec.AttrValue(assertion(root), "ID")
	st := root.SelectElement("samlp:Status")
	st.CreateAttr("xmlns:w", "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd")
	st.CreateAttr("w:Id", id)
}

// unrelatedDuplicate gives two elements outside the signed Assertion the
// same ID, as ZXID does with EPRs.
func unrelatedDuplicate(t *testing.T, root *etree.Element) {
	for range 2 {
		e := root.CreateElement("samlp:Extensions")
		e.CreateAttr("xmlns:w", "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd")
		e.CreateAttr("w:Id", "EPRID")
	}
}

func quirky(p *pki.Shared) func() *Verifier {
	return func() *Verifier {
		v := verifierFor(p.RSA)
		v.Policy.UnrelatedDuplicateIDs = true
		return v
	}
}

func unsignedFirst(t *testing.T, root *etree.Element) {
	a := assertion(root)
	e := a.Copy()
	if s := sigChild(e); s != nil {
		e.RemoveChild(s)
	}
	setNameID(e, evilNameID)
	e.CreateAttr("ID", "_second_assertion")
	root.InsertChildAt(a.Index(), e)
}

// moveResponseSignature replaces the Assertion's Signature with a copy of
// the Response's: genuine, trusted, but about another element.
func moveResponseSignature(t *testing.T, root *etree.Element) {
	a := assertion(root)
	old := sigChild(a)
	a.InsertChildAt(old.Index(), sigChild(root).Copy())
	a.RemoveChild(old)
}

func stripSignature(t *testing.T, root *etree.Element) {
	a := assertion(root)
	a.RemoveChild(sigChild(a))
}

func twoSignatures(t *testing.T, root *etree.Element) {
	a := assertion(root)
	a.AddChild(sigChild(a).Copy())
}

// forged replaces the Assertion's Signature with one made by id over a
// SignedInfo that edit changed before signing: the SignatureValue is
// genuine, so only the rule under test can refuse it.
func forged(id *pki.Identity, edit func(a, si *etree.Element)) func(*testing.T, *etree.Element) {
	return func(t *testing.T, root *etree.Element) {
		forge(t, assertion(root), id, xmlsec.RSASHA256, crypto.SHA256, edit)
	}
}

func forgedSHA1(id *pki.Identity) func(*testing.T, *etree.Element) {
	return func(t *testing.T, root *etree.Element) {
		forge(t, assertion(root), id, xmlsec.RSASHA1, crypto.SHA1, nil)
	}
}

func forge(t *testing.T, a *etree.Element, id *pki.Identity, method string, h crypto.Hash, edit func(a, si *etree.Element)) {
	t.Helper()
	a.RemoveChild(sigChild(a))
	aid, _ := xmlsec.AttrValue(a, "ID")
	m, err := xmlsec.Policy{AllowSHA1: true}.SignatureMethod(method)
	if err != nil {
		t.Fatal(err)
	}
	ref := xmlsec.Reference{URI: "#" + aid, Transforms: []string{xmlsec.EnvelopedSignature, xmlsec.ExcC14N}, Digest: h}
	if err := ref.Compute(a, nil); err != nil {
		t.Fatal(err)
	}
	si := &xmlsec.SignedInfo{Method: m, References: []xmlsec.Reference{ref}}
	sig, err := xmlsec.NewSignature(nil, id.Key, si, xmlsec.X509KeyInfo(id.Cert))
	if err != nil {
		t.Fatal(err)
	}
	a.InsertChildAt(a.SelectElement("saml:Issuer").Index()+1, sig)
	if edit != nil {
		edit(a, sig.SelectElement("ds:SignedInfo"))
		resign(t, sig, id, m)
	}
}

// resign recomputes the SignatureValue over the edited SignedInfo.
func resign(t *testing.T, sig *etree.Element, id *pki.Identity, m xmlsec.SignatureMethod) {
	t.Helper()
	data, err := xmlsec.C14N{}.Canonicalize(sig.SelectElement("ds:SignedInfo"))
	if err != nil {
		t.Fatal(err)
	}
	value, err := xmlsec.SignBytes(nil, id.Key, m, data)
	if err != nil {
		t.Fatal(err)
	}
	sig.SelectElement("ds:SignatureValue").SetText(base64.StdEncoding.EncodeToString(value))
}

func reference(si *etree.Element) *etree.Element { return si.SelectElement("ds:Reference") }

func refToIssuer(a, si *etree.Element) {
	a.SelectElement("saml:Issuer").CreateAttr("ID", "_issuer")
	reference(si).CreateAttr("URI", "#_issuer")
}

func setURI(v string) func(a, si *etree.Element) {
	return func(a, si *etree.Element) { reference(si).CreateAttr("URI", v) }
}

func setURIFromID(format string) func(a, si *etree.Element) {
	return func(a, si *etree.Element) {
		id, _ := xmlsec.AttrValue(a, "ID")
		reference(si).CreateAttr("URI", sprintf(format, id))
	}
}

func dropURI(a, si *etree.Element) { reference(si).RemoveAttr("URI") }

func addTransform(alg string) func(a, si *etree.Element) {
	return func(a, si *etree.Element) {
		tr := reference(si).SelectElement("ds:Transforms").CreateElement("ds:Transform")
		tr.CreateAttr("Algorithm", alg)
	}
}

func keepFirstTransform(a, si *etree.Element) {
	ts := reference(si).SelectElement("ds:Transforms")
	ts.RemoveChild(ts.ChildElements()[1])
}

func setC14N(alg string) func(a, si *etree.Element) {
	return func(a, si *etree.Element) { si.SelectElement("ds:CanonicalizationMethod").CreateAttr("Algorithm", alg) }
}

func dropKeyInfo(a, si *etree.Element) {
	sig := si.Parent()
	sig.RemoveChild(sig.SelectElement("ds:KeyInfo"))
}

// assertDigestedOnly checks that a verified copy holds no comment, no
// processing instruction, no Signature and no split text, and that its
// NameID is a single text token: a reader taking only the first text
// token (etree's Element.Child[0]) still gets the whole signed value.
func assertDigestedOnly(t *testing.T, el *etree.Element) {
	t.Helper()
	if n := el.FindElement("./Subject/NameID"); len(n.Child) != 1 {
		t.Fatalf("NameID has %d tokens, want one text token", len(n.Child))
	}
	if sigChild(el) != nil {
		t.Fatal("the Signature is still in the verified copy")
	}
	stack := []*etree.Element{el}
	for len(stack) > 0 {
		e := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		prevText := false
		for _, tok := range e.Child {
			switch c := tok.(type) {
			case *etree.Comment, *etree.ProcInst:
				t.Fatalf("%T left in <%s>", tok, e.Tag)
			case *etree.CharData:
				if prevText {
					t.Fatalf("adjacent text tokens in <%s>", e.Tag)
				}
				prevText = true
				continue
			case *etree.Element:
				stack = append(stack, c)
			}
			prevText = false
		}
	}
}
