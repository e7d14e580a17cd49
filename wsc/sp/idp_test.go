package sp_test

import (
	"crypto/x509"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/internal/browser"
	"github.com/renkei-idwsf/renkei/internal/testkit/idpkit"
	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/wsc/sp"
	"github.com/renkei-idwsf/renkei/wsf"
)

// idpKitEntity is the entityID idpkit gives the IdP; the SPs are
// configured with it before the kit exists, as their metadata must be in
// the IdP's configuration.
const idpKitEntity = "https://idp.renkei.test/saml"

// federation is the real renkei-idp process with two SPs of this engine:
// My Portal, which has a SOAP SingleLogoutService, and a reception
// terminal, which has only the front channel; and a citizen's browser
// holding the card.
type federation struct {
	k        *idpkit.IdP
	portal   *portal
	terminal *portal
	b        *browser.Browser
}

func newFederation(t *testing.T) *federation {
	keys := getKeys(t)
	f := &federation{}
	f.portal = newPortal(t, "portal", keys.spSign, keys.spEnc, true, idpKitEntity)
	f.terminal = newPortal(t, "terminal", keys.termSign, keys.termEnc, false, idpKitEntity)
	// The IdP reaches the portal's SOAP endpoint trusting the test CA
	// (idpkit's trustedRoots).
	f.k = idpkit.New(t, idpkit.Options{SPMetadata: [][]byte{f.portal.metadata(), f.terminal.metadata()}, Discovery: true,
		Tweak: func(c *idpkit.Config) { c.IdPInitiated = []string{f.portal.entity} }})
	if f.k.EntityID != idpKitEntity {
		t.Fatalf("idpkit names the IdP %s, the SPs trust %s", f.k.EntityID, idpKitEntity)
	}
	card := f.k.IssueCard("p-hanako", "HIC-0100", pki.P256)
	f.k.Start()
	f.portal.trustIdP(f.k.Metadata)
	f.terminal.trustIdP(f.k.Metadata)
	var err error
	f.b, err = browser.New(browser.Config{RootCAs: f.k.RootCAs, ServerName: idpkit.ServerName,
		Certificate: []*x509.Certificate{card.Cert}, Key: card.Key, Timeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// get navigates and wants the flow to end at want with HTTP 200.
func (f *federation) get(t *testing.T, u, want string) *browser.Page {
	t.Helper()
	page, err := f.b.Get(ctx, u)
	if err != nil || page.Status != http.StatusOK || endpoint(page) != want {
		status, at := 0, ""
		if page != nil {
			status, at = page.Status, page.URL.String()
		}
		t.Fatalf("the browser ended at %s (HTTP %d, %v), want %s\n%s\nportal: %v\nterminal: %v\nIdP:\n%s",
			at, status, err, want, f.b, errsOf(f.portal), errsOf(f.terminal), f.k.Stderr())
	}
	return page
}

func errsOf(p *portal) []error {
	_, _, errs, _, _ := p.state()
	return errs
}

// endpoint is where a page is, without its query.
func endpoint(p *browser.Page) string {
	if p == nil || p.URL == nil {
		return ""
	}
	return p.URL.Scheme + "://" + p.URL.Host + p.URL.Path
}

// loginAt logs the browser in at p and returns the Login p's engine gave.
func (f *federation) loginAt(t *testing.T, p *portal, relayState string) *sp.Login {
	t.Helper()
	_, before, _, _, _ := p.state()
	f.get(t, p.base+"/login?rs="+relayState, p.base+"/acs")
	n, logins, _, _, _ := p.state()
	if len(logins) != len(before)+1 || n == 0 {
		t.Fatalf("%s recorded %d logins, %d sessions", p.name, len(logins), n)
	}
	return logins[len(logins)-1]
}

// TestRenkeiIdP runs the engine against the real renkei-idp: login with
// the card, a second SP's login in the same IdP session, an unsolicited
// Response refused, then the three logouts the IdP can drive: from the
// terminal (the IdP reaches the portal over SOAP), from the portal (the
// IdP sends the browser through the terminal), and from the IdP itself.
func TestRenkeiIdP(t *testing.T) {
	f := newFederation(t)
	var portalLogin, terminalLogin *sp.Login

	t.Run("ok/login", func(t *testing.T) {
		l := f.loginAt(t, f.portal, "overview")
		portalLogin = l
		n := l.NameID
		switch {
		case n.Format != saml.NameIDPersistent || n.Value == "" || n.NameQualifier != f.k.EntityID || n.SPNameQualifier != f.portal.entity:
			t.Fatalf("NameID %+v, want a persistent pseudonym of the IdP for the portal", n)
		case l.SessionIndex == "" || l.AuthnContext != saml.ACSmartcardPKI || l.IdP != f.k.EntityID || l.RelayState != "overview":
			t.Fatalf("SessionIndex %q, AuthnContext %s, IdP %s, RelayState %q", l.SessionIndex, l.AuthnContext, l.IdP, l.RelayState)
		case time.Since(l.AuthnInstant) > time.Minute || !l.SessionNotOnOrAfter.After(time.Now()):
			t.Fatalf("AuthnInstant %s, SessionNotOnOrAfter %s", l.AuthnInstant, l.SessionNotOnOrAfter)
		case l.Bootstrap == nil || l.Bootstrap.Address != f.k.DSAddress() || l.Bootstrap.Metadata == nil ||
			l.Bootstrap.Metadata.ProviderID != idpkit.DSEntityID || l.Bootstrap.Metadata.ServiceType != wsf.ServiceTypeDisco:
			t.Fatalf("bootstrap %+v, want the DS %s at %s", l.Bootstrap, idpkit.DSEntityID, f.k.DSAddress())
		}
	})
	t.Run("ok/second-sp-gets-another-pseudonym", func(t *testing.T) {
		l := f.loginAt(t, f.terminal, "desk")
		terminalLogin = l
		if l.NameID.Value == portalLogin.NameID.Value || l.NameID.SPNameQualifier != f.terminal.entity {
			t.Fatalf("the terminal got %+v, the portal %+v: pseudonyms must be pairwise", l.NameID, portalLogin.NameID)
		}
	})
	t.Run("fail/unsolicited-response-refused", func(t *testing.T) {
		page, err := f.b.Get(ctx, f.k.BaseURL+"/sso/init?sp="+f.portal.entity)
		if err != nil || endpoint(page) != f.portal.base+"/acs" || page.Status != http.StatusForbidden ||
			!f.portal.lastErrIs(sp.ErrUnsolicited) {
			t.Fatalf("IdP-initiated SSO ended at %v (%v), portal errors %v; want the ACS refusing it as unsolicited",
				page, err, errsOf(f.portal))
		}
	})
	t.Run("ok/terminal-logout-reaches-portal-over-soap", func(t *testing.T) {
		f.get(t, f.terminal.base+"/logout", f.terminal.base+"/slo")
		_, _, _, results, _ := f.terminal.state()
		if len(results) != 1 || !results[0].Success() || results[0].RelayState != "bye-terminal" {
			t.Fatalf("the terminal's logout result %+v, want Success", results)
		}
		n, _, _, _, ended := f.portal.state()
		if len(ended) != 1 || ended[0].Binding != samlp.BindingSOAP || *ended[0].NameID != *portalLogin.NameID ||
			len(ended[0].SessionIndexes) != 1 || ended[0].SessionIndexes[0] != portalLogin.SessionIndex || n != 0 {
			t.Fatalf("the portal ended %+v over %v and keeps %d sessions; want its login's session ended over SOAP", ended, bindingsOf(ended), n)
		}
	})
	t.Run("ok/portal-logout-reaches-terminal-through-the-browser", func(t *testing.T) {
		portalLogin = f.loginAt(t, f.portal, "overview")
		terminalLogin = f.loginAt(t, f.terminal, "desk")
		f.get(t, f.portal.base+"/logout", f.portal.base+"/slo")
		_, _, _, results, _ := f.portal.state()
		if len(results) != 1 || !results[0].Success() || results[0].RelayState != "bye-portal" {
			t.Fatalf("the portal's logout result %+v, want Success", results)
		}
		n, _, _, _, ended := f.terminal.state()
		if len(ended) != 1 || ended[0].Binding != samlp.BindingHTTPRedirect || *ended[0].NameID != *terminalLogin.NameID ||
			ended[0].SessionIndexes[0] != terminalLogin.SessionIndex || n != 0 {
			t.Fatalf("the terminal ended %+v and keeps %d sessions; want its login's session ended through the browser", ended, n)
		}
	})
	t.Run("ok/idp-initiated-logout-reaches-both", func(t *testing.T) {
		portalLogin = f.loginAt(t, f.portal, "overview")
		terminalLogin = f.loginAt(t, f.terminal, "desk")
		confirm := f.get(t, f.k.BaseURL+"/slo/init", f.k.BaseURL+"/slo/init")
		forms, err := browser.ParseForms(confirm.Body, confirm.URL)
		if err != nil || len(forms) != 1 {
			t.Fatalf("the IdP's logout confirmation: %d forms, %v\n%s", len(forms), err, confirm.Body)
		}
		page, err := f.b.Submit(ctx, forms[0])
		if err != nil || page.Status != http.StatusOK || endpoint(page) != f.k.BaseURL+"/slo" {
			t.Fatalf("confirming the logout: %v, ended at %v\n%s", err, page, f.b)
		}
		if !strings.Contains(string(page.Body), "You are logged out") || strings.Contains(string(page.Body), "could not be reached") {
			t.Fatalf("the IdP's last page:\n%s", page.Body)
		}
		pn, _, _, _, pEnded := f.portal.state()
		tn, _, _, _, tEnded := f.terminal.state()
		if pn != 0 || tn != 0 || len(pEnded) != 2 || len(tEnded) != 2 ||
			*pEnded[1].NameID != *portalLogin.NameID || *tEnded[1].NameID != *terminalLogin.NameID {
			t.Fatalf("sessions left: portal %d, terminal %d; ended %v %v", pn, tn, bindingsOf(pEnded), bindingsOf(tEnded))
		}
	})
	for _, p := range []*portal{f.portal, f.terminal} {
		_, _, errs, _, _ := p.state()
		if len(errs) > 1 {
			t.Errorf("%s refused more than the unsolicited Response: %v", p.name, errs)
		}
	}
}

func bindingsOf(ls []*sp.IdPLogout) []string {
	var out []string
	for _, l := range ls {
		out = append(out, l.Binding)
	}
	return out
}
