package discovery_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/renkei-idwsf/renkei/internal/testkit/dskit"
	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/client"
)

// The consent page in a real browser: headless Chromium (Debian's
// chromium, scripts/install-deps.sh) driven over the DevTools protocol.
// The portal's ReturnToURL must be https on the host of its entityID,
// portal.renkei.test; Chromium's host resolver maps that name to a
// loopback listener with a certificate for the name from the test PKI,
// and trusts the test CA through an NSS database of its own (certutil,
// from libnss3-tools). The DS page is on 127.0.0.1, where the test PKI's
// certificates are valid too. Nothing leaves loopback.

// axePath is where `make deps` puts axe-core (npm, gitignored).
const axePath = "../.deps/axe/node_modules/axe-core/axe.min.js"

// stepTimeout bounds every wait of the browser.
const stepTimeout = 10 * time.Second

// need fails the test when a part it needs is missing: `make deps`
// (which `make test` runs) installs Chromium, certutil and axe-core, so
// the consent page is never left untested by a skip.
func need(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v (make deps installs it)", what, err)
	}
}

// portalReturn is the portal's ReturnToURL endpoint on loopback: it
// records what the DS sends the browser back with.
type portalReturnServer struct {
	srv  *httptest.Server
	got  chan url.Values
	base string // https://portal.renkei.test/return
}

