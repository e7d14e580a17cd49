package idp

import (
	"bytes"
	"crypto/x509"
	"errors"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/internal/testkit/xmlsec1"
	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
	"github.com/renkei-idwsf/renkei/xmlsec/wire"
	"github.com/renkei-idwsf/renkei/xmlsec/xmlenc"
	"github.com/renkei-idwsf/renkei/xmlsec/xsd"
)

const idAttrAssertion = saml.NS + ":Assertion"

// issueRequest is an SSO for Alice at the portal with a persistent NameID.
func (f *fixture) issueRequest() IssueRequest {
	a := f.aliceAuthn()
	n, err := f.idp.NameID(ctx, a.PrincipalID, portalID, createPolicy, f.now)
	must(f.t, err)
	return IssueRequest{SP: portalID, ACS: portalAC, InResponseTo: "_req-1", NameID: n, Authn: a,
		SessionIndex: "_s1", SessionNotOnOrAfter: f.now.Add(8 * time.Hour)}
}

// TestIssueSigned: the assertion of SAML2.md §3.2, verified with the
// IdP's first signing key and read back from what was verified.
func TestIssueSigned(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		name   string
		change func(*IssueRequest)
		life   time.Duration
	}{
		{"ok/solicited", func(*IssueRequest) {}, DefaultAssertionLifetime},
		{"ok/idp-initiated", func(r *IssueRequest) { r.InResponseTo = "" }, DefaultAssertionLifetime},
		{"ok/requested-lifetime", func(r *IssueRequest) { r.Lifetime = 90 * time.Second }, 90 * time.Second},
		{"ok/attributes", func(r *IssueRequest) {
			r.Attributes = []saml.Attribute{{Name: "urn:oid:2.5.4.42", NameFormat: saml.AttrNameFormatURI,
				Values: []saml.AttributeValue{{Text: "Hanako"}}}}
		}, DefaultAssertionLifetime},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := f.issueRequest()
			c.change(&req)
			out, err := f.idp.Issue(ctx, req, f.now)
			must(t, err)
			a, _, err := saml.VerifyAssertion(out.Element, idpVerifier(t))
			must(t, err)
			checkSSOAssertion(t, a, req, f.now, c.life)
		})
	}
}

func checkSSOAssertion(t *testing.T, a *saml.Assertion, req IssueRequest, now time.Time, life time.Duration) {
	t.Helper()
	must(t, a.CheckConditions(now, 0, portalID))
	if err := a.CheckConditions(now.Add(life), 0, portalID); err == nil {
		t.Fatalf("assertion still valid after %v", life)
	}
	if err := a.CheckConditions(now, 0, otherSP); err == nil {
		t.Fatal("assertion valid for another audience")
	}
	if a.Issuer.Value != idpID || a.Subject.NameID == nil || *a.Subject.NameID != *req.NameID {
		t.Fatalf("issuer %+v subject %+v", a.Issuer, a.Subject.NameID)
	}
	bearer := a.Subject.ConfirmationsBy(saml.CMBearer)
	if len(bearer) != 1 {
		t.Fatalf("%d bearer confirmations", len(bearer))
	}
	d := bearer[0].Data
	if d.Recipient != portalAC || d.InResponseTo != req.InResponseTo || !d.NotOnOrAfter.Equal(now.Add(life)) || !d.NotBefore.IsZero() {
		t.Fatalf("confirmation data %+v", d)
	}
	st := a.AuthnStatements
	if len(st) != 1 || st[0].ClassRef != saml.ACSmartcardPKI || st[0].SessionIndex != "_s1" ||
		!st[0].AuthnInstant.Equal(req.Authn.Instant) || !st[0].SessionNotOnOrAfter.Equal(req.SessionNotOnOrAfter) {
		t.Fatalf("authn statements %+v", st)
	}
	if len(req.Attributes) > 0 {
		if at, ok := a.Attribute(req.Attributes[0].Name); !ok || at.Values[0].Text != "Hanako" {
			t.Fatalf("attribute %+v", at)
		}
	}
}

// TestIssueRollover: with two signing certificates only the first signs;
// a peer trusting only the second refuses the assertion.
func TestIssueRollover(t *testing.T) {
	f := newFixture(t)
	out, err := f.idp.Issue(ctx, f.issueRequest(), f.now)
	must(t, err)
	next := &dsig.Verifier{Trust: xmlsec.NewTrustSet([]*x509.Certificate{federationKeys(t).IdPNext.Cert})}
	if _, _, err := saml.VerifyAssertion(out.Element, next); err == nil {
		t.Fatal("assertion verified with the second (not yet signing) key")
	}
}

