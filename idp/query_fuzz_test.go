package idp

import (
	"crypto/x509"
	"testing"

	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// seedQueryURL is the endpoint of the run that wrote the seeds of
// FuzzQuery (testdata/fuzz/FuzzQuery) at seedNow.
const seedQueryURL = "https://127.0.0.1:41225/aq"

// FuzzQuery feeds SOAP Bodies to the AttributeQuery and NameIDMapping
// engines, seeded with otherSP's unsigned query and mapping request over
// a connection its TLS client certificate authenticates (the test keys
// are fresh at each run, so a signed seed would stop at its signature):
// they refuse with a typed error or answer, never panic, and never answer
// Success, since the fuzzed IdP has issued no NameID to anyone.
func FuzzQuery(f *testing.F) {
	e := newAttrEnv(f)
	e.sso.cfg.AttributeServiceURL, e.sso.cfg.NameIDMapping.URL = seedQueryURL, seedQueryURL
	certs := []*x509.Certificate{e.sps[otherSP].Key.Cert}
	f.Fuzz(func(t *testing.T, msg []byte) {
		doc, err := xmlsec.Parse(msg, xmlsec.Limits{MaxBytes: 64 << 10})
		if err != nil {
			return
		}
		for _, answer := range []func() (*QueryOutcome, error){
			func() (*QueryOutcome, error) {
				return e.sso.AttributeQuery(ctx, QueryInbound{Element: doc.Root(), ClientCerts: certs}, seedNow)
			},
			func() (*QueryOutcome, error) {
				return e.sso.NameIDMapping(ctx, QueryInbound{Element: doc.Root(), ClientCerts: certs}, seedNow)
			},
		} {
			out, err := answer()
			switch {
			case err != nil && CodeOf(err) == CodeInternal:
				t.Fatalf("untyped refusal: %v", err)
			case out == nil && err == nil:
				t.Fatal("no answer and no error")
			case out != nil && err == nil:
				u, _ := samlp.Peek(out.Response)
				t.Fatalf("a %s answered Success about a NameID never issued", u.Name)
			}
		}
	})
}
