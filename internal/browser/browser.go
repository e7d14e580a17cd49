// Package browser is an HTTP client that walks SAML browser flows the way a
// browser does: a cookie jar, redirects followed, the auto-submitting forms
// of the HTTP-POST binding posted, every hop recorded for assertions, and a
// TLS client certificate presented through a crypto.Signer, such as the
// card's key reached through PC/SC (internal/testkit/vcard).
//
// It runs no script: a form is auto-submitted when AutoSubmit says so, by
// default when it carries SAMLRequest or SAMLResponse, which is what the
// script of a POST-binding page does (SAML Bindings §3.5.4).
package browser

import (
	"bytes"
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Defaults of Config.
const (
	DefaultMaxHops = 20
	DefaultTimeout = 30 * time.Second
	maxBody        = 8 << 20
)

// Errors of navigation; a failing client key is a *KeyError.
var (
	ErrTooManyHops = errors.New("browser: too many hops")
	ErrBadRedirect = errors.New("browser: redirect without a usable Location")
)

// KeyError reports that the TLS client key failed to sign a handshake: with
// a card, it was removed, or its PIN is no longer verified.
type KeyError struct {
	URL string
	Err error
}

func (e *KeyError) Error() string {
	return fmt.Sprintf("browser: the TLS client key could not sign the handshake with %s (card removed?): %v", e.URL, e.Err)
}

func (e *KeyError) Unwrap() error { return e.Err }

// Config is what a Browser is given; the zero value trusts the system
// roots and presents no client certificate.
type Config struct {
	// RootCAs are the roots trusted for servers; nil means the system's.
	RootCAs *x509.CertPool
	// ServerName, when set, is the name every server certificate is
	// checked against (the test PKI's leaves name localhost, while tests
	// dial 127.0.0.1); empty means the host of each URL.
	ServerName string
	// Certificate is the client certificate chain, leaf first, presented
	// with Key when a server requests one; nil presents none.
	Certificate []*x509.Certificate
	// Key signs the handshake, e.g. a card's piv.Signer.
	Key crypto.Signer
	// MaxHops bounds one navigation (redirects and auto-posts); 0 means
	// DefaultMaxHops.
	MaxHops int
	// Timeout bounds each request; 0 means DefaultTimeout.
	Timeout time.Duration
	// AutoSubmit says whether a page's form is submitted at once; nil
	// means forms carrying SAMLRequest or SAMLResponse.
	AutoSubmit func(Form) bool
	// NoKeepAlive makes every request a fresh connection and so a fresh
	// handshake (and a fresh signature by the card).
	NoKeepAlive bool
}

// Hop is one HTTP exchange of a navigation.
type Hop struct {
	Method string
	URL    string
	Status int
	// Location is the redirect target, when there was one.
	Location string
	// Form is the body of a POST.
	Form url.Values
	// Auto reports a form posted by AutoSubmit.
	Auto bool
	// Err is why the request got no response (Status is then 0).
	Err string
}

// Page is where a navigation ended.
type Page struct {
	URL    *url.URL
	Status int
	Header http.Header
	Body   []byte
}

// Browser walks flows; one navigation at a time.
type Browser struct {
	client *http.Client
	cfg    Config
	key    *trapSigner
	mu     sync.Mutex
	hops   []Hop
}

// New returns a Browser with an empty cookie jar.
func New(cfg Config) (*Browser, error) {
	if cfg.MaxHops <= 0 {
		cfg.MaxHops = DefaultMaxHops
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.AutoSubmit == nil {
		cfg.AutoSubmit = SAMLForm
	}
	if (cfg.Key == nil) != (len(cfg.Certificate) == 0) {
		return nil, errors.New("browser: Certificate and Key go together")
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	b := &Browser{cfg: cfg}
	b.client = &http.Client{Jar: jar, Timeout: cfg.Timeout, Transport: b.transport(),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return b, nil
}

func (b *Browser) transport() *http.Transport {
	tc := &tls.Config{RootCAs: b.cfg.RootCAs, ServerName: b.cfg.ServerName, MinVersion: tls.VersionTLS12}
	if b.cfg.Key != nil {
		b.key = &trapSigner{Signer: b.cfg.Key}
		chain := make([][]byte, len(b.cfg.Certificate))
		for i, c := range b.cfg.Certificate {
			chain[i] = c.Raw
		}
		tc.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return &tls.Certificate{Certificate: chain, PrivateKey: b.key, Leaf: b.cfg.Certificate[0]}, nil
		}
	}
	return &http.Transport{TLSClientConfig: tc, DisableKeepAlives: b.cfg.NoKeepAlive,
		ForceAttemptHTTP2: false, TLSHandshakeTimeout: b.cfg.Timeout}
}

// SAMLForm is the default AutoSubmit: a form carrying a SAML message.
func SAMLForm(f Form) bool {
	return f.Values.Has("SAMLRequest") || f.Values.Has("SAMLResponse")
}

// Jar is the browser's cookie jar.
func (b *Browser) Jar() http.CookieJar { return b.client.Jar }

// Client is the underlying client (no redirects followed), for requests a
// test makes by hand with the browser's cookies and certificate.
func (b *Browser) Client() *http.Client { return b.client }

// Hops returns a copy of every hop recorded so far.
func (b *Browser) Hops() []Hop {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Hop(nil), b.hops...)
}

// Get navigates to rawURL.
func (b *Browser) Get(ctx context.Context, rawURL string) (*Page, error) {
	return b.navigate(ctx, http.MethodGet, rawURL, nil, false)
}

// Post submits form to rawURL as a form post, then follows the flow.
func (b *Browser) Post(ctx context.Context, rawURL string, form url.Values) (*Page, error) {
	return b.navigate(ctx, http.MethodPost, rawURL, form, false)
}

// Submit submits a form of a page (e.g. one AutoSubmit declined).
func (b *Browser) Submit(ctx context.Context, f Form) (*Page, error) {
	if f.Method == http.MethodGet {
		u := *f.Action
		u.RawQuery = f.Values.Encode()
		return b.navigate(ctx, http.MethodGet, u.String(), nil, false)
	}
	return b.navigate(ctx, http.MethodPost, f.Action.String(), f.Values, false)
}

// navigate runs hops until a page neither redirects nor auto-submits.
func (b *Browser) navigate(ctx context.Context, method, rawURL string, form url.Values, auto bool) (*Page, error) {
	for n := 0; n < b.cfg.MaxHops; n++ {
		page, loc, err := b.hop(ctx, method, rawURL, form, auto)
		if err != nil {
			return page, err
		}
		switch {
		case loc != nil:
			method, rawURL, form, auto = redirectNext(page.Status, method, loc, form)
		default:
			f, ok, err := b.autoForm(page)
			if err != nil || !ok {
				return page, err
			}
			method, rawURL, form, auto = f.Method, f.Action.String(), f.Values, true
		}
	}
	return nil, fmt.Errorf("%w: more than %d from %s", ErrTooManyHops, b.cfg.MaxHops, rawURL)
}

// redirectNext is the next request after a redirect: 307 and 308 keep the
// method and body (RFC 9110 §15.4), the others become a GET.
func redirectNext(status int, method string, loc *url.URL, form url.Values) (string, string, url.Values, bool) {
	if status == http.StatusTemporaryRedirect || status == http.StatusPermanentRedirect {
		return method, loc.String(), form, false
	}
	return http.MethodGet, loc.String(), nil, false
}

// autoForm returns the page's form to auto-submit, if any.
func (b *Browser) autoForm(p *Page) (Form, bool, error) {
	if !strings.Contains(p.Header.Get("Content-Type"), "html") {
		return Form{}, false, nil
	}
	forms, err := ParseForms(p.Body, p.URL)
	if err != nil {
		return Form{}, false, err
	}
	for _, f := range forms {
		if b.cfg.AutoSubmit(f) {
			if f.Method != http.MethodPost {
				return Form{}, false, fmt.Errorf("browser: auto-submitting form at %s uses %s, not POST", p.URL, f.Method)
			}
			return f, true, nil
		}
	}
	return Form{}, false, nil
}

// hop makes one request and records it; loc is the resolved Location of a
// redirect.
func (b *Browser) hop(ctx context.Context, method, rawURL string, form url.Values, auto bool) (*Page, *url.URL, error) {
	req, err := newRequest(ctx, method, rawURL, form)
	if err != nil {
		return nil, nil, err
	}
	h := Hop{Method: method, URL: req.URL.String(), Form: form, Auto: auto}
	resp, err := b.do(req)
	if err != nil {
		h.Err = err.Error()
		b.record(h)
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, nil, err
	}
	page := &Page{URL: req.URL, Status: resp.StatusCode, Header: resp.Header, Body: body}
	h.Status = resp.StatusCode
	loc, err := location(resp)
	if loc != nil {
		h.Location = loc.String()
	}
	b.record(h)
	return page, loc, err
}

// do sends req; a failure of the client key is reported as a *KeyError.
func (b *Browser) do(req *http.Request) (*http.Response, error) {
	b.key.reset()
	resp, err := b.client.Do(req)
	if err != nil {
		if kerr := b.key.failed(); kerr != nil {
			return nil, &KeyError{URL: req.URL.String(), Err: kerr}
		}
	}
	return resp, err
}

func newRequest(ctx context.Context, method, rawURL string, form url.Values) (*http.Request, error) {
	var body io.Reader
	if method == http.MethodPost {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, rawURL, body)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
	return req, nil
}

// location resolves a redirect's Location; nil when resp is no redirect.
func location(resp *http.Response) (*url.URL, error) {
	switch resp.StatusCode {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
	default:
		return nil, nil
	}
	loc, err := resp.Location()
	if err != nil {
		return nil, fmt.Errorf("%w: %d from %s: %v", ErrBadRedirect, resp.StatusCode, resp.Request.URL, err)
	}
	return loc, nil
}

func (b *Browser) record(h Hop) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.hops = append(b.hops, h)
}

// String renders the hops one a line, for test failure messages.
func (b *Browser) String() string {
	var buf bytes.Buffer
	for i, h := range b.Hops() {
		fmt.Fprintf(&buf, "%2d %s %s -> %d", i, h.Method, h.URL, h.Status)
		if h.Location != "" {
			fmt.Fprintf(&buf, " Location %s", h.Location)
		}
		if h.Auto {
			buf.WriteString(" (auto-posted)")
		}
		if h.Err != "" {
			fmt.Fprintf(&buf, " error: %s", h.Err)
		}
		buf.WriteByte('\n')
	}
	return buf.String()
}

// trapSigner remembers the last signing failure, which crypto/tls reports
// only as text.
type trapSigner struct {
	crypto.Signer
	mu  sync.Mutex
	err error
}

func (s *trapSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	sig, err := s.Signer.Sign(r, digest, opts)
	if err != nil {
		s.mu.Lock()
		s.err = err
		s.mu.Unlock()
	}
	return sig, err
}

func (s *trapSigner) reset() {
	if s != nil {
		s.mu.Lock()
		s.err = nil
		s.mu.Unlock()
	}
}

func (s *trapSigner) failed() error {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}
