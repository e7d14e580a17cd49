package sp_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/binding"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/wsc/sp"
)

const relay = "/portal/overview"

// TestStartLogin: the browser goes to the IdP's HTTP-Redirect SSO endpoint
// with an AuthnRequest the IdP can check: query-signed with the SP's
// metadata key, from the SP, for the ACS over HTTP-POST, asking for a
// persistent NameID, with the RelayState; a RelayState the bindings cannot
// carry is refused before anything is kept.
func TestStartLogin(t *testing.T) {
	e := newEnv(t)
	lr, err := e.sp.StartLogin(ctx, relay)
	e.must(err)
	m, el := e.readRedirect(lr.URL, idpSSO)
	req, err := samlp.DecodeAuthnRequest(el)
	e.must(err)
	switch {
	case req.ID != lr.ID || req.Destination != idpSSO || req.Issuer == nil || req.Issuer.Value != spID:
		t.Fatalf("AuthnRequest %s to %s from %+v, want %s to the IdP from the SP", req.ID, req.Destination, req.Issuer, lr.ID)
	case req.AssertionConsumerServiceURL != acsURL || req.ProtocolBinding != samlp.BindingHTTPPOST:
		t.Fatalf("ACS %s %s, want %s over HTTP-POST", req.AssertionConsumerServiceURL, req.ProtocolBinding, acsURL)
	case req.NameIDPolicy == nil || req.NameIDPolicy.Format != saml.NameIDPersistent || !req.NameIDPolicy.AllowCreate:
		t.Fatalf("NameIDPolicy %+v, want persistent with AllowCreate", req.NameIDPolicy)
	case m.RelayState != relay || !req.IssueInstant.Equal(e.now) || !lr.Expires.Equal(e.now.Add(sp.DefaultRequestLifetime)):
		t.Fatalf("RelayState %q, IssueInstant %s, expires %s", m.RelayState, req.IssueInstant, lr.Expires)
	}
	if _, err := e.sp.StartLogin(ctx, strings.Repeat("r", binding.MaxRelayState+1)); !errors.Is(err, sp.ErrRelayState) {
		t.Fatalf("an 81-byte RelayState: %v, want ErrRelayState", err)
	}
}

// TestNewConfig: New reports every missing or inconsistent field at once.
func TestNewConfig(t *testing.T) {
	k := getKeys(t)
	_, err := sp.New(sp.Config{ACSURL: "http://portal.test/acs", Key: k.spSign.Key, Certificate: k.idp.Cert,
		Skew: -time.Second})
	if err == nil {
		t.Fatal("an empty configuration was accepted")
	}
	for _, want := range []string{"EntityID and IdP", `ACSURL "http://portal.test/acs"`, "SLOURL", "Metadata, Store and Schema",
		"Certificate does not certify Key", "Decrypter", "Skew"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not mention %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "SOAPSLOURL") {
		t.Errorf("an empty SOAPSLOURL (no back channel) is reported:\n%v", err)
	}
}
