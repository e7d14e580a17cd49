package conformance

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
)

// MaxPage bounds an HTTP response body the browser reads.
const MaxPage = 1 << 20

// maxSteps bounds the redirects and login forms one browser visit follows.
const maxSteps = 10

// Form is an HTML form found on a page: its resolved action and its fields
// (hidden and filled ones) as they would be submitted.
type Form struct {
	Action string
	Method string
	Fields url.Values
	Types  map[string]string // input name -> type ("hidden", "password", ...)
	Order  []string          // input names in document order
}

// Landing is where a browser visit stopped: at a form carrying a SAML
// message (Form set) or at a page that is none (an error page, a login page
// no authenticator could fill).
type Landing struct {
	URL    string
	Status int
	Body   []byte
	Form   *Form // the form that would post SAMLResponse or SAMLRequest
	// ArtifactTo is the URL of a redirect carrying SAMLart (SAML Bindings
	// §3.6.3), where the visit stopped: the suite resolves the artifact
	// itself over the back channel.
	ArtifactTo *url.URL
	Visited    []string // every URL the browser requested, in order
}

// Browser is the suite's user agent: cookies, bounded redirects, login forms
// filled by the Authenticator, and every message recorded in the case's Env.
type Browser struct {
	env    *Env
	client *http.Client
	sent   map[string]bool // "user", "password": what a login form of this visit was given
	login  bool            // the request in flight submits a login form
	// submitted says this visit submitted a login form: ending at a SAML
	// message shows the login worked, ending at a page without one
	// before any login of the run worked shows it was refused.
	submitted bool
}

