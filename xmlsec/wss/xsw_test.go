package wss

import (
	"bytes"
	"encoding/base64"
	"slices"
	"testing"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// mutate parses a signed message, applies f as an attacker would, and
// returns the envelope as the receiver parses it.
func mutate(t *testing.T, b []byte, f func(env *etree.Element)) *etree.Element {
	t.Helper()
	env := parse(t, b)
	f(env)
	return parse(t, serialize(t, env))
}

// header returns the S:Header of an envelope.
func header(env *etree.Element) *etree.Element {
	return env.ChildElements()[0]
}

// wrapInHeader moves el into a new, unknown header block.
func wrapInHeader(env, el *etree.Element) {
	w := header(env).CreateElement("x:Wrapper")
	w.CreateAttr("xmlns:x", "urn:x-attacker")
	el.Parent().RemoveChild(el)
	w.AddChild(el)
}

// firstReference returns the first ds:Reference of the envelope's
// signature.
func firstReference(t *testing.T, env *etree.Element) *etree.Element {
	return signatureOf(t, env).FindElement("./SignedInfo/Reference")
}

// setTransforms replaces the first Reference's transforms by the given
// Transform elements (written as XML with the ds prefix).
func setTransforms(t *testing.T, env *etree.Element, xml string) {
	ts := firstReference(t, env).SelectElement("Transforms")
	for _, c := range ts.ChildElements() {
		ts.RemoveChild(c)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromString(`<w xmlns:ds="` + xmlsec.NSDSig + `">` + xml + `</w>`); err != nil {
		t.Fatal(err)
	}
	for _, c := range doc.Root().ChildElements() {
		ts.AddChild(c)
	}
}

// TestVerifyRefuses: each way a signed message can be broken or forged
// fails Verify with its typed error.
func TestVerifyRefuses(t *testing.T) {
	p := pki.MustGet()
	signed := signedRequest(t, samlSigner(p.RSA))
	cases := []struct {
		name   string
		f      func(t *testing.T, env *etree.Element)
		verify *Verifier
		want   error
	}{
		{"fail/duplicate-wsu-id-body-copy", func(t *testing.T, env *etree.Element) {
			body := byID(t, env, "BDY")
			header(env).AddChild(body.Copy())
		}, nil, xmlsec.ErrDuplicateID},
		{"fail/signed-body-wrapped-unsigned-body-with-same-id", func(t *testing.T, env *etree.Element) {
			body := byID(t, env, "BDY")
			wrapInHeader(env, body)
			evil := env.CreateElement("S:Body")
			evil.CreateAttr("wsu:Id", "BDY")
			evil.CreateElement("dstref:Delete")
		}, nil, xmlsec.ErrDuplicateID},
		{"fail/duplicate-id-as-unqualified-id", func(t *testing.T, env *etree.Element) {
			byID(t, env, "MID").CreateAttr("id", "TS")
		}, nil, xmlsec.ErrDuplicateID},
		{"fail/duplicate-id-under-another-prefix", func(t *testing.T, env *etree.Element) {
			to := byID(t, env, "TO")
			to.CreateAttr("xmlns:x", "urn:x-attacker")
			to.CreateAttr("x:Id", "ACT")
		}, nil, xmlsec.ErrDuplicateID},
		{"fail/reference-to-missing-id", func(t *testing.T, env *etree.Element) {
			byID(t, env, "TS").RemoveAttr("wsu:Id")
		}, nil, xmlsec.ErrReference},
		{"fail/unqualified-id-not-allowed", func(t *testing.T, env *etree.Element) {
			body := byID(t, env, "BDY")
			body.RemoveAttr("wsu:Id")
			body.CreateAttr("id", "BDY")
		}, nil, xmlsec.ErrReference},
		{"fail/reference-uri-empty", func(t *testing.T, env *etree.Element) {
			firstReference(t, env).CreateAttr("URI", "")
		}, nil, xmlsec.ErrReference},
		{"fail/reference-uri-xpointer", func(t *testing.T, env *etree.Element) {
			firstReference(t, env).CreateAttr("URI", "#xpointer(id('FWK'))")
		}, nil, xmlsec.ErrReference},
		{"fail/two-references-to-one-element", func(t *testing.T, env *etree.Element) {
			r := firstReference(t, env)
			r.Parent().AddChild(r.Copy())
		}, nil, xmlsec.ErrReference},
		{"fail/str-reference-to-missing-token", func(t *testing.T, env *etree.Element) {
			ki := signatureOf(t, env).SelectElement("KeyInfo")
			str := ki.SelectElement("SecurityTokenReference")
			str.RemoveChild(str.SelectElement("KeyIdentifier"))
			str.CreateElement("wsse:Reference").CreateAttr("URI", "#nowhere")
		}, nil, xmlsec.ErrReference},
		{"fail/transform-enveloped-signature", func(t *testing.T, env *etree.Element) {
			setTransforms(t, env, `<ds:Transform Algorithm="`+xmlsec.EnvelopedSignature+`"/><ds:Transform Algorithm="`+xmlsec.ExcC14N+`"/>`)
		}, nil, xmlsec.ErrTransform},
		{"fail/transform-xpath", func(t *testing.T, env *etree.Element) {
			setTransforms(t, env, `<ds:Transform Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116"><ds:XPath>not(ancestor-or-self::ds:Signature)</ds:XPath></ds:Transform><ds:Transform Algorithm="`+xmlsec.ExcC14N+`"/>`)
		}, nil, xmlsec.ErrTransform},
		{"fail/transform-xslt", func(t *testing.T, env *etree.Element) {
			setTransforms(t, env, `<ds:Transform Algorithm="http://www.w3.org/TR/1999/REC-xslt-19991116"><xsl:stylesheet xmlns:xsl="http://www.w3.org/1999/XSL/Transform" version="1.0"/></ds:Transform>`)
		}, nil, xmlsec.ErrTransform},
		{"fail/transform-inclusive-c14n", func(t *testing.T, env *etree.Element) {
			setTransforms(t, env, `<ds:Transform Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/>`)
		}, nil, xmlsec.ErrTransform},
		{"fail/no-transforms", func(t *testing.T, env *etree.Element) {
			r := firstReference(t, env)
			r.RemoveChild(r.SelectElement("Transforms"))
		}, nil, xmlsec.ErrTransform},
		{"fail/digest-mismatch-body-tampered", func(t *testing.T, env *etree.Element) {
			byID(t, env, "BDY").FindElement(".//Select").SetText("/pp:PP/pp:Address")
		}, nil, xmlsec.ErrDigest},
		{"fail/digest-mismatch-header-tampered", func(t *testing.T, env *etree.Element) {
			byID(t, env, "TO").SetText("https://evil.example.org/")
		}, nil, xmlsec.ErrDigest},
		{"fail/signature-value-tampered", func(t *testing.T, env *etree.Element) {
			sv := signatureOf(t, env).SelectElement("SignatureValue")
			v, err := xmlsec.DecodeBase64(sv.Text())
			if err != nil {
				t.Fatal(err)
			}
			v[10] ^= 1
			sv.SetText(base64.StdEncoding.EncodeToString(v))
		}, nil, xmlsec.ErrSignature},
		{"fail/two-signatures", func(t *testing.T, env *etree.Element) {
			security(t, env).AddChild(signatureOf(t, env).Copy())
		}, nil, xmlsec.ErrMalformed},
		{"fail/no-signature", func(t *testing.T, env *etree.Element) {
			security(t, env).RemoveChild(signatureOf(t, env))
		}, nil, xmlsec.ErrNoSignature},
		{"fail/no-security-header", func(t *testing.T, env *etree.Element) {
			header(env).RemoveChild(security(t, env))
		}, nil, xmlsec.ErrNoSignature},
		{"fail/two-security-headers", func(t *testing.T, env *etree.Element) {
			header(env).AddChild(security(t, env).Copy())
		}, nil, xmlsec.ErrMalformed},
		{"fail/rsa-key-outside-trust-set", nil, verifierFor(p.ForeignRSA, p.P256), xmlsec.ErrSignature},
		{"fail/no-key-of-the-family-trusted", nil, verifierFor(p.P256, p.P384), xmlsec.ErrUntrustedKey},
		{"fail/no-trust-set", nil, &Verifier{}, xmlsec.ErrUntrustedKey},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := parse(t, signed)
			if c.f != nil {
				env = mutate(t, signed, func(e *etree.Element) { c.f(t, e) })
			}
			v := c.verify
			if v == nil {
				v = verifierFor(p.RSA)
			}
			_, err := v.Verify(env)
			wantErr(t, err, c.want)
		})
	}
}

