package binding

import (
	"crypto/x509"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/xsd"
)

var t0 = time.Date(2024, 5, 2, 10, 5, 1, 0, time.UTC)

const (
	spEntity  = "https://127.0.0.1:8443/sp"
	idpEntity = "https://127.0.0.1:9443/idp"
	acsURL    = "https://127.0.0.1:8443/sp/acs"
	ssoURL    = "https://127.0.0.1:9443/idp/sso"
	ecpACSURL = "https://127.0.0.1:8443/sp/ecp-acs"
)

func authnRequest() *samlp.AuthnRequest {
	return &samlp.AuthnRequest{
		RequestHeader: samlp.RequestHeader{ID: "_q9f8e7d6c5b4a39281706f5e4d3c2b1a0", IssueInstant: t0,
			Destination: ssoURL, Issuer: &saml.Issuer{Value: spEntity}},
		NameIDPolicy:                &samlp.NameIDPolicy{Format: saml.NameIDPersistent, AllowCreate: true},
		RequestedAuthnContext:       &samlp.RequestedAuthnContext{Comparison: samlp.ComparisonExact, ClassRefs: []string{saml.ACSmartcardPKI}},
		AssertionConsumerServiceURL: acsURL, ProtocolBinding: samlp.BindingHTTPPOST,
	}
}

func trustOf(certs ...*x509.Certificate) *xmlsec.TrustSet { return xmlsec.NewTrustSet(certs) }

func serialize(t testing.TB, el *etree.Element) []byte {
	t.Helper()
	b, err := xmlsec.Serialize(el)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func validate(t testing.TB, b []byte) {
	t.Helper()
	if err := xsd.Validate(b); err != nil {
		t.Fatalf("schema: %v\n%s", err, b)
	}
}
