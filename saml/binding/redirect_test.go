package binding

import (
	"bytes"
	"compress/flate"
	"crypto"
	"encoding/base64"
	"errors"
	"net/url"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

func TestRedirectRoundTrip(t *testing.T) {
	p := pki.MustGet()
	for _, tc := range []struct {
		name string
		id   *pki.Identity
		alg  string
	}{
		{"ok/rsa-sha256", p.RSA, ""},
		{"ok/rsa-sha512", p.RSA, xmlsec.RSASHA512},
		{"ok/ecdsa-p256", p.P256, ""},
		{"ok/ecdsa-p384", p.P384, xmlsec.ECDSASHA384},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, err := EncodeRedirect(authnRequest().Element(), "ss:mem:5f2a9c", &RedirectSigner{Key: tc.id.Key, SignatureMethod: tc.alg})
			if err != nil {
				t.Fatal(err)
			}
			m, err := (&RedirectDecoder{}).Decode(q)
			if err != nil {
				t.Fatal(err)
			}
			if m.Param != ParamRequest || m.RelayState != "ss:mem:5f2a9c" || !m.Signed() {
				t.Fatalf("decoded %+v", m)
			}
			el, key, err := m.Verify(trustOf(p.RSA.Cert, p.P256.Cert, p.P384.Cert), xmlsec.Policy{})
			if err != nil {
				t.Fatal(err)
			}
			if !tc.id.Key.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(key) {
				t.Fatal("verified by the wrong key")
			}
			validate(t, serialize(t, el))
			r, err := samlp.DecodeAuthnRequest(el)
			if err != nil || r.ID != authnRequest().ID {
				t.Fatalf("decode: %v", err)
			}
		})
	}
}

// TestRedirectDigestVector decodes the worked example of the spec digest
// (SAML2.md §4.1), whose value was deflated by zlib, not by Go.
func TestRedirectDigestVector(t *testing.T) {
	b, err := os.ReadFile("testdata/TestRedirectDigestVector_query.txt")
	if err != nil {
		t.Fatal(err)
	}
	m, err := (&RedirectDecoder{}).Decode(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	el, err := m.UnsignedElement()
	if err != nil {
		t.Fatal(err)
	}
	r, err := samlp.DecodeAuthnRequest(el)
	if err != nil {
		t.Fatal(err)
	}
	if r.ID != "_q9f8e7d6c5b4a39281706f5e4d3c2b1a0" || m.RelayState != "ss:mem:5f2a9c" || r.RequestedAuthnContext.ClassRefs[0] != "urn:oasis:names:tc:SAML:2.0:ac:classes:SmartcardPKI" {
		t.Fatalf("decoded %+v", r)
	}
}

func deflate64(t *testing.T, b []byte) string {
	t.Helper()
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestCompression)
	w.Write(b)
	w.Close()
	return url.QueryEscape(base64.StdEncoding.EncodeToString(buf.Bytes()))
}

// signRaw signs octets exactly as given, for tests that sign the wrong thing.
func signRaw(t *testing.T, key crypto.Signer, alg string, octets string) string {
	t.Helper()
	m, err := xmlsec.Policy{AllowSHA1: true}.SignatureMethod(alg)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := xmlsec.SignBytes(nil, key, m, []byte(octets))
	if err != nil {
		t.Fatal(err)
	}
	return url.QueryEscape(base64.StdEncoding.EncodeToString(sig))
}

