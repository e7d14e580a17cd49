package conformance

import (
	"crypto/x509"
	"testing"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
)

// TestBackChannelTLSAuthentication: an unsigned request at the suite's
// SOAP endpoint counts as authenticated only when its sender presented a
// TLS client certificate with a key of the IdP's metadata; a signed one
// is judged by its signature, and an unsigned one without such a key is
// not authenticated (the IdP is then blamed, as before).
func TestBackChannelTLSAuthentication(t *testing.T) {
	e, idp, other, now := judgeEnv(t)
	req := &samlp.LogoutRequest{RequestHeader: samlp.RequestHeader{ID: "_l1", IssueInstant: now, Issuer: &saml.Issuer{Value: idp.EntityID}},
		NameID: &saml.NameID{Value: "n1"}}
	signed, err := samlp.Sign(req, &dsig.Signer{Key: idp.Key, Certificates: []*x509.Certificate{idp.Cert}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		el   *etree.Element
		tls  []*x509.Certificate
		want bool
	}{
		{"ok/unsigned-with-idp-tls-key", req.Element(), []*x509.Certificate{idp.Cert}, true},
		{"fail/unsigned-without-tls", req.Element(), nil, false},
		{"fail/unsigned-with-foreign-tls-key", req.Element(), []*x509.Certificate{other.Cert}, false},
		{"fail/signed-judged-by-signature", signed, []*x509.Certificate{idp.Cert}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := e.tlsAuthenticated(backRequest{el: tc.el, peers: tc.tls}); got != tc.want {
				t.Fatalf("tlsAuthenticated = %v, want %v", got, tc.want)
			}
		})
	}
}
