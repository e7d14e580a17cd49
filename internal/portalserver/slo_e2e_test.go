package portalserver_test

import (
	"sync"
	"testing"

	"github.com/renkei-idwsf/renkei/internal/testkit/fedkit"
	"github.com/renkei-idwsf/renkei/internal/testkit/wspkit"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/dst"
	"github.com/renkei-idwsf/renkei/wsp/sample"
)

// TestLogoutEndsWSPTokens: the citizen logs in, the dashboard loads (the
// DS mints a token for each WSP, joining it to the IdP session); a token
// kept aside still works; the citizen logs out of the portal, the IdP's
// single logout reaches the WSPs over SOAP, and the WSP now refuses the
// kept token as an expired one, with the portal's own key.
func TestLogoutEndsWSPTokens(t *testing.T) {
	var mu sync.Mutex
	var received [][]byte
	f := fedkit.Start(t, fedkit.Options{Institutions: []string{sample.HospitalA}, Tap: func(b []byte) {
		mu.Lock()
		received = append(received, b)
		mu.Unlock()
	}})
	c := newCitizen(t, f, "p01")
	if home := c.get("/login?lang=en"); home.URL.String() != f.PortalURL+"/" {
		t.Fatalf("login ended at %s", home.URL)
	}
	f.Consent(t, c.b, sample.HospitalA)
	shows(t, "the dashboard", c.get("/"), "Toto Central Hospital", "Lab results")

	mu.Lock()
	kept := wspkit.KeptEPR(received, wspkit.Entities[sample.HospitalA], dst.Clinical)
	mu.Unlock()
	if kept == nil {
		t.Fatal("no EPR of hospital A's clinical service among the QueryResponses the portal received")
	}
	aside := wspkit.AsideClient(t, f.Portal.File.EntityID, f.PortalSigning, f.RootCAs, f.Portal.Directory)
	call := func() error { return wspkit.QueryAll(aside, kept, dst.Clinical, wsf.PurposeSelf) }
	if err := call(); err != nil {
		t.Fatalf("the kept token before logout: %v", err)
	}

	out := c.submit(c.get("/"), "/logout", nil)
	shows(t, "after logout", out, "You have logged out.") // not "..., but some services may not have logged you out"

	if err := call(); !wspkit.ExpiredToken(err) {
		t.Fatalf("the kept token after logout: %v, want the expired-token fault", err)
	}
}