// TestVerifyKeyInfoSelectsOnly: a certificate in KeyInfo (X509Data or
// BinarySecurityToken) is looked up in the trust set, never trusted for
// being there; a SHA-1 digest is refused by a strict policy.
func TestVerifyKeyInfoSelectsOnly(t *testing.T) {
	p := pki.MustGet()
	cases := []struct {
		name string
		s    *Signer
		v    *Verifier
		want error
	}{
		{"fail/x509data-cert-not-trusted", &Signer{Key: p.RSA.Key, KeyRef: X509DataRef(p.RSA.Cert)}, verifierFor(p.ForeignRSA), xmlsec.ErrUntrustedKey},
		{"fail/binary-token-cert-not-trusted", &Signer{Key: p.P256.Key, KeyRef: BinaryTokenRef(p.P256.Cert)}, verifierFor(p.RSA, p.P384), xmlsec.ErrUntrustedKey},
		{"fail/sha1-digest-not-allowed", &Signer{Key: p.RSA.Key, DigestMethod: xmlsec.DigestSHA1, Policy: xmlsec.Policy{AllowSHA1: true}}, verifierFor(p.RSA), xmlsec.ErrAlgorithm},
		{"fail/ecdsa-sha1-not-allowed", &Signer{Key: p.P256.Key, SignatureMethod: xmlsec.ECDSASHA1, Policy: xmlsec.Policy{AllowSHA1: true}}, verifierFor(p.P256), xmlsec.ErrAlgorithm},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := c.v.Verify(parse(t, signedRequest(t, c.s)))
			wantErr(t, err, c.want)
		})
	}
}