// TestIssueXmlsec1Verify: xmlsec1 (libxml2 + OpenSSL) accepts the
// signature, chaining the KeyInfo certificate to the test CA, and refuses
// it once the NameID is changed.
func TestIssueXmlsec1Verify(t *testing.T) {
	f := newFixture(t)
	out, err := f.idp.Issue(ctx, f.issueRequest(), f.now)
	must(t, err)
	b, err := xmlsec.Serialize(out.Element)
	must(t, err)
	x := xmlsec1.New(t)
	ca := x.File("ca.pem", federationKeys(t).CA.CertPEM())
	if o, err := x.Run("--verify", "--id-attr:ID", idAttrAssertion, "--trusted-pem", ca, x.File("a.xml", b)); err != nil {
		t.Fatalf("xmlsec1 refused our assertion: %v\n%s", err, o)
	}
	nid := out.Assertion.Subject.NameID.Value
	bad := bytes.Replace(b, []byte(">"+nid+"<"), []byte(">someone-else<"), 1)
	if bytes.Equal(bad, b) {
		t.Fatal("NameID not found to tamper with")
	}
	if _, err := x.Run("--verify", "--id-attr:ID", idAttrAssertion, "--trusted-pem", ca, x.File("bad.xml", bad)); err == nil {
		t.Fatal("xmlsec1 accepted a tampered assertion: the oracle proves nothing")
	}
}

// TestIssueEncrypted: the EncryptedAssertion decrypts with the SP's key
// through xmlenc and through xmlsec1 --decrypt, and what comes out
// verifies; another key cannot decrypt it.
func TestIssueEncrypted(t *testing.T) {
	f := newFixture(t)
	req := f.issueRequest()
	req.EncryptFor = recipient(t)
	out, err := f.idp.Issue(ctx, req, f.now)
	must(t, err)
	if !wire.Is(out.Element, saml.NS, "EncryptedAssertion") {
		t.Fatalf("issued %s, want saml:EncryptedAssertion", out.Element.Tag)
	}
	k := federationKeys(t)
	t.Run("ok/xmlenc", func(t *testing.T) {
		plain, err := decrypter(k.WSC, portalID).Decrypt(out.Element)
		must(t, err)
		a, _, err := saml.VerifyAssertion(plain, idpVerifier(t))
		must(t, err)
		checkSSOAssertion(t, a, req, f.now, DefaultAssertionLifetime)
	})
	t.Run("fail/other-key", func(t *testing.T) {
		_, err := decrypter(k.Other, "").Decrypt(out.Element)
		wantErr(t, err, xmlsec.ErrDecrypt)
	})
	t.Run("ok/xmlsec1-decrypt", func(t *testing.T) {
		x := xmlsec1.New(t)
		_, keyPath, err := k.WSC.WriteFiles(x.Dir)
		must(t, err)
		b, err := xmlsec.Serialize(out.Element)
		must(t, err)
		o, err := x.Run("--decrypt", "--privkey-pem", keyPath, x.File("enc.xml", b))
		if err != nil {
			t.Fatalf("xmlsec1 --decrypt: %v\n%s", err, o)
		}
		doc, err := xmlsec.Parse(o, xmlsec.Limits{})
		must(t, err)
		got := findAssertion(doc.Root())
		if got == nil {
			t.Fatalf("xmlsec1 output holds no assertion:\n%.600s", o)
		}
		a, _, err := saml.VerifyAssertion(got, idpVerifier(t))
		must(t, err)
		if a.ID != out.Assertion.ID {
			t.Fatalf("decrypted %q, issued %q", a.ID, out.Assertion.ID)
		}
	})
}

func findAssertion(el *etree.Element) *etree.Element {
	if wire.Is(el, saml.NS, "Assertion") {
		return el
	}
	for _, c := range el.ChildElements() {
		if a := findAssertion(c); a != nil {
			return a
		}
	}
	return nil
}

// TestIssueSchema: the plain assertion and the one with the bootstrap are
// valid against the SAML and ID-WSF schemas (xmlsec/xsd).
func TestIssueSchema(t *testing.T) {
	f := newFixture(t)
	schema, err := xsd.Default()
	must(t, err)
	plain, err := f.idp.Issue(ctx, f.issueRequest(), f.now)
	must(t, err)
	must(t, schema.ValidateElement(plain.Element))
	req := f.issueRequest()
	req.Bootstrap, req.WSCCert, req.EncryptFor = true, federationKeys(t).WSC.Cert, recipient(t)
	boot, err := f.idp.Issue(ctx, req, f.now)
	must(t, err)
	must(t, schema.ValidateElement(boot.Element))
	dec, err := decrypter(federationKeys(t).WSC, portalID).Decrypt(boot.Element)
	must(t, err)
	must(t, schema.ValidateElement(dec))
	tok := bootstrapToken(t, dec)
	must(t, schema.ValidateElement(tok))
}

// seenValidator records what it is asked to validate and refuses it
// when refuse is set.
type seenValidator struct {
	seen   []string
	refuse bool
	next   Validator
}

func (v *seenValidator) ValidateElement(el *etree.Element) error {
	v.seen = append(v.seen, el.Tag)
	if v.refuse {
		return errors.New("refused by the test")
	}
	return v.next.ValidateElement(el)
}

