package wss

import (
	"bytes"
	"slices"
	"testing"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// TestSignVerify signs the digest's WSP request with each key type and key
// reference form; our verifier accepts it with the signer's key trusted,
// every required part is covered, and the verified copies hold the
// values that were signed.
func TestSignVerify(t *testing.T) {
	p := pki.MustGet()
	cases := []struct {
		name string
		id   *pki.Identity
		ref  KeyRef
	}{
		{"ok/rsa-saml-token", p.RSA, SAMLTokenRef(tokenID)},
		{"ok/p256-saml-token", p.P256, SAMLTokenRef(tokenID)},
		{"ok/p384-binary-token", p.P384, BinaryTokenRef(p.P384.Cert)},
		{"ok/rsa-binary-token", p.RSA, BinaryTokenRef(p.RSA.Cert)},
		{"ok/p256-x509data", p.P256, X509DataRef(p.P256.Cert)},
		{"ok/rsa-no-keyinfo", p.RSA, KeyRef{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := signedRequest(t, &Signer{Key: c.id.Key, KeyRef: c.ref})
			env := parse(t, b)
			v, err := verifierFor(c.id).Verify(env)
			if err != nil {
				t.Fatal(err)
			}
			if err := CheckCoverage(env, v); err != nil {
				t.Fatal(err)
			}
			checkVerifiedRequest(t, v, c.ref)
		})
	}
}

func checkVerifiedRequest(t *testing.T, v *Verified, ref KeyRef) {
	t.Helper()
	wantIDs := requiredIDs
	if ref.Kind == KeyRefBinaryToken {
		wantIDs = slices.Insert(slices.Clone(requiredIDs), len(requiredIDs)-1, v.Parts[len(v.Parts)-2].ID)
	}
	if got := partIDs(v); !slices.Equal(got, wantIDs) {
		t.Fatalf("signed parts %v, want %v", got, wantIDs)
	}
	if q := v.Body().FindElement("./Query/QueryItem"); q == nil || q.SelectAttrValue("itemID", "") != "q1" {
		t.Fatalf("verified Body lacks the QueryItem: %s", serialize(t, v.Body()))
	}
	if m := v.Header(NSWSA, "MessageID"); m == nil || m.Text() != "urn:uuid:0c4e2a11-6f3b-4a8e-b5d2-7e9f1a2b3c04" {
		t.Fatalf("verified MessageID %v", m)
	}
	if ts := v.Timestamp(); ts == nil || ts.FindElement("./Created").Text() != "2024-05-02T10:06:00Z" {
		t.Fatal("verified Timestamp missing or wrong")
	}
	if v.KeyRef.Kind != ref.Kind || v.KeyRef.AssertionID != ref.AssertionID {
		t.Fatalf("KeyRef %+v, want %+v", v.KeyRef, ref)
	}
	if ref.Certificate != nil && !v.KeyRef.Certificate.Equal(ref.Certificate) {
		t.Fatal("KeyRef certificate is not the signer's")
	}
}

// TestSignLeavesInputAlone: Sign works on a copy.
func TestSignLeavesInputAlone(t *testing.T) {
	env := request(t)
	before := serialize(t, env)
	if _, err := samlSigner(pki.MustGet().RSA).Sign(env); err != nil {
		t.Fatal(err)
	}
	if after := serialize(t, env); !bytes.Equal(before, after) {
		t.Fatalf("Sign changed its input:\n%s", after)
	}
}

// TestSignAddsIDs: parts without any ID get a fresh wsu:Id, with the wsu
// namespace declared where it is not in scope, and a Header and Security
// are created when the envelope has none.
func TestSignAddsIDs(t *testing.T) {
	p := pki.MustGet()
	cases := []struct{ name, doc string }{
		{"ok/no-ids-no-wsu-namespace", `<S:Envelope xmlns:S="` + NSSOAP11 + `"><S:Header>` +
			`<wsa:MessageID xmlns:wsa="` + NSWSA + `">urn:uuid:1</wsa:MessageID>` +
			`<wsse:Security xmlns:wsse="` + NSWSSE + `"><u:Timestamp xmlns:u="` + NSWSU + `"><u:Created>2024-05-02T10:06:00Z</u:Created></u:Timestamp></wsse:Security>` +
			`</S:Header><S:Body><x:Ping xmlns:x="urn:x"/></S:Body></S:Envelope>`},
		{"ok/wsu-prefix-taken", `<S:Envelope xmlns:S="` + NSSOAP11 + `" xmlns:wsu="urn:not-wsu"><S:Header>` +
			`<wsa:Action xmlns:wsa="` + NSWSA + `" wsu:x="1">urn:x:Ping</wsa:Action></S:Header>` +
			`<S:Body><x:Ping xmlns:x="urn:x"/></S:Body></S:Envelope>`},
		{"ok/no-header-default-namespace", `<Envelope xmlns="` + NSSOAP11 + `"><Body><x:Ping xmlns:x="urn:x"/></Body></Envelope>`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := samlSigner(p.RSA).Sign(parse(t, []byte(c.doc)))
			if err != nil {
				t.Fatal(err)
			}
			env := parse(t, serialize(t, out))
			v, err := verifierFor(p.RSA).Verify(env)
			if err != nil {
				t.Fatalf("%v\n%s", err, serialize(t, env))
			}
			if err := CheckCoverage(env, v); err != nil {
				t.Fatal(err)
			}
			for _, part := range v.Parts {
				if part.ID == "" || !bytes.Contains(serialize(t, env), []byte(`:Id="`+part.ID+`"`)) {
					t.Fatalf("part %v has no wsu:Id", part)
				}
			}
		})
	}
}

