package portalserver_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/renkei-idwsf/renkei/internal/testkit/chrome"
	"github.com/renkei-idwsf/renkei/internal/testkit/fedkit"
	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/internal/testkit/wspkit"
	"github.com/renkei-idwsf/renkei/wsp/sample"
)

// tab is the citizen's Chromium on the portal: every page it opens is
// checked by axe-core (WCAG 2.0 and 2.1, A and AA) and photographed.
type tab struct {
	t    *testing.T
	b    *chrome.Browser
	base string
	lang string
}

// page checks the page now shown: axe-core finds nothing, and a
// screenshot named name is written as a test artefact.
func (c *tab) page(name string) {
	c.t.Helper()
	for _, v := range c.b.Axe() {
		c.t.Errorf("%s (%s): %v", name, c.lang, v)
	}
	c.b.Screenshot(c.lang + "-" + name)
}

// open opens the portal's path and checks the page.
func (c *tab) open(path, name string) string {
	c.t.Helper()
	if st := c.b.Navigate(c.base + path); st != http.StatusOK {
		c.t.Fatalf("%s: HTTP %d", path, st)
	}
	c.page(name)
	return c.b.Text("main")
}

// click clicks sel, which leads to another page, and waits until that
// page has loaded and shows wait.
func (c *tab) click(what, sel, wait string) {
	c.t.Helper()
	before := chrome.Get(c.b, "the page's address", chromedp.Evaluate[string](`location.href`))
	c.b.Run(what, chromedp.Click(chromedp.CSS(sel)))
	c.await(what, `location.href !== `+strconv.Quote(before)+` && document.querySelector(`+strconv.Quote(wait)+`) !== null`)
}

