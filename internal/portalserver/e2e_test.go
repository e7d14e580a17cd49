package portalserver_test

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/renkei-idwsf/renkei/internal/browser"
	"github.com/renkei-idwsf/renkei/internal/testkit/fedkit"
	"github.com/renkei-idwsf/renkei/wsp/sample"
)

// citizen is a card holder's browser: the card's key signs the TLS
// handshake wherever a server asks for a client certificate (the IdP's
// card login), it keeps cookies, follows redirects and submits the
// auto-posting SAML forms.
type citizen struct {
	t *testing.T
	b *browser.Browser
	f *fedkit.Fed
}

func newCitizen(t *testing.T, f *fedkit.Fed, person string) *citizen {
	_, card := f.Citizen(t, person)
	return &citizen{t: t, b: f.Browser(t, card), f: f}
}

func (c *citizen) get(path string) *browser.Page {
	c.t.Helper()
	u := path
	if strings.HasPrefix(path, "/") {
		u = c.f.PortalURL + path
	}
	p, err := c.b.Get(context.Background(), u)
	if err != nil {
		c.t.Fatalf("GET %s: %v\n%s\nIdP:\n%s", u, err, c.b, c.f.IdP.Stderr())
	}
	return p
}

// submit submits the first form of page whose action ends with action,
// with the extra values set.
func (c *citizen) submit(p *browser.Page, action string, set url.Values) *browser.Page {
	c.t.Helper()
	forms, err := browser.ParseForms(p.Body, p.URL)
	if err != nil {
		c.t.Fatal(err)
	}
	for _, f := range forms {
		if !strings.HasSuffix(f.Action.Path, action) {
			continue
		}
		match := true
		for k, vs := range set {
			if strings.HasPrefix(k, "=") { // "=name": the form must hold that value already
				match = match && f.Values.Get(k[1:]) == vs[0]
			}
		}
		if !match {
			continue
		}
		for k, vs := range set {
			if !strings.HasPrefix(k, "=") {
				f.Values[k] = vs
			}
		}
		res, err := c.b.Submit(context.Background(), f)
		if err != nil {
			c.t.Fatalf("submit %s: %v\n%s", action, err, c.b)
		}
		return res
	}
	c.t.Fatalf("no form to %s on %s:\n%s", action, p.URL, p.Body)
	return nil
}

func shows(t *testing.T, what string, p *browser.Page, texts ...string) {
	t.Helper()
	for _, x := range texts {
		if !strings.Contains(string(p.Body), x) {
			t.Errorf("%s (%s) does not show %q", what, p.URL, x)
		}
	}
}

func lacks(t *testing.T, what string, p *browser.Page, texts ...string) {
	t.Helper()
	for _, x := range texts {
		if strings.Contains(string(p.Body), x) {
			t.Errorf("%s (%s) still shows %q", what, p.URL, x)
		}
	}
}