// TestSignExplicitParts: only the parts named are signed (plus the token
// reference the KeyRef adds); Unsigned names the rest.
func TestSignExplicitParts(t *testing.T) {
	p := pki.MustGet()
	env := request(t)
	e, _ := parseEnvelope(env)
	out, err := samlSigner(p.RSA).Sign(env, e.body, byID(t, env, "TS"))
	if err != nil {
		t.Fatal(err)
	}
	got := parse(t, serialize(t, out))
	v, err := verifierFor(p.RSA).Verify(got)
	if err != nil {
		t.Fatal(err)
	}
	if ids := partIDs(v); !slices.Equal(ids, []string{"BDY", "TS", "STR"}) {
		t.Fatalf("signed %v", ids)
	}
	missing, err := Unsigned(got, v)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range missing {
		ids = append(ids, m.ID)
	}
	if !slices.Equal(ids, []string{"FWK", "SND", "MID", "TO", "ACT", "REP", "UI"}) {
		t.Fatalf("unsigned %v", missing)
	}
	wantErr(t, CheckCoverage(got, v), xmlsec.ErrReference)
}

// TestSignRefuses lists what Sign will not do, each with its typed error.
func TestSignRefuses(t *testing.T) {
	p := pki.MustGet()
	env := request(t)
	other := request(t)
	signed := parse(t, signedRequest(t, samlSigner(p.RSA)))
	cases := []struct {
		name  string
		s     *Signer
		env   func() error
		wantE error
	}{
		{"fail/part-outside-envelope", samlSigner(p.RSA), func() error { _, err := samlSigner(p.RSA).Sign(env, other); return err }, xmlsec.ErrReference},
		{"fail/part-contains-signature", nil, func() error { _, err := samlSigner(p.RSA).Sign(env, security(t, env)); return err }, xmlsec.ErrReference},
		{"fail/already-signed", nil, func() error { _, err := samlSigner(p.RSA).Sign(signed); return err }, xmlsec.ErrMalformed},
		{"fail/sha1-not-allowed", nil, func() error {
			_, err := (&Signer{Key: p.RSA.Key, SignatureMethod: xmlsec.RSASHA1}).Sign(env)
			return err
		}, xmlsec.ErrAlgorithm},
		{"fail/sha1-digest-not-allowed", nil, func() error {
			_, err := (&Signer{Key: p.RSA.Key, DigestMethod: xmlsec.DigestSHA1}).Sign(env)
			return err
		}, xmlsec.ErrAlgorithm},
		{"fail/certificate-of-another-key", nil, func() error {
			_, err := (&Signer{Key: p.RSA.Key, KeyRef: BinaryTokenRef(p.P256.Cert)}).Sign(env)
			return err
		}, xmlsec.ErrUntrustedKey},
		{"fail/key-method-mismatch", nil, func() error {
			_, err := (&Signer{Key: p.P256.Key, SignatureMethod: xmlsec.RSASHA256}).Sign(env)
			return err
		}, xmlsec.ErrAlgorithm},
		{"fail/duplicate-id", nil, func() error {
			dup := request(t)
			byID(t, dup, "MID").CreateAttr("wsu:Id", "TO")
			_, err := samlSigner(p.RSA).Sign(dup)
			return err
		}, xmlsec.ErrDuplicateID},
		{"fail/not-an-envelope", nil, func() error { _, err := samlSigner(p.RSA).Sign(byID(t, env, "BDY")); return err }, xmlsec.ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { wantErr(t, c.env(), c.wantE) })
	}
}