// TestCoverageFindsWrapping: attacks that keep the signature valid, by
// moving signed elements where nobody reads them and putting unsigned
// ones in their place, pass Verify but not the coverage check; the
// Verified accessors never hand out the moved copies as the real ones.
func TestCoverageFindsWrapping(t *testing.T) {
	p := pki.MustGet()
	signed := signedRequest(t, samlSigner(p.RSA))
	cases := []struct {
		name     string
		f        func(t *testing.T, env *etree.Element)
		unsigned []string
		check    func(t *testing.T, v *Verified)
	}{
		{"fail/signed-body-moved-into-header-unsigned-body-in-place", nil, []string{"{" + NSSOAP11 + "}Body"}, func(t *testing.T, v *Verified) {
			if v.Body() != nil {
				t.Fatal("Body() returned the moved Body")
			}
		}},
		{"fail/header-moved-out-of-signed-set", func(t *testing.T, env *etree.Element) {
			ui := byID(t, env, "UI")
			wrapInHeader(env, ui)
			evil := etree.NewElement("sb:UserInteraction")
			evil.CreateAttr("interact", "doNotInteract")
			header(env).InsertChildAt(ui.Index(), evil)
		}, []string{"{" + NSSB + "}UserInteraction"}, func(t *testing.T, v *Verified) {
			if v.Header(NSSB, "UserInteraction") != nil {
				t.Fatal("Header() returned the moved UserInteraction")
			}
		}},
		{"fail/unsigned-header-added", func(t *testing.T, env *etree.Element) {
			header(env).CreateElement("sb:Consent").CreateAttr("uri", "urn:liberty:consent:obtained")
		}, []string{"{" + NSSB + "}Consent"}, nil},
		{"fail/unsigned-reference-parameter-added", func(t *testing.T, env *etree.Element) {
			rp := header(env).CreateElement("x:Ticket")
			rp.CreateAttr("xmlns:x", "urn:x")
			rp.CreateAttr("wsa:IsReferenceParameter", "true")
		}, []string{"{urn:x}Ticket"}, nil},
		{"fail/second-timestamp-added", func(t *testing.T, env *etree.Element) {
			security(t, env).AddChild(byID(t, env, "TS").Copy())
			ts := security(t, env).ChildElements()
			ts[len(ts)-1].RemoveAttr("wsu:Id")
		}, []string{"{" + NSWSU + "}Timestamp"}, func(t *testing.T, v *Verified) {
			if v.Timestamp() == nil {
				t.Fatal("the signed Timestamp is still the one signed in Security")
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var env *etree.Element
			if c.f == nil {
				env = parse(t, wrappedBody(t, signed))
			} else {
				env = mutate(t, signed, func(e *etree.Element) { c.f(t, e) })
			}
			v, err := verifierFor(p.RSA).Verify(env)
			if err != nil {
				t.Fatalf("the signature itself should still verify: %v", err)
			}
			missing, err := Unsigned(env, v)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range missing {
				got = append(got, "{"+m.Space+"}"+m.Local)
			}
			if !slices.Equal(got, c.unsigned) {
				t.Fatalf("unsigned %v, want %v", got, c.unsigned)
			}
			wantErr(t, CheckCoverage(env, v), xmlsec.ErrReference)
			if c.check != nil {
				c.check(t, v)
			}
		})
	}
}

// TestVerifiedCopiesHoldWhatWasDigested: a comment splitting signed text
// does not change the digest; the verified copy holds the whole text and
// no comment, Covers tells signed elements by identity, and Verify leaves
// the envelope as it was.
func TestVerifiedCopiesHoldWhatWasDigested(t *testing.T) {
	p := pki.MustGet()
	signed := signedRequest(t, samlSigner(p.RSA))
	split := bytes.Replace(signed, []byte("urn:uuid:0c4e2a11"), []byte("urn:uuid:0c4e<!-- -->2a11"), 1)
	if bytes.Equal(split, signed) {
		t.Fatal("no MessageID to split")
	}
	env := parse(t, split)
	before := serialize(t, env)
	v, err := verifierFor(p.RSA).Verify(env)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(serialize(t, env), before) {
		t.Fatal("Verify changed the envelope")
	}
	mid := v.Header(NSWSA, "MessageID")
	if mid.Text() != "urn:uuid:0c4e2a11-6f3b-4a8e-b5d2-7e9f1a2b3c04" || len(mid.Child) != 1 {
		t.Fatalf("verified MessageID holds %d tokens, text %q", len(mid.Child), mid.Text())
	}
	if !v.Covers(byID(t, env, "MID")) || v.Covers(security(t, env)) {
		t.Fatal("Covers does not tell signed from unsigned elements")
	}
	if string(serialize(t, v.Body())) == "" || v.Body().Parent() != nil {
		t.Fatal("the verified Body is not a detached copy")
	}
}