func newPortalReturn(t *testing.T) *portalReturnServer {
	id, err := pki.MustGet().CA.IssueHost("portal-return", pki.P256, "portal.renkei.test")
	if err != nil {
		t.Fatal(err)
	}
	p := &portalReturnServer{got: make(chan url.Values, 4), base: "https://portal.renkei.test/return"}
	p.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/return" {
			http.NotFound(w, r)
			return
		}
		select {
		case p.got <- r.URL.Query():
		default:
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<!DOCTYPE html><html lang="en"><title>My Portal</title><h1 id="back">Back at the portal</h1>`))
	}))
	p.srv.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{id.Cert.Raw}, PrivateKey: id.Key}},
		MinVersion: tls.VersionTLS12}
	p.srv.StartTLS()
	t.Cleanup(p.srv.Close)
	return p
}

func (p *portalReturnServer) next(t *testing.T) url.Values {
	t.Helper()
	select {
	case q := <-p.got:
		return q
	case <-time.After(stepTimeout):
		t.Fatal("the portal's return endpoint received nothing")
		return nil
	}
}

// nssTrust makes a home directory whose NSS database, which Chromium on
// Linux reads, trusts the test CA for servers.
func nssTrust(t *testing.T) string {
	certutil, err := exec.LookPath("certutil")
	need(t, "certutil", err)
	home := t.TempDir()
	db := filepath.Join(home, ".pki", "nssdb")
	if err := os.MkdirAll(db, 0o700); err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(home, "ca.pem")
	if err := os.WriteFile(ca, pki.MustGet().CA.CertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"-N", "-d", "sql:" + db, "--empty-password"},
		{"-A", "-d", "sql:" + db, "-t", "C,,", "-n", "renkei-test-ca", "-i", ca},
	} {
		if out, err := exec.Command(certutil, args...).CombinedOutput(); err != nil {
			t.Fatalf("certutil %v: %v\n%s", args, err, out)
		}
	}
	return home
}

// newChrome starts headless Chromium with portal.renkei.test mapped to
// the portal's listener, and returns its tab.
func newChrome(t *testing.T, portal *portalReturnServer) context.Context {
	exe, err := exec.LookPath("chromium")
	need(t, "chromium", err)
	home := nssTrust(t)
	_, port, err := net.SplitHostPort(portal.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox, // CI runs as root
		chromedp.DisableGPU,
		chromedp.UserDataDir(filepath.Join(home, "profile")),
		chromedp.Env("HOME="+home),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.WSURLReadTimeout(20*time.Second),
		chromedp.Flag("host-resolver-rules", "MAP portal.renkei.test:443 127.0.0.1:"+port),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelA() })
	// The first run starts the browser and must not have a timeout of its
	// own (it would stop the browser): WSURLReadTimeout bounds the start.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// run runs steps in the tab, bounded by stepTimeout.
func run(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	get(t, ctx, what, chromedp.Steps(steps...))
}

// get runs a in the tab, bounded by stepTimeout, and returns its value.
func get[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(c, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// visit opens u and returns the HTTP status of the page.
func visit(t *testing.T, ctx context.Context, u string) int64 {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	res, err := chromedp.RunResponse(c, chromedp.Navigate(u))
	if err != nil {
		t.Fatalf("open %s: %v", u, err)
	}
	return res.Status
}

// shown returns the page's language and the text of its main element.
func shown(t *testing.T, ctx context.Context) (lang, text string) {
	t.Helper()
	a := get(t, ctx, "the page's language", chromedp.AttributeValue(chromedp.CSS("html"), "lang"))
	return a.Value, get(t, ctx, "the page's text", chromedp.Text(chromedp.CSS("main")))
}

func wantText(t *testing.T, text string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("the page does not show %q:\n%s", w, text)
		}
	}
}

// axeViolation is one failed axe-core rule.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  int    `json:"nodes"`
}

// checkAxe runs axe-core in the page (injected over the DevTools
// protocol: the page's CSP allows no script of its own) and fails on
// serious or critical violations.
func checkAxe(t *testing.T, ctx context.Context, axe []byte, name string) {
	t.Helper()
	if axe == nil {
		return
	}
	get(t, ctx, "inject axe-core", chromedp.Evaluate[chromedp.Void](string(axe)))
	vs := get(t, ctx, "axe-core", chromedp.Evaluate[[]axeViolation](`axe.run(document, {resultTypes: ["violations"]}).then(r =>
		r.violations.map(v => ({id: v.id, impact: v.impact || "", help: v.help, nodes: v.nodes.length})))`,
		chromedp.EvalAwaitPromise))
	t.Logf("axe-core on the %s page: %d violation(s)", name, len(vs))
	for _, v := range vs {
		if v.Impact == "serious" || v.Impact == "critical" {
			t.Errorf("axe %s: %s (%s, %d nodes)", name, v.ID, v.Help, v.Nodes)
		} else {
			t.Logf("axe %s, %s impact: %s (%s)", name, v.Impact, v.ID, v.Help)
		}
	}
}

// TestConsentBrowser: the portal's Query gets a RedirectRequest; the
// browser opens the link with the portal's ReturnToURL, sees the
// institutions and the services, switches to Japanese and allows; the
// portal is told ResendMessage=1, re-sends the Query relating it to the
// fault and gets the EPRs; the link is then spent. A refusal, by
// keyboard alone, returns ResendMessage=0 and records nothing.
func TestConsentBrowser(t *testing.T) {
	var axe []byte
	if b, err := os.ReadFile(axePath); err == nil {
		axe = b
	} else {
		need(t, "axe-core", err)
	}
	f := dskit.New(t, dskit.Options{Consent: true})
	f.Link(t, f.Principal, true)
	portalRet := newPortalReturn(t)
	ctx := newChrome(t, portalRet)
	wsc, epr := portal(t, f, f.Principal, dskit.TokenOptions{})
	q := byType(dskit.Clinical, dskit.Pension)
	ask := func() *client.RedirectError {
		_, _, err := query(t, f, wsc, epr, q, wsf.Header{UserInteraction: &wsf.UserInteraction{Redirect: true}})
		var re *client.RedirectError
		if !errors.As(err, &re) {
			t.Fatalf("got %v, want a RedirectRequest", err)
		}
		return re
	}
	returnTo := portalRet.base + "?session=s1"

	re := ask()
	link := re.URL + "&ReturnToURL=" + url.QueryEscape(returnTo)
	if st := visit(t, ctx, link); st != http.StatusOK {
		t.Fatalf("consent page: HTTP %d", st)
	}
	lang, text := shown(t, ctx)
	if lang != "en" {
		t.Errorf("page language %q, want en (the browser's)", lang)
	}
	wantText(t, text, dskit.PortalID, "Hospital A: lab results and prescriptions", "Clinical records (lab results, prescriptions)",
		"https://hospital-a.renkei.test/metadata", "Pension service: pension record", "Pension record", "https://pension.renkei.test/metadata")
	checkAxe(t, ctx, axe, "en")

	run(t, ctx, "switch to Japanese", chromedp.Click(chromedp.CSS(`button[name="lang"]`)),
		chromedp.WaitVisible(chromedp.CSS(`html[lang="ja"] button[value="allow"]`)))
	lang, text = shown(t, ctx)
	if lang != "ja" {
		t.Errorf("page language %q after the switch", lang)
	}
	wantText(t, text, "機関とサービス", "診療情報（検査結果・処方）", "年金記録", "Hospital A: lab results and prescriptions", dskit.PortalID)
	checkAxe(t, ctx, axe, "ja")

	run(t, ctx, "allow", chromedp.Click(chromedp.CSS(`button[value="allow"]`)), chromedp.WaitVisible(chromedp.ID("back")))
	if got := portalRet.next(t); got.Get("ResendMessage") != "1" || got.Get("session") != "s1" {
		t.Fatalf("the portal was sent back with %v", got)
	}
	r, _, err := query(t, f, wsc, epr, q, wsf.Header{RelatesTo: re.FaultMessageID})
	if err != nil || len(r.EPRs) != 2 {
		t.Fatalf("re-sent Query: %v %+v", err, r)
	}

	if st := visit(t, ctx, link); st != http.StatusGone {
		t.Errorf("the link again: HTTP %d, want 410", st)
	}
	_, text = shown(t, ctx)
	wantText(t, text, "This link was already used or has expired")
	checkAxe(t, ctx, axe, "used-link error")

	// The refusal, by keyboard: Tab to the button, Enter.
	// (another federation: the sample institutions' local identifiers
	// are one per federation)
	f = dskit.New(t, dskit.Options{Consent: true})
	f.Link(t, f.Principal, true)
	wsc, epr = portal(t, f, f.Principal, dskit.TokenOptions{})
	re = ask()
	if st := visit(t, ctx, re.URL+"&lang=ja&ReturnToURL="+url.QueryEscape(returnTo)); st != http.StatusOK {
		t.Fatalf("consent page: HTTP %d", st)
	}
	focused := ""
	for i := 0; i < 8 && focused != "refuse"; i++ {
		run(t, ctx, "tab", chromedp.KeyEvent(kb.Tab))
		focused = get(t, ctx, "focus", chromedp.Evaluate[string](`document.activeElement.value || ""`))
	}
	if focused != "refuse" {
		t.Fatal("the refuse button is not reachable by Tab")
	}
	run(t, ctx, "refuse", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.ID("back")))
	if got := portalRet.next(t); got.Get("ResendMessage") != "0" {
		t.Fatalf("the portal was sent back with %v", got)
	}
	_, _, err = query(t, f, wsc, epr, q, wsf.Header{RelatesTo: re.FaultMessageID})
	if !errors.Is(err, wsf.ErrInteractionRequired) {
		t.Fatalf("after the refusal: %v, want InteractionRequired (nothing recorded)", err)
	}
}
