package chrome

import (
	"context"
	"os"
	"path/filepath"
	"strings"

	"github.com/chromedp/chromedp"
)

// Run runs steps in the tab within the step timeout, failing the test
// with what when they fail.
func (b *Browser) Run(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	Get(b, what, chromedp.Steps(steps...))
}

// Get runs a in b's tab within the step timeout and returns its value,
// failing the test with what when it fails. (A method cannot have a type
// parameter.)
func Get[T any](b *Browser, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	v, err := try(b, a)
	if err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
	return v
}

// try runs a within the step timeout.
func try[T any](b *Browser, a chromedp.Action[T]) (T, error) {
	ctx, cancel := context.WithTimeout(b.ctx, b.step)
	defer cancel()
	return chromedp.Run(ctx, a)
}

// Navigate opens url, waits for the page to load and returns the HTTP
// status of its document. A page that does not load, such as a TLS
// handshake the server refused, fails the test.
func (b *Browser) Navigate(url string) int64 {
	b.t.Helper()
	st, err := b.NavigateErr(url)
	if err != nil {
		b.t.Fatalf("open %s: %v", url, err)
	}
	return st
}

// NavigateErr is Navigate returning the error, for a test that expects
// the page not to load: a network error is a *chromedp.LoadError whose
// ErrorText is Chromium's, e.g. "net::ERR_BAD_SSL_CLIENT_AUTH_CERT".
func (b *Browser) NavigateErr(url string) (int64, error) {
	ctx, cancel := context.WithTimeout(b.ctx, b.step)
	defer cancel()
	res, err := chromedp.RunResponse(ctx, chromedp.Navigate(url))
	if err != nil {
		return 0, err
	}
	return res.Status, nil
}

// Text returns the visible text of the first element matching the CSS
// selector sel.
func (b *Browser) Text(sel string) string {
	b.t.Helper()
	return Get(b, "the text of "+sel, chromedp.Text(chromedp.CSS(sel)))
}

// Attribute returns the attribute name of the first element matching the
// CSS selector sel, "" when it has none.
func (b *Browser) Attribute(sel, name string) string {
	b.t.Helper()
	return Get(b, "the "+name+" of "+sel, chromedp.AttributeValue(chromedp.CSS(sel), name)).Value
}

// Screenshot writes a PNG of the whole page, beyond the viewport, to
// name.png in the artifact directory and returns its path.
func (b *Browser) Screenshot(name string) string {
	b.t.Helper()
	png := Get(b, "screenshot "+name, chromedp.FullScreenshot(100))
	dir := b.dir
	if dir == "" {
		dir = b.t.ArtifactDir()
	}
	p := filepath.Join(dir, fileName(name)+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	return p
}

// fileName makes name safe as a file name.
func fileName(name string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == 0 || r == ':' {
			return '_'
		}
		return r
	}, name)
}