// await polls the predicate from Go until it holds in a loaded page: a
// page being replaced has no script context to poll in.
func (c *tab) await(what, predicate string) {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(c.b.Context(), time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.readyState === "complete" && (`+predicate+`)`))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			url, _ := chromedp.Run(c.b.Context(), chromedp.Evaluate[string](`location.href`))
			c.t.Fatalf("%s: %s does not hold at %s (%v)", what, predicate, url, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func has(t *testing.T, what, text string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("%s does not show %q:\n%s", what, w, text)
		}
	}
}

// TestPortalInChromium: the citizen's day in headless Chromium, in
// English and then in Japanese, against the real IdP process, the DS and
// the four sample WSPs: login with the card's certificate (a soft copy
// in the browser's certificate store), consent on the DS's page, every
// institution on the dashboard, the lab trend, book then cancel, a
// consent withdrawn and its section gone, the access log, logout. Then
// one institution stops: its banner shows and the rest renders within
// the portal's timeout. Every page passes axe-core.
func TestPortalInChromium(t *testing.T) {
	f := fedkit.Start(t, fedkit.Options{Timeout: "2s"})
	for _, lang := range []string{"en", "ja"} {
		t.Run(lang, func(t *testing.T) { citizenDay(t, f, lang) })
	}
}

// words are the texts the test looks for, per language.
var words = map[string]map[string]string{
	"en": {"welcome": "Log in with your card", "none": "There is no service to show", "linked": "The institution is linked.",
		"booked": "Your appointment is booked.", "cancelled": "Your appointment is cancelled.", "withdrawn": "The link is withdrawn.",
		"loggedout": "You have logged out.", "token": "Token issued", "read": "Read", "created": "Created", "down": "cannot be reached",
		"hospA": "Toto Central Hospital", "insurer": "Minato City National Health Insurance", "pension": "Contributions", "labs": "Lab results"},
	"ja": {"welcome": "カードでログイン", "none": "表示できるサービスがありません", "linked": "連携しました。",
		"booked": "予約しました。", "cancelled": "予約を取り消しました。", "withdrawn": "連携を解除しました。",
		"loggedout": "ログアウトしました。", "token": "トークン発行", "read": "閲覧", "created": "登録", "down": "現在つながりません",
		"hospA": "東都中央病院", "insurer": "", "pension": "納付記録", "labs": "検査結果"},
}

func citizenDay(t *testing.T, f *fedkit.Fed, lang string) {
	w := words[lang]
	person := map[string]string{"en": "p01", "ja": "p06"}[lang] // p06: also at both hospitals, insurer and pension
	_, card := f.Citizen(t, person)
	b := chrome.Start(t, chrome.Options{Trust: pki.MustGet().CA.Cert, ClientCert: card.Cert, ClientKey: card.Key,
		Lang: lang, StepTimeout: 20 * time.Second})
	c := &tab{t: t, b: b, base: f.PortalURL, lang: lang}
	w["insurer"] = f.Manifest.Institution(sample.Insurer).Name
	if lang == "en" {
		w["insurer"] = f.Manifest.Institution(sample.Insurer).NameEn
	}

	has(t, "the welcome page", c.open("/", "welcome"), w["welcome"])
	if got := b.Attribute("html", "lang"); got != lang {
		t.Fatalf("the page's language is %q, want %q from the browser's Accept-Language", got, lang)
	}
	// The card login: the IdP asks for the client certificate, the
	// browser presents the card's, the Response is posted to the portal.
	b.Run("log in", chromedp.Click(chromedp.CSS("a.button")))
	c.await("back at the portal", `location.origin === `+strconv.Quote(f.PortalURL)+` && document.querySelector('nav a[aria-current="page"]') !== null`)
	c.page("first-dashboard")
	has(t, "the first dashboard", b.Text("main"), w["none"])

	// Consent on the DS's page, institution by institution.
	for _, key := range []string{sample.HospitalA, sample.HospitalB, sample.Insurer, sample.Pension} {
		c.open("/institutions", "institutions")
		c.click("link "+key, `form[action="/institutions/link"]:has(input[value="`+wspkit.Entities[key]+`"]) button`, `button[value="allow"]`)
		c.page("consent-" + key)
		c.click("allow", `button[value="allow"]`, "p.flash")
		has(t, "back from consent", b.Text("main"), w["linked"])
	}
	home := c.open("/", "dashboard")
	has(t, "the dashboard", home, w["hospA"], w["insurer"], w["pension"], w["labs"])

	// The lab trend of the first test offered.
	c.open("/labs", "labs")
	c.click("trend", `form.pick button`, "figure svg")
	c.page("labs-trend")

	for _, p := range []string{"/prescriptions", "/checkups", "/eligibility", "/pension"} {
		c.open(p, strings.TrimPrefix(p, "/"))
	}

	// Book the first open slot, then cancel that appointment.
	c.open("/appointments", "appointments")
	ids := func() []string {
		return chrome.Get(b, "appointment ids", chromedp.Evaluate[[]string](
			`Array.from(document.querySelectorAll('form[action="/appointments/cancel"] input[name=id]')).map(e => e.value)`))
	}
	before := ids()
	c.click("book", `form[action="/appointments/book"] button`, "p.flash")
	has(t, "after booking", b.Text("main"), w["booked"])
	c.page("booked")
	var booked string
	for _, id := range ids() {
		if !contains(before, id) {
			booked = id
		}
	}
	if booked == "" {
		t.Fatal("the booked appointment has no cancel button")
	}
	c.click("cancel", `form[action="/appointments/cancel"]:has(input[value="`+booked+`"]) button`, "p.flash")
	has(t, "after cancelling", b.Text("main"), w["cancelled"])
	if contains(ids(), booked) {
		t.Error("the cancelled appointment is still listed")
	}

	// Withdraw the pension service's consent: its section goes.
	c.open("/institutions", "institutions-linked")
	c.click("withdraw", `form[action="/institutions/withdraw"]:has(input[value="`+svcmdOf(t, f, person, sample.Pension)+`"]) button`, "p.flash")
	has(t, "after withdrawing", b.Text("main"), w["withdrawn"])
	if home := c.open("/", "dashboard-withdrawn"); strings.Contains(home, w["pension"]) {
		t.Error("the dashboard still shows the pension record after the consent was withdrawn")
	}

	has(t, "the access log", c.open("/access", "access"), w["token"], w["read"], w["created"], w["hospA"])

	if st := b.Navigate(f.PortalURL + "/nosuchpage"); st != http.StatusNotFound {
		t.Errorf("a page that does not exist: HTTP %d", st)
	}
	c.page("not-found")

	// One institution down: its banner, and the rest, within the timeout.
	if lang == "ja" {
		ln := f.WSPs[sample.Insurer]
		if err := ln.Shutdown(); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		home := c.open("/", "dashboard-insurer-down")
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("the dashboard took %v with one institution down and a 2 s timeout", d)
		}
		has(t, "the dashboard with the insurer down", home, w["down"], w["hospA"], w["labs"])
	}

	c.click("log out", `form.logout button`, "p.flash")
	loggedOut := w["loggedout"]
	if lang == "ja" {
		// The insurer's WSP is down: single logout cannot reach it, so
		// its token of this session stays valid until it expires, and the
		// IdP answers PartialLogout (SAML Profiles §4.4.3.4), which the
		// portal tells the citizen.
		loggedOut = "ログアウトしましたが、一部のサービスからはログアウトできなかった可能性があります。"
	}
	has(t, "after logout", b.Text("main"), loggedOut)
	c.page("logged-out")
	if st := b.Navigate(f.PortalURL + "/labs"); st != http.StatusOK || !strings.Contains(b.Text("main"), w["welcome"]) {
		t.Errorf("after logout /labs does not lead to the welcome page")
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// svcmdOf returns the SvcMDID of the institution key's service that the
// person is associated with, as the DS's relay database holds it.
func svcmdOf(t *testing.T, f *fedkit.Fed, person, key string) string {
	t.Helper()
	recs, err := f.DS.Store.AssociatedSvcMDs(t.Context(), "principal-"+person)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.ProviderID == wspkit.Entities[key] {
			return r.ID
		}
	}
	t.Fatalf("%s is not associated with %s", person, key)
	return ""
}
