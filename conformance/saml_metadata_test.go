package conformance

import (
	"bytes"
	"context"
	"crypto/x509"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
)

func TestMetadataSignatureCase(t *testing.T) {
	k, err := NewSP("https://127.0.0.1/idp", "", time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ed := &md.EntityDescriptor{EntityID: "https://127.0.0.1/idp", ID: "_md1", IDPSSO: []*md.IDPSSODescriptor{{
		SSO: md.SSO{Role: md.Role{ProtocolSupport: []string{md.ProtocolSAML2},
			Keys: []md.KeyDescriptor{{Use: md.UseSigning, Certificates: []*x509.Certificate{k.Cert}}}}},
		SingleSignOn: []md.Endpoint{{Binding: md.BindingHTTPRedirect, Location: "https://127.0.0.1/sso"}},
	}}}
	el, err := md.Sign(ed, &dsig.Signer{Key: k.Key})
	if err != nil {
		t.Fatal(err)
	}
	signed, err := xmlsec.Serialize(el)
	if err != nil {
		t.Fatal(err)
	}
	tampered := bytes.Replace(signed, []byte("https://127.0.0.1/sso"), []byte("https://127.0.0.1/evil"), 1)
	tests := []struct {
		name string
		raw  []byte
		want Verdict
	}{
		{"ok/signed", signed, Pass},
		{"fail/tampered", tampered, Fail},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			target, err := ParseTarget("md.xml", tc.raw)
			if err != nil {
				t.Fatal(err)
			}
			e := &Env{Target: target}
			if o := runMetadataSignature(context.Background(), e); o.Verdict != tc.want {
				t.Fatalf("%s (%s), want %s", o.Verdict, o.Reason, tc.want)
			}
			if o := runMetadataSchema(context.Background(), e); o.Verdict != Pass {
				t.Fatalf("schema: %s (%s)", o.Verdict, o.Reason)
			}
			if o := runSSOBindings(context.Background(), e); o.Verdict != Pass {
				t.Fatalf("bindings: %s (%s)", o.Verdict, o.Reason)
			}
		})
	}
}