// Browser returns a fresh browser (no cookies, so no IdP session) for the
// case, its TLS client certificate set by the Authenticator.
func (e *Env) Browser() (*Browser, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	tr, err := e.transport()
	if err != nil {
		return nil, err
	}
	c := &http.Client{Transport: tr, Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &Browser{env: e, client: c}, nil
}

// transport clones the base transport and lets the authenticator set its
// client certificate.
func (e *Env) transport() (*http.Transport, error) {
	tr, err := e.baseTransport()
	if err != nil {
		return nil, err
	}
	if e.Login != nil {
		e.Login.ConfigureTLS(tr.TLSClientConfig)
	}
	return tr, nil
}

// baseTransport clones the base transport, with no client certificate.
func (e *Env) baseTransport() (*http.Transport, error) {
	var tr *http.Transport
	switch b := e.Transport.(type) {
	case nil:
		tr = http.DefaultTransport.(*http.Transport).Clone()
	case *http.Transport:
		tr = b.Clone()
	default:
		return nil, fmt.Errorf("conformance: transport %T is not an *http.Transport", e.Transport)
	}
	if tr.TLSClientConfig == nil {
		tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	return tr, nil
}

// backChannel is the SP's own client for SOAP calls to the IdP: no
// cookies, no redirects, and no client certificate (the user's card is
// not the SP's), so that only the SP's signature authenticates it.
func (e *Env) backChannel() (*Browser, error) {
	tr, err := e.baseTransport()
	if err != nil {
		return nil, err
	}
	c := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &Browser{env: e, client: c}, nil
}

// Get visits u and follows redirects and login forms until a SAML form or a
// final page.
func (b *Browser) Get(ctx context.Context, u, label string) (*Landing, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	b.env.Record(Message{Direction: "sent", Label: label, URL: u, Body: decodeQueryForLog(u)})
	return b.follow(ctx, req)
}

// Post submits form fields to u and follows what comes back.
func (b *Browser) Post(ctx context.Context, u string, fields url.Values, label, logBody string) (*Landing, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(fields.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	b.env.Record(Message{Direction: "sent", Label: label, URL: u, Body: logBody})
	return b.follow(ctx, req)
}

func (b *Browser) follow(ctx context.Context, req *http.Request) (*Landing, error) {
	b.sent, b.submitted = nil, false
	var visited []string
	for step := 0; step < maxSteps; step++ {
		visited = append(visited, req.URL.String())
		resp, err := b.client.Do(req)
		if err != nil {
			return nil, err
		}
		body, err := readPage(resp)
		if err != nil {
			return nil, err
		}
		land := &Landing{URL: req.URL.String(), Status: resp.StatusCode, Body: body, Visited: visited}
		next, err := b.next(ctx, req.URL, resp, land)
		if err != nil || next == nil {
			return land, err
		}
		req = next
	}
	return nil, fmt.Errorf("conformance: more than %d redirects or login steps", maxSteps)
}

// next decides the browser's next request: a redirect, a filled login form,
// or none (the visit ends at land).
func (b *Browser) next(ctx context.Context, base *url.URL, resp *http.Response, land *Landing) (*http.Request, error) {
	afterLogin := b.login
	b.login = false
	if loc := resp.Header.Get("Location"); resp.StatusCode >= 300 && resp.StatusCode < 400 && loc != "" {
		u, err := base.Parse(loc)
		if err != nil {
			return nil, fmt.Errorf("conformance: bad Location %q: %w", loc, err)
		}
		b.env.Record(Message{Direction: "received", Label: "redirect", URL: land.URL, Status: resp.StatusCode, Body: decodeQueryForLog(u.String())})
		land.Visited = append(land.Visited, u.String())
		if u.Scheme != "http" && u.Scheme != "https" {
			return nil, nil // the suite does not follow it; the case judges Visited
		}
		if u.Query().Has("SAMLart") {
			land.ArtifactTo = u
			b.loginWorked()
			return nil, nil
		}
		return http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	}
	forms := parseForms(base, land.Body)
	for _, f := range forms {
		if u, err := base.Parse(f.Action); err == nil && f.Fields.Has("SAMLart") {
			// The HTTP-Artifact binding by POST form (SAML Bindings §3.6.3):
			// read as the redirect would carry it.
			q := url.Values{"SAMLart": {f.Fields.Get("SAMLart")}}
			if f.Fields.Has("RelayState") {
				q.Set("RelayState", f.Fields.Get("RelayState"))
			}
			u.RawQuery = q.Encode()
			land.ArtifactTo = u
			b.env.Record(Message{Direction: "received", Label: "HTTP-Artifact form to " + f.Action, URL: land.URL, Status: land.Status, Body: decodeFormForLog(f)})
			b.loginWorked()
			return nil, nil
		}
		if f.Fields.Has("SAMLResponse") || f.Fields.Has("SAMLRequest") {
			land.Form = f
			b.env.Record(Message{Direction: "received", Label: "HTTP-POST form to " + f.Action, URL: land.URL, Status: land.Status, Body: decodeFormForLog(f)})
			b.loginWorked()
			return nil, nil
		}
	}
	b.env.Record(Message{Direction: "received", Label: "page", URL: land.URL, Status: land.Status, Body: string(land.Body)})
	if afterLogin && (land.Status == http.StatusUnauthorized || land.Status == http.StatusForbidden) {
		msg := fmt.Sprintf("login failed: the IdP answered the login form with HTTP %d; check -form-user and -form-password "+
			"(the run stops here and does not retry, so that no account is locked)", land.Status)
		b.env.run.halt(msg)
		return nil, &runError{msg: msg}
	}
	for _, f := range forms {
		if b.env.Login != nil && b.env.Login.Fill(f) {
			if err := b.loginStep(f); err != nil {
				return nil, err
			}
			b.env.Record(Message{Direction: "sent", Label: "login form", URL: f.Action, Body: "(credentials not logged)"})
			b.login, b.submitted = true, true
			r, err := http.NewRequestWithContext(ctx, http.MethodPost, f.Action, strings.NewReader(f.Fields.Encode()))
			if err == nil {
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			return r, err
		}
	}
	for _, f := range forms {
		if hasPassword(f) {
			return nil, b.unfilled()
		}
	}
	if b.submitted && b.env.run != nil && !b.env.run.hasLoggedIn() {
		msg := fmt.Sprintf("login failed: the IdP answered the login form with a page carrying no SAML message (HTTP %d at %s) "+
			"and no login of this run has worked; check -form-user and -form-password "+
			"(the run stops here and does not retry, so that no account is locked)", land.Status, land.URL)
		b.env.run.halt(msg)
		return nil, &runError{msg: msg}
	}
	return nil, nil
}

// loginWorked records, when this visit submitted a login form, that the
// visit reached a SAML message: a login of the run has worked.
func (b *Browser) loginWorked() {
	if b.submitted {
		b.env.run.markLoggedIn()
	}
}

// loginStep records what a filled login form sends and refuses to send
// it again in the same visit: the IdP asking a second time means the
// credentials were refused, and the run stops there, so that a wrong
// password is sent once and no account is locked.
func (b *Browser) loginStep(f *Form) error {
	if b.sent == nil {
		b.sent = map[string]bool{}
	}
	step := "user"
	if hasPassword(f) {
		step = "password"
	}
	if b.sent[step] {
		msg := "login failed: the IdP asked for the " + step + " again after it was sent; check -form-user and -form-password " +
			"(the run stops here and does not retry, so that no account is locked)"
		b.env.run.halt(msg)
		return &runError{msg: msg}
	}
	b.sent[step] = true
	return nil
}

// unfilled is the error of a visit that stopped at a password form no
// authenticator could fill.
func (b *Browser) unfilled() error {
	if _, ok := b.env.Login.(FormLogin); ok {
		return &runError{msg: "the IdP shows a login form the filler cannot fill: name its inputs with -form-user-field and -form-password-field"}
	}
	return &runError{msg: "the IdP asks for a password: give -form-user and -form-password"}
}

func readPage(resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxPage+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxPage {
		return nil, fmt.Errorf("conformance: page larger than %d bytes", MaxPage)
	}
	return b, nil
}

// parseForms reads the forms of an HTML page with encoding/xml in its
// non-strict HTML mode: enough for the forms IdPs generate, bounded by the
// page size. Its limit: an unquoted attribute value containing "=" (base64
// padding written without quotes) ends the parse, so such a form is not
// seen and the case judges the page as a page.
func parseForms(base *url.URL, page []byte) []*Form {
	d := xml.NewDecoder(bytes.NewReader(page))
	d.Strict, d.AutoClose, d.Entity = false, xml.HTMLAutoClose, xml.HTMLEntity
	var forms []*Form
	var cur *Form
	for i := 0; i < 100000; i++ {
		tok, err := d.Token()
		if err != nil {
			break
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch strings.ToLower(se.Name.Local) {
		case "form":
			cur = &Form{Action: base.String(), Method: "GET", Fields: url.Values{}, Types: map[string]string{}}
			if a := attr(se, "action"); a != "" {
				if u, err := base.Parse(a); err == nil {
					cur.Action = u.String()
				} else {
					cur.Action = a
				}
			}
			cur.Method = strings.ToUpper(attr(se, "method"))
			forms = append(forms, cur)
		case "input", "textarea":
			if cur != nil && attr(se, "name") != "" {
				name := attr(se, "name")
				if _, seen := cur.Types[name]; !seen {
					cur.Order = append(cur.Order, name)
				}
				cur.Fields.Set(name, attr(se, "value"))
				cur.Types[name] = strings.ToLower(attr(se, "type"))
			}
		}
	}
	return forms
}

func attr(se xml.StartElement, name string) string {
	for _, a := range se.Attr {
		if strings.EqualFold(a.Name.Local, name) {
			return a.Value
		}
	}
	return ""
}
