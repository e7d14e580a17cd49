package conformance

import (
	"context"
	"crypto/x509"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
)

func TestOracle(t *testing.T) {
	now := time.Now()
	k, err := NewSP("https://127.0.0.1/idp", "", now, nil)
	if err != nil {
		t.Fatal(err)
	}
	other, err := NewSP("https://127.0.0.1/other", "", now, nil)
	if err != nil {
		t.Fatal(err)
	}
	a := &saml.Assertion{ID: "_oracle1", IssueInstant: now, Issuer: saml.Issuer{Value: "https://127.0.0.1/idp"},
		Subject: &saml.Subject{NameID: &saml.NameID{Value: "alice"}}}
	el, err := saml.SignAssertion(a, &dsig.Signer{Key: k.Key, Certificates: []*x509.Certificate{k.Cert}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tampered := el.Copy()
	tampered.FindElement(".//NameID").SetText("mallory")
	tests := []struct {
		name  string
		certs []*x509.Certificate
		ok    bool
	}{
		{"ok/signed", []*x509.Certificate{k.Cert}, true},
		{"ok/second-key", []*x509.Certificate{other.Cert, k.Cert}, true},
		{"fail/other-key", []*x509.Certificate{other.Cert}, false},
		{"fail/tampered", []*x509.Certificate{k.Cert}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := el
			if tc.name == "fail/tampered" {
				e = tampered
			}
			ok, out, err := Oracle{}.VerifyEnveloped(ctx, e, saml.NS, "Assertion", tc.certs)
			if err != nil {
				t.Fatal(err)
			}
			if ok != tc.ok {
				t.Fatalf("xmlsec1 ok = %v, want %v\n%s", ok, tc.ok, out)
			}
		})
	}
}
