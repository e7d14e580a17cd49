package terminalserver_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/renkei-idwsf/renkei/card/virtual"
	"github.com/renkei-idwsf/renkei/internal/testkit/chrome"
	"github.com/renkei-idwsf/renkei/internal/testkit/termkit"
	"github.com/renkei-idwsf/renkei/internal/testkit/wspkit"
	"github.com/renkei-idwsf/renkei/wsc/terminal"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/dst"
	"github.com/renkei-idwsf/renkei/wsp/sample"
)

// staffTab is the reception staff's Chromium on the desk's page: every
// phase it reaches is checked by axe-core and photographed.
type staffTab struct {
	t    *testing.T
	d    *termkit.Desk
	b    *chrome.Browser
	lang string
}

// phase waits until the page shows phase (it updates itself) and the
// desk's latest screen, once the other hospitals' results are in, then
// checks it: a page that reloads under axe-core cannot be checked.
func (c *staffTab) phase(phase string) string {
	c.t.Helper()
	c.await("the "+phase+" screen", `document.getElementById("phase") !== null && document.getElementById("phase").dataset.phase === `+strconv.Quote(phase))
	s := c.d.Await("a settled screen", func(s terminal.Screen) bool { return !s.RecordsPending })
	c.await("the desk's latest screen", `document.getElementById("phase").dataset.version === "`+strconv.FormatUint(s.Version, 10)+`"`)
	for _, v := range c.b.Axe() {
		c.t.Errorf("%s (%s): %v", phase, c.lang, v)
	}
	c.b.Screenshot("desk-" + c.lang + "-" + phase)
	return c.b.Text("main")
}

func (c *staffTab) await(what, predicate string) {
	c.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(c.b.Context(), time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.readyState === "complete" && (`+predicate+`)`))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			url, _ := chromedp.Run(c.b.Context(), chromedp.Evaluate[string](`location.href + "\n" + document.body.innerText`))
			s := c.d.Srv.Desk.Screen()
			c.t.Fatalf("%s: %s does not hold (%v); the page at %s\nthe desk: phase %d %q %q", what, predicate, err, url, s.Phase, s.Message, s.Detail)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// type types text into the field sel and presses Enter.
func (c *staffTab) typeIn(what, sel, text string) {
	c.t.Helper()
	c.b.Run(what, chromedp.SendKeys(chromedp.CSS(sel), text+"\r"))
}

// TestReceptionDeskInChromium: hospital A's staff page in headless
// Chromium, in Japanese: the card in, the PIN typed at the page, the
// eligibility read from the page, hospital B's results, a new patient
// number enrolled, the card out: the page clears and the IdP is told.
// Every screen passes axe-core.
func TestReceptionDeskInChromium(t *testing.T) {
	d := termkit.New(t)
	keep := d.KeepToken()
	d.Start()
	p := d.PatientOnlyAtB()
	b := chrome.Start(t, chrome.Options{Lang: "ja", StepTimeout: 20 * time.Second})
	c := &staffTab{t: t, d: d, b: b, lang: "ja"}
	b.Navigate(d.Srv.URL())
	c.phase("idle")

	card := d.Insert(p, 0, virtual.Options{})
	c.phase("pin")
	c.typeIn("the PIN", `input[name="pin"]`, virtual.DefaultPIN)
	text := c.phase("ready")
	ins := termkit.InsurerFields(p)
	for _, want := range []string{ins[0], ins[1], ins[2], "30%"} {
		if !strings.Contains(b.Text("#eligibility"), want) {
			t.Errorf("the eligibility does not show %q:\n%s", want, text)
		}
	}
	c.await("hospital B's results", `!document.getElementById("records").textContent.includes("`+"読み込み"+`")`)
	records := b.Text("#records")
	if hb := d.Fed.Manifest.Institution(sample.HospitalB).Name; !strings.Contains(records, hb) {
		t.Errorf("the results do not name %s:\n%s", hb, records)
	}

	const number = "A-990002"
	c.typeIn("the patient number", `input[name="number"]`, number)
	c.await("the enrolment", `document.getElementById("enrol").textContent.includes(`+strconv.Quote(number)+`)`)
	c.phase("ready")
	links, err := d.Fed.DS.DS.Links(context.Background(), p.Principal)
	if err != nil {
		t.Fatal(err)
	}
	enrolled := false
	for _, l := range links {
		enrolled = enrolled || l.ProviderID == wspkit.Entities[sample.HospitalA] && l.SPProvidedID == number
	}
	if !enrolled {
		t.Fatalf("the page shows %s enrolled, the relay database holds %+v", number, links)
	}

	kept := keep(wspkit.Entities[sample.Insurer], dst.Eligibility, wsf.PurposeEligibility)
	if err := kept(); err != nil {
		t.Fatalf("the insurer refuses the terminal's token with the card in: %v", err)
	}

	if err := card.Insertion.Remove(); err != nil {
		t.Fatal(err)
	}
	idle := c.phase("idle")
	for _, gone := range []string{ins[2], number, d.Fed.Manifest.Institution(sample.HospitalB).Name} {
		if strings.Contains(idle, gone) {
			t.Errorf("after the card left the page still shows %q", gone)
		}
	}
	loggedOut(t, d)
	if err := kept(); !wspkit.ExpiredToken(err) {
		t.Fatalf("the insurer's token kept aside, after the card left: %v, want it refused as ended", err)
	}
}
