// Package chrome runs headless Chromium (Debian's chromium, installed by
// `make deps`) for browser tests, driven over the DevTools protocol with
// chromedp. Each Browser has a home directory and a profile of its own
// under the test's temporary directory and touches nothing outside it, so
// tests may run browsers at the same time.
//
// The home holds an NSS database (~/.pki/nssdb, made with certutil and
// pk12util from libnss3-tools), the store Chromium on Linux reads both its
// trusted roots and its client certificates from. Options.Trust is added
// there as a CA for servers; Options.ClientCert and ClientKey, when set,
// are imported as PKCS#12, the soft certificate a citizen logs in with
// instead of the card.
//
// A certificate in NSS is not enough for a test: when a server asks for
// one, Chromium waits for the user to pick it, even headless, where no one
// can, and the navigation never ends. What picks it without a prompt is the
// AutoSelectCertificateForUrls content setting. Enterprise policy sets it
// (on Linux only from /etc/chromium/policies, for the whole machine), but
// the profile's own Preferences file holds the same setting, at
// profile.content_settings.exceptions.auto_select_certificate. Start
// writes Default/Preferences before the browser starts, with one exception
// for every site ("*,*") whose filter is the client certificate's subject
// and issuer common names, so the configured certificate is sent wherever
// a server asks and nothing is ever shown. Chromium 156 has no switch for
// it (--auto-ssl-client-auth and --policy=JSON change nothing) and the
// DevTools protocol has no client-certificate event.
//
// Host names are mapped to loopback listeners with Chromium's
// host-resolver-rules, and the Accept-Language the pages see is the
// profile's intl.accept_languages (headless Chromium on Linux ignores
// --lang).
package chrome

import (
	"context"
	"crypto"
	"crypto/x509"
	"fmt"
	"maps"
	"net"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
)

// DefaultStepTimeout bounds each step of a Browser whose Options give none.
const DefaultStepTimeout = 10 * time.Second

// startTimeout bounds the start of the browser: chromedp talks to it over
// a pipe, whose start has no timeout of its own.
const startTimeout = 30 * time.Second

// Options are what a test may vary.
type Options struct {
	// Trust is the CA the browser trusts for servers; nil is the shared
	// test PKI's CA (pki.MustGet().CA).
	Trust *x509.Certificate
	// ClientCert and ClientKey are the soft certificate the browser
	// presents, without a prompt, to every server that asks for one; nil
	// is none, and the browser then answers a request for a certificate
	// with none.
	ClientCert *x509.Certificate
	ClientKey  crypto.Signer
	// HostRules map a host name (any port) to the loopback host:port that
	// serves it, e.g. "idp.renkei.test" -> "127.0.0.1:40123".
	HostRules map[string]string
	// Lang is the Accept-Language the browser sends; "" is "en".
	Lang string
	// StepTimeout bounds each step; 0 is DefaultStepTimeout.
	StepTimeout time.Duration
	// ArtifactDir is where Screenshot writes; "" is t.ArtifactDir(),
	// kept after the test with `go test -artifacts -outputdir DIR`.
	ArtifactDir string
}

// Browser is one headless Chromium with one tab, owned by the test that
// started it: its methods fail that test, so they are not for subtests.
type Browser struct {
	t    testing.TB
	ctx  context.Context
	step time.Duration
	dir  string
}

// Start starts Chromium for t and stops it when t ends. The test fails,
// never skips, when chromium, certutil or pk12util is missing: `make deps`
// installs them.
func Start(t testing.TB, o Options) *Browser {
	t.Helper()
	exe := need(t, "chromium")
	rules, err := hostRules(o.HostRules)
	if err != nil {
		t.Fatal(err)
	}
	if (o.ClientCert == nil) != (o.ClientKey == nil) {
		t.Fatal("chrome: ClientCert and ClientKey go together")
	}
	if o.Trust == nil {
		o.Trust = pki.MustGet().CA.Cert
	}
	if o.Lang == "" {
		o.Lang = "en"
	}
	home := t.TempDir()
	profile := filepath.Join(home, "profile")
	if err := makeNSS(t, home, o); err != nil {
		t.Fatal(err)
	}
	if err := writePreferences(profile, o); err != nil {
		t.Fatal(err)
	}
	out := &tail{}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox, // CI runs as root
		chromedp.DisableGPU,
		chromedp.UserDataDir(profile),
		chromedp.Env("HOME="+home), // where Chromium opens .pki/nssdb
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.CombinedOutput(out),
	)
	if rules != "" {
		opts = append(opts, chromedp.Flag("host-resolver-rules", rules))
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancel()
		cancelA()
		if t.Failed() {
			t.Logf("chromium's last output:\n%s", out)
		}
	})
	// The first run starts the browser and must not have a timeout of its
	// own (it would stop the browser when it ends): a watchdog bounds it.
	watchdog := time.AfterFunc(startTimeout, cancelA)
	err = chromedp.Do(ctx)
	if !watchdog.Stop() {
		t.Fatalf("chromium did not start within %v: %v", startTimeout, err)
	}
	if err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	step := o.StepTimeout
	if step == 0 {
		step = DefaultStepTimeout
	}
	return &Browser{t: t, ctx: ctx, step: step, dir: o.ArtifactDir}
}

// Context is the tab's context, for chromedp actions the kit has no method
// for; Run and Get bound them in time.
func (b *Browser) Context() context.Context { return b.ctx }

// need returns the path of the command name, failing t when it is missing.
func need(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s: %v (make deps installs it)", name, err)
	}
	return p
}

// hostRules writes rules as Chromium's --host-resolver-rules: "MAP name
// host:port" for every name, sorted. Only loopback targets are accepted:
// nothing a test opens may leave the machine.
func hostRules(rules map[string]string) (string, error) {
	var out []string
	for _, name := range slices.Sorted(maps.Keys(rules)) {
		to := rules[name]
		host, _, err := net.SplitHostPort(to)
		if err != nil {
			return "", fmt.Errorf("chrome: host rule %s -> %q: %w", name, to, err)
		}
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			return "", fmt.Errorf("chrome: host rule %s -> %q: not a loopback address", name, to)
		}
		if name == "" || strings.ContainsAny(name, " ,:") {
			return "", fmt.Errorf("chrome: host rule for %q: not a host name", name)
		}
		out = append(out, "MAP "+name+" "+to)
	}
	return strings.Join(out, ","), nil
}