// TestCitizenDay: the citizen logs in to the portal with the card at the
// real IdP, links the four institutions through the DS's consent page,
// sees every institution's records, books and cancels, withdraws a
// consent, reads the access log and logs out (SLO), after which the
// portal session is gone. Every role is its own server; the IdP its own
// process.
func TestCitizenDay(t *testing.T) {
	var mu sync.Mutex
	var received [][]byte
	f := fedkit.Start(t, fedkit.Options{Tap: func(b []byte) {
		mu.Lock()
		received = append(received, b)
		mu.Unlock()
	}})
	c := newCitizen(t, f, "p01")

	home := c.get("/login?lang=en")
	if home.Status != http.StatusOK || home.URL.String() != f.PortalURL+"/" {
		t.Fatalf("after login at %s (%d):\n%s\n%s", home.URL, home.Status, home.Body, c.b)
	}
	shows(t, "the first dashboard", home, "There is no service to show")

	// Consent, institution by institution, on the DS's page.
	for _, key := range []string{sample.HospitalA, sample.HospitalB, sample.Insurer, sample.Pension} {
		f.Consent(t, c.b, key)
	}
	home = c.get("/")
	shows(t, "the dashboard", home, "Toto Central Hospital", "Konan Memorial Hospital", "Minato City National Health Insurance",
		"Lab results", "Prescriptions", "Check-ups", "Eligibility", "Contributions")
	lacks(t, "the dashboard", home, "did not answer", "cannot be reached", "refused")

	// Book the first open slot, see it, cancel it.
	appts := c.get("/appointments")
	before := formValues(t, appts, "/appointments/cancel", "id")
	booked := c.submit(appts, "/appointments/book", nil)
	shows(t, "after booking", booked, "Your appointment is booked.")
	var id string
	for v := range formValues(t, booked, "/appointments/cancel", "id") {
		if !before[v] {
			id = v
		}
	}
	if id == "" {
		t.Fatalf("the booked appointment has no cancel form:\n%s", booked.Body)
	}
	cancelled := c.submit(booked, "/appointments/cancel", url.Values{"=id": {id}})
	shows(t, "after cancelling", cancelled, "Your appointment is cancelled.")
	if formValues(t, cancelled, "/appointments/cancel", "id")[id] {
		t.Fatal("the cancelled appointment is still listed")
	}

	// Withdraw the pension service's consent: its section goes.
	links := c.get("/institutions")
	pensionSvc := svcmdOf(t, f, "p01", sample.Pension)
	w := c.submit(links, "/institutions/withdraw", url.Values{"=svcmd": {pensionSvc}})
	shows(t, "after withdrawing", w, "The link is withdrawn.")
	lacks(t, "the dashboard after withdrawing", c.get("/"), "Contributions")

	access := c.get("/access")
	shows(t, "the access log", access, "Token issued", "Link (consent) recorded", "Link withdrawn", "Created", "Deleted",
		"Toto Central Hospital", "Discovery Service")

	// Logout: the portal's session ends, the IdP's too.
	out := c.submit(c.get("/"), "/logout", nil)
	shows(t, "after logout", out, "You have logged out.")
	if p := c.get("/labs"); p.URL.Path != "/" || !strings.Contains(string(p.Body), "Log in with your card") {
		t.Fatalf("after logout /labs shows %s:\n%s", p.URL, p.Body)
	}
	if n := f.Portal.Portal.Sessions(); n != 0 {
		t.Fatalf("%d portal sessions after logout", n)
	}

	// Nothing the portal received or stored names the citizen's local
	// identifiers at the institutions (ARCHITECTURE "The story" 3): the
	// tokens' subjects are encrypted for each WSP.
	mu.Lock()
	all := append([][]byte{}, received...)
	mu.Unlock()
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if b, err := os.ReadFile(f.PortalStore + suffix); err == nil {
			all = append(all, b)
		}
	}
	all = append(all, decoded(all)...)
	local := f.Manifest.Person("p01").Local
	if len(local) != 4 || len(received) < 20 {
		t.Fatalf("%d local identifiers, %d bodies received: the check below would prove nothing", len(local), len(received))
	}
	// The check can fail: the recorded bodies hold the WSPs' answers in
	// the clear (lab results, the pension contributions).
	for _, x := range []string{"LabResult>", "Contribution>", "Eligibility>"} {
		if !containsAny(all, x) {
			t.Fatalf("the recorded bodies hold no %q: they are not what the portal received", x)
		}
	}
	for key, id := range local {
		if containsAny(all, id) {
			t.Errorf("the portal received or stored %s's local identifier %q", key, id)
		}
	}
}

// decoded returns the base64 and URL-encoded values of the form bodies
// and queries among bodies (the SAML messages the portal received).
func decoded(bodies [][]byte) [][]byte {
	var out [][]byte
	for _, b := range bodies {
		for _, line := range strings.Split(string(b), "\n") {
			_, q, _ := strings.Cut(line, "?")
			for _, part := range []string{line, q} {
				vs, err := url.ParseQuery(part)
				if err != nil {
					continue
				}
				for _, v := range vs {
					for _, x := range v {
						out = append(out, []byte(x))
						if d, err := base64.StdEncoding.DecodeString(x); err == nil {
							out = append(out, d)
							if r, err := io.ReadAll(flate.NewReader(bytes.NewReader(d))); err == nil {
								out = append(out, r)
							}
						}
					}
				}
			}
		}
	}
	return out
}

func containsAny(bodies [][]byte, s string) bool {
	for _, b := range bodies {
		if bytes.Contains(b, []byte(s)) {
			return true
		}
	}
	return false
}

// formValues returns the values of field in the page's forms to action.
func formValues(t *testing.T, p *browser.Page, action, field string) map[string]bool {
	t.Helper()
	forms, err := browser.ParseForms(p.Body, p.URL)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, f := range forms {
		if strings.HasSuffix(f.Action.Path, action) {
			out[f.Values.Get(field)] = true
		}
	}
	return out
}
