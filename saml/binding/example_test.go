package binding_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"net/url"
	"time"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/binding"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// An SP sends a signed AuthnRequest with the HTTP-Redirect binding; the IdP
// decodes the raw query, finds the issuer's keys, verifies and decodes.
func Example_redirect() {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	req := &samlp.AuthnRequest{RequestHeader: samlp.RequestHeader{ID: "_req1",
		IssueInstant: time.Date(2024, 5, 2, 10, 0, 0, 0, time.UTC), Destination: "https://127.0.0.1:9443/idp/sso",
		Issuer: &saml.Issuer{Value: "https://127.0.0.1:8443/sp"}}}
	loc, err := binding.RedirectURL(req.Destination, req.Element(), "state-1", &binding.RedirectSigner{Key: key})
	if err != nil {
		panic(err)
	}

	u, _ := url.Parse(loc)
	m, err := (&binding.RedirectDecoder{}).Decode(u.RawQuery) // the raw query: signed octets as sent
	if err != nil {
		panic(err)
	}
	peek, _ := samlp.Peek(m.Unverified()) // only to look the issuer's keys up
	trust := xmlsec.NewTrustSet(nil, key.Public())
	el, _, err := m.Verify(trust, xmlsec.Policy{})
	if err != nil {
		panic(err)
	}
	got, err := samlp.DecodeAuthnRequest(el)
	if err != nil {
		panic(err)
	}
	fmt.Println(peek.Issuer.Value, m.SigAlg, m.RelayState, got.ID)
	// Output: https://127.0.0.1:8443/sp http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256 state-1 _req1
}