// TestIssueValidatesBeforeEncrypting: the IdP checks the signed
// assertion itself, not the EncryptedAssertion that hides it, and an
// assertion the schema refuses is never issued.
func TestIssueValidatesBeforeEncrypting(t *testing.T) {
	f := newFixture(t)
	v := &seenValidator{next: testSchema(t)}
	p := f.withConfig(func(c *Config) { c.Schema = v })
	req := f.issueRequest()
	req.EncryptFor = recipient(t)
	iss, err := p.Issue(ctx, req, f.now)
	must(t, err)
	if iss.Element.Tag != "EncryptedAssertion" || len(v.seen) != 1 || v.seen[0] != "Assertion" {
		t.Fatalf("ok/plaintext-checked: issued %s, validated %v", iss.Element.Tag, v.seen)
	}
	v.refuse = true
	if iss, err := p.Issue(ctx, req, f.now); err == nil || CodeOf(err) != CodeInternal || iss != nil {
		t.Fatalf("fail/schema-refuses: issued %v, err %v", iss, err)
	}
}

// TestIssueRefusals: requests the profile or the architecture forbid.
func TestIssueRefusals(t *testing.T) {
	f := newFixture(t)
	noDSKey := f.withConfig(func(c *Config) {
		c.Discovery.Metadata = f.dsMetadata(md.KeyDescriptor{Use: md.UseSigning, Certificates: []*x509.Certificate{federationKeys(t).DS.Cert}})
	})
	noDS := f.withConfig(func(c *Config) { c.Discovery = nil })
	dsNotInMetadata := f.withConfig(func(c *Config) { c.Discovery.EntityID = "https://unknown.example.org/disco" })
	wsc := federationKeys(t).WSC.Cert
	cases := []struct {
		name   string
		p      *IdP
		change func(*IssueRequest)
		err    error
	}{
		{"fail/bootstrap-unencrypted", f.idp, func(r *IssueRequest) { r.Bootstrap, r.WSCCert = true, wsc }, ErrBootstrapUnencrypted},
		{"fail/bootstrap-without-wsc-key", f.idp, func(r *IssueRequest) { r.Bootstrap, r.EncryptFor = true, recipient(t) }, ErrNoDiscovery},
		{"fail/ds-without-encryption-key", noDSKey, func(r *IssueRequest) { r.Bootstrap, r.WSCCert, r.EncryptFor = true, wsc, recipient(t) }, ErrNoDiscovery},
		{"fail/ds-not-in-metadata", dsNotInMetadata, func(r *IssueRequest) { r.Bootstrap, r.WSCCert, r.EncryptFor = true, wsc, recipient(t) }, ErrNoDiscovery},
		{"fail/no-discovery-service", noDS, func(r *IssueRequest) { r.Bootstrap, r.WSCCert, r.EncryptFor = true, wsc, recipient(t) }, ErrNoDiscovery},
		{"fail/no-acs", f.idp, func(r *IssueRequest) { r.ACS = "" }, ErrInternal},
		{"fail/no-nameid", f.idp, func(r *IssueRequest) { r.NameID = nil }, ErrInternal},
		{"fail/lifetime-too-long", f.idp, func(r *IssueRequest) { r.Lifetime = 48 * time.Hour }, ErrInternal},
		{"fail/sp-key-too-small-or-not-rsa", f.idp, func(r *IssueRequest) {
			r.EncryptFor = &xmlenc.Recipient{Cert: f.Alice.Cert}
		}, ErrInternal},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := f.issueRequest()
			c.change(&req)
			out, err := c.p.Issue(ctx, req, f.now)
			wantErr(t, err, c.err)
			if out != nil {
				t.Fatal("an assertion came with the error")
			}
		})
	}
}

// TestIssueChecksNestedTokenOnce: a bootstrap assertion is validated once,
// before encryption, and that one check reaches the DS token nested in
// its DiscoveryEPR: a token the schema refuses fails the outer check. So
// the IdP's minter needs no check of its own.
func TestIssueChecksNestedTokenOnce(t *testing.T) {
	f := newFixture(t)
	v := &seenValidator{next: testSchema(t)}
	p := f.withConfig(func(c *Config) { c.Schema = v })
	req := f.issueRequest()
	req.Bootstrap, req.WSCCert, req.EncryptFor = true, federationKeys(t).WSC.Cert, recipient(t)
	boot, err := p.Issue(ctx, req, f.now)
	must(t, err)
	if len(v.seen) != 1 || v.seen[0] != "Assertion" {
		t.Fatalf("ok/one-check: validated %v", v.seen)
	}
	dec, err := decrypter(federationKeys(t).WSC, portalID).Decrypt(boot.Element)
	must(t, err)
	must(t, testSchema(t).ValidateElement(dec))
	tok := nestedAssertion(dec)
	if tok == nil {
		t.Fatal("no DS token inside the bootstrap assertion")
	}
	tok.InsertChildAt(0, etree.NewElement("saml:Unexpected"))
	if err := testSchema(t).ValidateElement(dec); err == nil {
		t.Fatal("fail/broken-nested-token: the outer check did not reach the token")
	}
}

// nestedAssertion returns the first saml:Assertion below el, in place.
func nestedAssertion(el *etree.Element) *etree.Element {
	for _, c := range el.ChildElements() {
		if c.Tag == "Assertion" && c.NamespaceURI() == saml.NS {
			return c
		}
		if x := nestedAssertion(c); x != nil {
			return x
		}
	}
	return nil
}
