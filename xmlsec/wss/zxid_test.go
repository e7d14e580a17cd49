package wss

import (
	"bytes"
	"crypto/x509"
	"path/filepath"
	"slices"
	"testing"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/xmlsec"
)

// The ZXID 1.43 captures (copied from the project's shared captures, HTTP
// bodies only): zxid-14-req.xml is zxcall's signed request to the WSP,
// zxid-14-resp.xml the WSP's signed answer, zxid-15-wsp-metadata.xml the
// WSP's metadata, fetched by zxcall to verify that answer. Both messages
// sign with rsa-sha1 and sha1 digests, write the transforms
// enveloped-signature then exc-c14n on every Reference, and reference the
// Body by an unqualified id="BDY" (IDWSF2.md §11 item 18).

// zxidProfile is what a ZXID 1.43 peer needs from the verifier.
func zxidVerifier(trust *xmlsec.TrustSet) *Verifier {
	return &Verifier{
		Trust:              trust,
		Policy:             xmlsec.Policy{AllowSHA1: true, DetachedEnveloped: true},
		AllowUnqualifiedID: true,
	}
}

// wspSigningCert reads the signing certificate of the WSP's metadata.
func wspSigningCert(t testing.TB) *x509.Certificate {
	t.Helper()
	md := parseLoose(t, readFile(t, filepath.Join("zxid", "zxid-15-wsp-metadata.xml")))
	for _, kd := range md.FindElements("//KeyDescriptor[@use='signing']") {
		if c := kd.FindElement(".//X509Certificate"); c != nil {
			return parseCert(t, c.Text())
		}
	}
	t.Fatal("no signing certificate in the WSP metadata")
	return nil
}

