package idp

import (
	"strings"
	"testing"
)

// TestSignersUseConfig: the XML signer and the HTTP-Redirect signer, from
// which every IdP signature comes (the ManageNameIDService's query-signed
// answer too, which once dropped the Rand), use the configured key, first
// certificate and Rand.
func TestSignersUseConfig(t *testing.T) {
	f := newFixture(t)
	rnd := strings.NewReader("configured randomness")
	p := f.withConfig(func(c *Config) { c.Rand = rnd })
	s := p.signer()
	if s.Key != p.cfg.SigningKey || len(s.Certificates) != 1 || s.Certificates[0] != p.cfg.SigningCerts[0] || s.Rand != rnd {
		t.Fatalf("XML signer %+v does not use the configured key, certificate and Rand", s)
	}
	r := p.redirectSigner()
	if r.Key != p.cfg.SigningKey || r.Rand != rnd {
		t.Fatalf("Redirect signer %+v does not use the configured key and Rand", r)
	}
	if l := (&SLO{sso: &SSO{p: p}}); l.sso.signer().Rand != rnd || l.RedirectSigner().Rand != rnd {
		t.Fatal("the SSO and SLO engines do not sign with the IdP's Rand")
	}
}
