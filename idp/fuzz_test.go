package idp

import (
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// FuzzAccept feeds AuthnRequests, as the POST binding would deliver them,
// to the engine, seeded with our test SPs' signed and unsigned requests
// (testdata/fuzz/FuzzAccept): refuse with a typed error or accept, never
// panic, and whenever a response may be sent, it goes to an https ACS
// listed in that SP's metadata and nowhere else.
//
// The seeds were written by a run whose IdP served seedSSOURL at
// seedNow; the fuzzed engine takes both, so that mutations of the seeds
// get past the Destination and freshness checks into the rest of Accept
// (the replay check then refuses every ID after its first use).
func FuzzAccept(f *testing.F) {
	e := newSSOEnv(f, func(c *SSOConfig) { c.SSOURL = seedSSOURL })
	f.Fuzz(func(t *testing.T, msg []byte) {
		doc, err := xmlsec.Parse(msg, xmlsec.Limits{MaxBytes: 64 << 10})
		if err != nil {
			return
		}
		pend, err := e.sso.Accept(ctx, Inbound{Binding: samlp.BindingHTTPPOST, Element: doc.Root()}, seedNow)
		if err != nil && CodeOf(err) == CodeInternal {
			t.Fatalf("untyped refusal: %v", err)
		}
		if pend == nil || err != nil && StatusFor(err).SendNothing {
			return
		}
		sp, ok := e.sps[pend.SP]
		if !ok || pend.ACS != sp.ACS || sp.BadACS != "" || safeURL(pend.ACS) != nil {
			t.Fatalf("a response could go to %q for %q", pend.ACS, pend.SP)
		}
	})
}

// seedSSOURL and seedNow are the IdP endpoint and clock of the run that
// wrote testdata/fuzz/FuzzAccept.
const seedSSOURL = "https://127.0.0.1:41225/sso"

var seedNow = time.Date(2026, 12, 4, 20, 42, 8, 0, time.UTC)