func parseCert(t testing.TB, b64 string) *x509.Certificate {
	t.Helper()
	der, err := xmlsec.DecodeBase64(b64)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// capturedCerts returns every certificate the ZXID captures carry (the
// WSP's signing and encryption certificates).
func capturedCerts(t testing.TB) []*x509.Certificate {
	t.Helper()
	var out []*x509.Certificate
	for _, f := range []string{"zxid-15-wsp-metadata.xml", "zxid-14-req.xml", "zxid-14-resp.xml"} {
		root := parseLoose(t, readFile(t, filepath.Join("zxid", f)))
		for _, c := range root.FindElements("//X509Certificate") {
			cert := parseCert(t, c.Text())
			if !slices.ContainsFunc(out, cert.Equal) {
				out = append(out, cert)
			}
		}
	}
	return out
}

func zxidResponse(t testing.TB) *etree.Element {
	return parseLoose(t, readFile(t, filepath.Join("zxid", "zxid-14-resp.xml")))
}

// TestZXIDResponse verifies the WSP's signed response as captured, with
// the WSP's metadata key and the ZXID profile, and shows that each of the
// three quirks is needed: without it the message fails with its typed
// error.
func TestZXIDResponse(t *testing.T) {
	trust := xmlsec.NewTrustSet([]*x509.Certificate{wspSigningCert(t)})
	t.Run("ok/zxid-profile", func(t *testing.T) {
		env := zxidResponse(t)
		v, err := zxidVerifier(trust).Verify(env)
		if err != nil {
			t.Fatal(err)
		}
		if ids := partIDs(v); !slices.Equal(ids, []string{"FWK", "TS", "MID", "REL", "PRV", "BDY"}) {
			t.Fatalf("signed parts %v", ids)
		}
		if err := CheckCoverage(env, v); err != nil {
			t.Fatal(err)
		}
		got := v.Body().FindElement("./Response/Got")
		if got == nil || got.Text() != "28395 bytes, idpnid=FU24fwhVOFVLVAUbpxuAz-F1x" {
			t.Fatalf("verified Body: %s", serialize(t, v.Body()))
		}
		if rel := v.Header(NSWSA, "RelatesTo"); rel == nil || rel.Text() != "urn:MLBssg6RYV2VghA4dEPkzap7F" {
			t.Fatal("verified RelatesTo missing or wrong")
		}
		if v.KeyRef.Kind != KeyRefNone || v.Method.URI != xmlsec.RSASHA1 {
			t.Fatalf("KeyRef %+v, method %s", v.KeyRef, v.Method.URI)
		}
	})
	quirkless := []struct {
		name string
		drop func(*Verifier)
		want error
	}{
		{"fail/without-allow-sha1", func(v *Verifier) { v.Policy.AllowSHA1 = false }, xmlsec.ErrAlgorithm},
		{"fail/without-unqualified-id", func(v *Verifier) { v.AllowUnqualifiedID = false }, xmlsec.ErrReference},
		{"fail/without-detached-enveloped", func(v *Verifier) { v.Policy.DetachedEnveloped = false }, xmlsec.ErrTransform},
		{"fail/default-verifier", func(v *Verifier) { *v = Verifier{Trust: trust} }, xmlsec.ErrAlgorithm},
	}
	for _, c := range quirkless {
		t.Run(c.name, func(t *testing.T) {
			v := zxidVerifier(trust)
			c.drop(v)
			_, err := v.Verify(zxidResponse(t))
			wantErr(t, err, c.want)
		})
	}
	t.Run("fail/tampered-body", func(t *testing.T) {
		b := bytes.Replace(readFile(t, filepath.Join("zxid", "zxid-14-resp.xml")), []byte("28395 bytes"), []byte("28396 bytes"), 1)
		_, err := zxidVerifier(trust).Verify(parseLoose(t, b))
		wantErr(t, err, xmlsec.ErrDigest)
	})
	t.Run("fail/encryption-key-is-not-the-signing-key", func(t *testing.T) {
		var enc []*x509.Certificate
		for _, c := range capturedCerts(t) {
			if !c.Equal(wspSigningCert(t)) {
				enc = append(enc, c)
			}
		}
		_, err := zxidVerifier(xmlsec.NewTrustSet(enc)).Verify(zxidResponse(t))
		wantErr(t, err, xmlsec.ErrSignature)
	})
}

// TestZXIDRequest checks zxcall's signed request to the WSP. zxcall's
// certificate was not captured (its metadata was never fetched in the
// recorded exchange, and no capture carries it), so the SignatureValue
// cannot verify against any captured key: Verify fails with ErrSignature.
// Everything else is checked: with the ZXID profile all eight References
// (Framework, Timestamp, MessageID, Action, To, Sender, the token's STR
// and the Body, by id="BDY") resolve to one element each and their SHA-1
// digests match, and a changed Body breaks its digest. Without each quirk
// Verify stops earlier, with that quirk's typed error.
func TestZXIDRequest(t *testing.T) {
	b := readFile(t, filepath.Join("zxid", "zxid-14-req.xml"))
	trust := xmlsec.NewTrustSet(capturedCerts(t))
	t.Run("fail/at-the-signature-only-zxcall-cert-not-captured", func(t *testing.T) {
		if err := zxidDigests(t, b, 8); err != nil {
			t.Fatal(err)
		}
		_, err := zxidVerifier(trust).Verify(parseLoose(t, b))
		wantErr(t, err, xmlsec.ErrSignature)
	})
	t.Run("fail/tampered-body-digest", func(t *testing.T) {
		bad := bytes.Replace(b, []byte("Hello WSP"), []byte("Hello WSQ"), 1)
		wantErr(t, zxidDigests(t, bad, 8), xmlsec.ErrDigest)
	})
	cases := []struct {
		name string
		drop func(*Verifier)
		want error
	}{
		{"fail/without-allow-sha1", func(v *Verifier) { v.Policy.AllowSHA1 = false }, xmlsec.ErrAlgorithm},
		{"fail/without-unqualified-id", func(v *Verifier) { v.AllowUnqualifiedID = false }, xmlsec.ErrReference},
		{"fail/without-detached-enveloped", func(v *Verifier) { v.Policy.DetachedEnveloped = false }, xmlsec.ErrTransform},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := zxidVerifier(trust)
			c.drop(v)
			_, err := v.Verify(parseLoose(t, b))
			wantErr(t, err, c.want)
		})
	}
}

// zxidDigests resolves the References of a captured ZXID message the way
// Verify does under the ZXID profile and checks each digest, wanting n
// References.
func zxidDigests(t *testing.T, b []byte, n int) error {
	t.Helper()
	env := parseLoose(t, b)
	v := zxidVerifier(xmlsec.NewTrustSet(nil))
	sig, err := xmlsec.ParseSignature(signatureOf(t, env), xmlsec.ModeWSSecurity, v.Policy)
	if err != nil {
		return err
	}
	targets, _, err := v.resolve(env, sig, "")
	if err != nil {
		return err
	}
	if len(targets) != n {
		t.Fatalf("%d References, want %d", len(targets), n)
	}
	for i, tgt := range targets {
		if err := sig.SignedInfo.References[i].Verify(tgt, sig.Element); err != nil {
			return err
		}
	}
	return nil
}