func TestRedirectFailures(t *testing.T) {
	p := pki.MustGet()
	trust := trustOf(p.RSA.Cert, p.P256.Cert)
	req := deflate64(t, serialize(t, authnRequest().Element()))
	alg := url.QueryEscape(xmlsec.RSASHA256)
	good := "SAMLRequest=" + req + "&RelayState=rs&SigAlg=" + alg
	goodSig := signRaw(t, p.RSA.Key, xmlsec.RSASHA256, good)
	sha1 := "SAMLRequest=" + req + "&SigAlg=" + url.QueryEscape(xmlsec.RSASHA1)
	reordered := "RelayState=rs&SAMLRequest=" + req + "&SigAlg=" + alg
	bomb := bytes.Repeat([]byte{' '}, 16<<20) // about 16 KiB deflated: under the query cap, so the inflate cap must stop it
	var bombZ bytes.Buffer
	w, _ := flate.NewWriter(&bombZ, flate.BestCompression)
	w.Write(bomb)
	w.Close()
	response := deflate64(t, serialize(t, (&samlp.Response{StatusResponseHeader: samlp.StatusResponseHeader{ID: "_r", IssueInstant: t0,
		Status: samlp.NewStatus(samlp.StatusSuccess, "")}}).Element()))
	v11 := authnRequest().Element()
	v11.CreateAttr("Version", "1.1")
	cases := []struct {
		name  string
		query string
		want  error
	}{
		{"fail/deflate-bomb", "SAMLRequest=" + url.QueryEscape(base64.StdEncoding.EncodeToString(bombZ.Bytes())), xmlsec.ErrTooLarge},
		{"fail/bad-base64", "SAMLRequest=%21%21notbase64", ErrEncoding},
		{"fail/bad-deflate", "SAMLRequest=" + url.QueryEscape(base64.StdEncoding.EncodeToString([]byte("not deflate at all"))), ErrEncoding},
		{"fail/bad-percent", "SAMLRequest=%zz", ErrEncoding},
		{"fail/duplicate-samlrequest", "SAMLRequest=" + req + "&SAMLRequest=" + req, ErrParameter},
		{"fail/duplicate-sigalg", good + "&SigAlg=" + alg + "&Signature=" + goodSig, ErrParameter},
		{"fail/both-request-and-response", "SAMLRequest=" + req + "&SAMLResponse=" + req, ErrParameter},
		{"fail/no-message", "RelayState=x", ErrParameter},
		{"fail/relaystate-too-long", "SAMLRequest=" + req + "&RelayState=" + strings.Repeat("a", 81), ErrRelayState},
		{"fail/signature-without-sigalg", "SAMLRequest=" + req + "&Signature=" + goodSig, ErrParameter},
		{"fail/unknown-encoding", "SAMLRequest=" + req + "&SAMLEncoding=urn%3Ax", ErrEncoding},
		{"fail/response-in-samlrequest", "SAMLRequest=" + response, ErrMessage},
		{"fail/query-too-long", "SAMLRequest=" + strings.Repeat("A", DefaultMaxQuery), xmlsec.ErrTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := (&RedirectDecoder{}).Decode(tc.query); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	verifyCases := []struct {
		name  string
		query string
		pol   xmlsec.Policy
		want  error
	}{
		{"ok/signed", good + "&Signature=" + goodSig, xmlsec.Policy{}, nil},
		{"ok/parameters-reordered-on-the-wire", "SigAlg=" + alg + "&Signature=" + goodSig + "&RelayState=rs&SAMLRequest=" + req, xmlsec.Policy{}, nil},
		{"fail/signature-over-reordered-parameters", good + "&Signature=" + signRaw(t, p.RSA.Key, xmlsec.RSASHA256, reordered), xmlsec.Policy{}, xmlsec.ErrSignature},
		{"fail/relaystate-changed", strings.Replace(good, "RelayState=rs", "RelayState=rt", 1) + "&Signature=" + goodSig, xmlsec.Policy{}, xmlsec.ErrSignature},
		{"fail/re-encoded-value", strings.Replace(good, "%2B", "%2b", 1) + "&Signature=" + goodSig, xmlsec.Policy{}, xmlsec.ErrSignature},
		{"fail/sha1-not-allowed", sha1 + "&Signature=" + signRaw(t, p.RSA.Key, xmlsec.RSASHA1, sha1), xmlsec.Policy{}, xmlsec.ErrAlgorithm},
		{"ok/sha1-allowed", sha1 + "&Signature=" + signRaw(t, p.RSA.Key, xmlsec.RSASHA1, sha1), xmlsec.Policy{AllowSHA1: true}, nil},
		{"fail/unknown-sigalg", strings.Replace(good, alg, "urn%3Anone", 1) + "&Signature=" + goodSig, xmlsec.Policy{}, xmlsec.ErrAlgorithm},
		{"fail/wrong-sigalg", strings.Replace(good, alg, url.QueryEscape(xmlsec.RSASHA512), 1) + "&Signature=" + goodSig, xmlsec.Policy{}, xmlsec.ErrSignature},
		{"fail/ecdsa-sigalg-over-rsa-signature", strings.Replace(good, alg, url.QueryEscape(xmlsec.ECDSASHA384), 1) + "&Signature=" + goodSig, xmlsec.Policy{}, xmlsec.ErrSignature},
		{"fail/unsigned", "SAMLRequest=" + req, xmlsec.Policy{}, xmlsec.ErrNoSignature},
	}
	for _, tc := range verifyCases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := (&RedirectDecoder{}).Decode(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := m.Verify(trust, tc.pol); !errors.Is(err, tc.want) && (tc.want != nil || err != nil) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	t.Run("fail/deflate-bomb-bounded-memory", func(t *testing.T) {
		q := "SAMLRequest=" + url.QueryEscape(base64.StdEncoding.EncodeToString(bombZ.Bytes()))
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, err := (&RedirectDecoder{}).Decode(q)
		runtime.ReadMemStats(&after)
		if !errors.Is(err, xmlsec.ErrTooLarge) || !strings.Contains(err.Error(), "inflated") {
			t.Fatalf("got %v, want the inflate cap", err)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4<<20 {
			t.Fatalf("decoding a %d MiB bomb allocated %d bytes", len(bomb)>>20, alloc)
		}
	})
	t.Run("fail/untrusted-key", func(t *testing.T) {
		q, err := EncodeRedirect(authnRequest().Element(), "", &RedirectSigner{Key: p.ForeignRSA.Key})
		if err != nil {
			t.Fatal(err)
		}
		m, err := (&RedirectDecoder{}).Decode(q)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := m.Verify(trust, xmlsec.Policy{}); !errors.Is(err, xmlsec.ErrSignature) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("fail/nil-trust", func(t *testing.T) {
		m, err := (&RedirectDecoder{}).Decode(good + "&Signature=" + goodSig)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := m.Verify(nil, xmlsec.Policy{}); !errors.Is(err, xmlsec.ErrUntrustedKey) {
			t.Fatalf("got %v", err)
		}
		if _, err := m.UnsignedElement(); !errors.Is(err, ErrParameter) {
			t.Fatalf("UnsignedElement of a signed message: %v", err)
		}
	})
	t.Run("fail/tampered-message", func(t *testing.T) {
		q, err := EncodeRedirect(authnRequest().Element(), "", &RedirectSigner{Key: p.RSA.Key})
		if err != nil {
			t.Fatal(err)
		}
		other := authnRequest()
		other.AssertionConsumerServiceURL = "https://127.0.0.1:1/evil"
		q = "SAMLRequest=" + deflate64(t, serialize(t, other.Element())) + q[strings.Index(q, "&SigAlg="):]
		m, err := (&RedirectDecoder{}).Decode(q)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := m.Verify(trust, xmlsec.Policy{}); !errors.Is(err, xmlsec.ErrSignature) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("fail/version-1.1", func(t *testing.T) {
		m, err := (&RedirectDecoder{}).Decode("SAMLRequest=" + deflate64(t, serialize(t, v11)))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := samlp.DecodeAuthnRequest(m.Unverified()); !errors.Is(err, saml.ErrVersion) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("fail/encode-relaystate-too-long", func(t *testing.T) {
		if _, err := EncodeRedirect(authnRequest().Element(), strings.Repeat("a", 81), nil); !errors.Is(err, ErrRelayState) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("fail/encode-sha1-not-allowed", func(t *testing.T) {
		if _, err := EncodeRedirect(authnRequest().Element(), "", &RedirectSigner{Key: p.RSA.Key, SignatureMethod: xmlsec.RSASHA1}); !errors.Is(err, xmlsec.ErrAlgorithm) {
			t.Fatalf("got %v", err)
		}
	})
}
