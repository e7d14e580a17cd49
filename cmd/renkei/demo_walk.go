package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/renkei-idwsf/renkei/internal/browser"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/client"
)

// walker is the headless walk of the story (ARCHITECTURE "The story the
// system must tell", steps 1 to 6) against the running federation: a
// citizen's browser whose TLS client key is the card in the home reader,
// through pcscd; the observer's means to read what crossed the wire are
// the keys in the demo's files (the portal's, to open what was sent to
// it).
type walker struct {
	*demo
	b         *browser.Browser
	closeCard func()
	// bootstrap is the DS's EPR from the SSO assertion; eprs what the DS
	// answered the portal's query with, wsc the client that asked (the
	// portal's keys) and rec what it received.
	bootstrap *wsf.EPR
	eprs      []*wsf.EPR
	wsc       *client.Client
	rec       *recorder
	pages     map[string][]byte
}

// walkStep is one step of the story.
type walkStep struct {
	title string
	fn    func(context.Context) error
}

// steps are the story's six steps, in order.
func (w *walker) steps() []walkStep {
	return []walkStep{
		{"card login at the IdP (TLS client certificate signed by the card through PC/SC), SSO to My Portal: " +
			"assertion with SmartcardPKI and the Discovery Service bootstrap", w.login},
		{"the citizen links each institution (the DS's consent page); the dashboard shows data from each, " +
			"the portal having asked the DS for the services", w.dashboard},
		{"the DS's tokens: one per WSP, its subject encrypted for that WSP; nothing the portal holds names a local " +
			"identifier; the relay database holds only links", w.tokens},
		{"the WSPs answer: lab results, prescriptions, check-ups, bookings, eligibility, pension record; " +
			"an outpatient slot is booked", w.services},
		{"reception terminal of hospital A: the card in its reader (pcscd + vpcd), the PIN, the eligibility at once; " +
			"the card out ends the visit", w.reception},
		{"the portal's access log lists the accesses, the terminal's included", w.audit},
	}
}

// killAfter is the index of the step after which the several-node walk
// kills a node of each several-node role: the login, the links and the
// dashboard went through both nodes; the tokens, the services, the
// reception desk and the access log go through the survivors.
const killAfter = 1

// walk runs every step, each printed with what crossed the wire, and
// fails unless every step held.
func (d *demo) walk(ctx context.Context) error {
	w := &walker{demo: d, pages: map[string][]byte{}}
	defer func() {
		if w.closeCard != nil {
			w.closeCard()
		}
	}()
	start := time.Now()
	var failed []string
	for i, s := range w.steps() {
		fmt.Fprintf(d.out, "%d. %s\n", i+1, s.title)
		t := time.Now()
		if err := s.fn(ctx); err != nil {
			fmt.Fprintf(d.out, "   FAILED: %v\n", err)
			failed = append(failed, fmt.Sprintf("step %d", i+1))
		} else {
			fmt.Fprintf(d.out, "   ok (%s)\n", since(t))
		}
		if i == killAfter && d.nodes != nil {
			if err := d.killOne(); err != nil {
				fmt.Fprintf(d.out, "-- FAILED to kill a node of each role: %v\n", err)
				failed = append(failed, "the kill")
			}
		}
	}
	w.savePages()
	if err := d.survivorsServed(); err != nil {
		fmt.Fprintf(d.out, "FAILED: %v\n", err)
		failed = append(failed, "the survivors")
	}
	if len(failed) > 0 {
		fmt.Fprintf(d.out, "\nThe roles' output:\n%s", d.fleet.lastLines(15))
		return fmt.Errorf("the story did not hold: %s failed (pages the walk saw are in %s)", strings.Join(failed, ", "),
			filepath.Join(d.dir, "walk"))
	}
	fmt.Fprintf(d.out, "\nAll 6 steps held (the walk took %s; %s since the demo started).\n", since(start), since(d.started))
	return nil
}

// savePages writes the pages the walk read into walk/, for a reader of
// a failure.
func (w *walker) savePages() {
	dir := filepath.Join(w.dir, "walk")
	if os.MkdirAll(dir, 0o700) != nil {
		return
	}
	for name, b := range w.pages {
		_ = os.WriteFile(filepath.Join(dir, name+".html"), b, 0o600)
	}
}

// get navigates the citizen's browser to the portal's path.
func (w *walker) get(ctx context.Context, name, path string) (*browser.Page, error) {
	p, err := w.b.Get(ctx, w.fed.Portal+path)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	w.pages[name] = p.Body
	if p.Status != http.StatusOK {
		return p, fmt.Errorf("GET %s: HTTP %d at %s", path, p.Status, p.URL)
	}
	return p, nil
}

// submit submits the first form of p to action whose fields match want
// ("=name": must hold that value), with set added.
func (w *walker) submit(ctx context.Context, b *browser.Browser, p *browser.Page, action string, match, set url.Values) (*browser.Page, error) {
	forms, err := browser.ParseForms(p.Body, p.URL)
	if err != nil {
		return nil, err
	}
	for _, f := range forms {
		if !strings.HasSuffix(f.Action.Path, action) || !matches(f.Values, match) {
			continue
		}
		for k, v := range set {
			f.Values[k] = v
		}
		return b.Submit(ctx, f)
	}
	return nil, fmt.Errorf("no form to %s on %s", action, p.URL)
}

// matches reports whether vs holds every value of want.
func matches(vs, want url.Values) bool {
	for k, v := range want {
		if vs.Get(k) != v[0] {
			return false
		}
	}
	return true
}

// shows checks that the page shows every text and none of the failure
// words of the portal's banners.
func shows(name string, p *browser.Page, texts ...string) error {
	var missing []string
	for _, x := range texts {
		if !strings.Contains(string(p.Body), x) {
			missing = append(missing, fmt.Sprintf("%q", x))
		}
	}
	for _, x := range []string{"did not answer", "cannot be reached", "refused"} {
		if strings.Contains(string(p.Body), x) {
			missing = append(missing, fmt.Sprintf("no %q", x))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s (%s, HTTP %d) lacks %s", name, p.URL.Path, p.Status, strings.Join(missing, ", "))
	}
	return nil
}

// errNoSession is the failure of a step that needs the login of step 1.
var errNoSession = errors.New("no portal session: step 1 did not log the citizen in")