// TestSignSHA1WhenAllowed: a peer profile with AllowSHA1 gets rsa-sha1 and
// sha1 digests; a strict verifier refuses them, one with the same
// profile accepts them.
func TestSignSHA1WhenAllowed(t *testing.T) {
	p := pki.MustGet()
	s := &Signer{Key: p.RSA.Key, SignatureMethod: xmlsec.RSASHA1, DigestMethod: xmlsec.DigestSHA1, Policy: xmlsec.Policy{AllowSHA1: true}}
	env := parse(t, signedRequest(t, s))
	v := verifierFor(p.RSA)
	_, err := v.Verify(env)
	wantErr(t, err, xmlsec.ErrAlgorithm)
	v.Policy.AllowSHA1 = true
	got, err := v.Verify(env)
	if err != nil {
		t.Fatal(err)
	}
	if got.Method.URI != xmlsec.RSASHA1 {
		t.Fatalf("method %s", got.Method.URI)
	}
}

// TestSignXSIType: a Body using xsi:type gets the QName's prefix in the
// InclusiveNamespaces PrefixList, so rebinding that prefix breaks the
// digest.
func TestSignXSIType(t *testing.T) {
	p := pki.MustGet()
	doc := `<S:Envelope xmlns:S="` + NSSOAP11 + `" xmlns:xs="http://www.w3.org/2001/XMLSchema"><S:Body>` +
		`<x:V xmlns:x="urn:x" xmlns:xsi="` + nsXSI + `" xsi:type="xs:string">7</x:V></S:Body></S:Envelope>`
	out, err := samlSigner(p.RSA).Sign(parse(t, []byte(doc)))
	if err != nil {
		t.Fatal(err)
	}
	b := serialize(t, out)
	if !bytes.Contains(b, []byte(`PrefixList="xs"`)) {
		t.Fatalf("no PrefixList for xs:\n%s", b)
	}
	if _, err := verifierFor(p.RSA).Verify(parse(t, b)); err != nil {
		t.Fatal(err)
	}
	rebound := bytes.Replace(b, []byte(`xmlns:xs="http://www.w3.org/2001/XMLSchema"`), []byte(`xmlns:xs="urn:evil"`), 1)
	_, err = verifierFor(p.RSA).Verify(parse(t, rebound))
	wantErr(t, err, xmlsec.ErrDigest)
}

// TestSignInPlace: signing the envelope itself gives, byte for byte, what
// Sign gives for its copy (RSA PKCS#1 v1.5 signatures are deterministic
// and the request's parts already have their IDs), which verifies; a part
// outside the envelope or an envelope inside another tree is refused.
func TestSignInPlace(t *testing.T) {
	p := pki.MustGet()
	copied, err := samlSigner(p.RSA).Sign(request(t))
	if err != nil {
		t.Fatal(err)
	}
	env := request(t)
	if err := samlSigner(p.RSA).SignInPlace(env); err != nil {
		t.Fatal(err)
	}
	got := serialize(t, env)
	if want := serialize(t, copied); !bytes.Equal(got, want) {
		t.Fatalf("ok/same-as-sign: in place\n%s\ncopy\n%s", got, want)
	}
	v, err := verifierFor(p.RSA).Verify(parse(t, got))
	if err != nil {
		t.Fatalf("ok/verifies: %v", err)
	}
	checkVerifiedRequest(t, v, SAMLTokenRef(tokenID))

	fresh := request(t)
	wantErr(t, samlSigner(p.RSA).SignInPlace(fresh, request(t)), xmlsec.ErrReference)
	outer := etree.NewElement("outer")
	outer.AddChild(request(t))
	wantErr(t, samlSigner(p.RSA).SignInPlace(outer.ChildElements()[0]), xmlsec.ErrMalformed)
}
