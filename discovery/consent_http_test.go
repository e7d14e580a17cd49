package discovery_test

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/renkei-idwsf/renkei/internal/testkit/dskit"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/client"
)

const portalReturn = "https://portal.renkei.test/return?step=consent"

// consentLink has the portal query services the principal has not
// associated and returns the consent link of the RedirectRequest, as the
// WSC gives it to the browser (with transactionID), and the fault.
func consentLink(t *testing.T, f *dskit.Federation) *client.RedirectError {
	t.Helper()
	c, epr := portal(t, f, f.Principal, dskit.TokenOptions{})
	_, _, err := query(t, f, c, epr, byType(dskit.Clinical, dskit.Pension),
		wsf.Header{UserInteraction: &wsf.UserInteraction{Redirect: true}})
	var re *client.RedirectError
	if !errors.As(err, &re) {
		t.Fatalf("got %v, want a RedirectRequest", err)
	}
	return re
}

// page is one response of the consent page.
type page struct {
	status int
	header http.Header
	body   string
}

func (p page) form(t *testing.T) string {
	t.Helper()
	m := regexp.MustCompile(`name="form" value="([^"]+)"`).FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no form handle in\n%s", p.body)
	}
	return m[1]
}

// browser is an HTTP client of the consent page that does not follow
// redirects, so that the test sees each 303.
func browser(t *testing.T, f *dskit.Federation) *http.Client {
	c := f.HTTPClient(t, nil)
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
}

func do(t *testing.T, c *http.Client, method, u string, form url.Values, acceptLanguage string) page {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if acceptLanguage != "" {
		req.Header.Set("Accept-Language", acceptLanguage)
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return page{res.StatusCode, res.Header, string(b)}
}

func withReturn(link, returnTo string) string {
	return link + "&ReturnToURL=" + url.QueryEscape(returnTo)
}

func mustContain(t *testing.T, p page, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(p.body, w) {
			t.Errorf("page lacks %q:\n%s", w, p.body)
		}
	}
}

// TestConsentPageHeaders: the page carries the security headers, a
// policy with no script whose forms post only to itself and the asking
// WSC, and names the WSC, the institutions and the services in English by
// default.
func TestConsentPageHeaders(t *testing.T) {
	f := dskit.New(t, dskit.Options{Consent: true})
	f.Link(t, f.Principal, true)
	p := do(t, browser(t, f), http.MethodGet, withReturn(consentLink(t, f).URL, portalReturn), nil, "")
	if p.status != http.StatusOK {
		t.Fatalf("status %d\n%s", p.status, p.body)
	}
	for k, want := range map[string]string{
		"Content-Security-Policy": "default-src 'none'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self' https://portal.renkei.test",
		"X-Frame-Options":         "DENY",
		"Cache-Control":           "no-store",
		"Referrer-Policy":         "no-referrer",
		"X-Content-Type-Options":  "nosniff",
		"Content-Type":            "text/html; charset=utf-8",
		"Content-Language":        "en",
	} {
		if got := p.header.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	mustContain(t, p, `<html lang="en">`, dskit.PortalID, "Hospital A: lab results and prescriptions",
		"Clinical records (lab results, prescriptions)", "https://hospital-a.renkei.test/metadata",
		"Pension service: pension record", "Pension record", "https://pension.renkei.test/metadata",
		`<button type="submit" name="answer" value="allow" class="allow">Allow</button>`,
		`<button type="submit" name="answer" value="refuse" class="refuse">Refuse</button>`,
		`<button type="submit" name="lang" value="ja" lang="ja">日本語</button>`)
	if strings.Contains(p.body, "<script") {
		t.Errorf("the page has a script:\n%s", p.body)
	}
	css := do(t, browser(t, f), http.MethodGet, f.ConsentURL+"/style.css", nil, "")
	if css.status != http.StatusOK || css.header.Get("Content-Type") != "text/css; charset=utf-8" || !strings.Contains(css.body, "button") {
		t.Fatalf("stylesheet: %d %q", css.status, css.header.Get("Content-Type"))
	}
}

// TestConsentPageLanguage: the lang parameter first, then the browser's
// preferences; a switch of language posts the form handle and shows the
// page under a new one, which the answer then uses; the old one is spent.
func TestConsentPageLanguage(t *testing.T) {
	f := dskit.New(t, dskit.Options{Consent: true})
	f.Link(t, f.Principal, true)
	c := browser(t, f)
	for _, tc := range []struct {
		name, param, accept, want string
	}{
		{"ok/ja-asked-first", "", "ja-JP,ja;q=0.9,en;q=0.8", "ja"},
		{"ok/en-before-ja", "", "en-GB,ja;q=0.5", "en"},
		{"ok/ja-by-quality", "", "fr,en;q=0.3,ja;q=0.7", "ja"},
		{"ok/default-en", "", "fr-FR,de", "en"},
		{"ok/param-wins", "&lang=en", "ja", "en"},
		{"ok/unknown-param-ignored", "&lang=fr", "ja", "ja"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := do(t, c, http.MethodGet, withReturn(consentLink(t, f).URL, portalReturn)+tc.param, nil, tc.accept)
			if p.status != http.StatusOK || p.header.Get("Content-Language") != tc.want || !strings.Contains(p.body, `<html lang="`+tc.want+`">`) {
				t.Fatalf("status %d, Content-Language %q, want %s", p.status, p.header.Get("Content-Language"), tc.want)
			}
		})
	}

	ja := do(t, c, http.MethodGet, withReturn(consentLink(t, f).URL, portalReturn), nil, "ja")
	mustContain(t, ja, "診療情報（検査結果・処方）", "年金記録", "機関とサービス", ">同意する</button>", ">同意しない</button>",
		`lang="en">English</button>`)
	first := ja.form(t)
	en := do(t, c, http.MethodPost, f.ConsentURL, url.Values{"form": {first}, "lang": {"en"}}, "ja")
	if en.status != http.StatusOK || !strings.Contains(en.body, `<html lang="en">`) {
		t.Fatalf("switch to English: %d\n%s", en.status, en.body)
	}
	mustContain(t, en, "Clinical records (lab results, prescriptions)", "Hospital A: lab results and prescriptions")
	second := en.form(t)
	if second == first {
		t.Fatal("the switch kept the form handle")
	}
	if p := do(t, c, http.MethodPost, f.ConsentURL, url.Values{"form": {first}, "answer": {"allow"}}, ""); p.status != http.StatusGone {
		t.Fatalf("the handle before the switch: %d", p.status)
	}
	p := do(t, c, http.MethodPost, f.ConsentURL, url.Values{"form": {second}, "answer": {"allow"}, "lang": {"en"}}, "")
	if p.status != http.StatusSeeOther || p.header.Get("Location") != portalReturn+"&ResendMessage=1" {
		t.Fatalf("answer after the switch: %d %q", p.status, p.header.Get("Location"))
	}
}

// TestConsentPageErrors: what cannot go on ends on a page of its own with
// 410 or 400, in the asked language, and never redirects.
func TestConsentPageErrors(t *testing.T) {
	f := dskit.New(t, dskit.Options{Consent: true})
	f.Link(t, f.Principal, true)
	c := browser(t, f)

	used := consentLink(t, f).URL
	if p := do(t, c, http.MethodGet, withReturn(used, portalReturn), nil, ""); p.status != http.StatusOK {
		t.Fatalf("first visit: %d", p.status)
	}
	for _, tc := range []struct {
		name, method, url string
		form              url.Values
		accept            string
		status            int
		want              string
	}{
		{"fail/used-link", http.MethodGet, withReturn(used, portalReturn), nil, "", http.StatusGone, "This link was already used or has expired"},
		{"fail/used-link-ja", http.MethodGet, withReturn(used, portalReturn), nil, "ja", http.StatusGone, "このリンクは使用済みか、有効期限が切れています"},
		{"fail/unknown-link", http.MethodGet, withReturn(f.ConsentURL+"?tx=nosuchtransaction", portalReturn), nil, "", http.StatusGone, "already used or has expired"},
		{"fail/return-to-other-host", http.MethodGet, withReturn(consentLink(t, f).URL, "https://evil.renkei.test/return"), nil, "", http.StatusBadRequest, "The return address is not valid"},
		{"fail/return-to-http", http.MethodGet, withReturn(consentLink(t, f).URL, "http://portal.renkei.test/return"), nil, "", http.StatusBadRequest, "The return address is not valid"},
		{"fail/no-return-to", http.MethodGet, consentLink(t, f).URL, nil, "", http.StatusBadRequest, "The request is incomplete"},
		{"fail/no-tx", http.MethodGet, f.ConsentURL + "?ReturnToURL=" + url.QueryEscape(portalReturn), nil, "", http.StatusBadRequest, "The request is incomplete"},
		{"fail/post-without-handle", http.MethodPost, f.ConsentURL, url.Values{"answer": {"allow"}}, "", http.StatusBadRequest, "The request is incomplete"},
		{"fail/post-without-answer", http.MethodPost, f.ConsentURL, url.Values{"form": {"x"}}, "", http.StatusBadRequest, "The request is incomplete"},
		{"fail/post-odd-answer", http.MethodPost, f.ConsentURL, url.Values{"form": {"x"}, "answer": {"yes"}}, "", http.StatusBadRequest, "The request is incomplete"},
		{"fail/post-unknown-handle", http.MethodPost, f.ConsentURL, url.Values{"form": {"nosuchform"}, "answer": {"allow"}}, "", http.StatusGone, "already used or has expired"},
		{"fail/post-unknown-handle-switch", http.MethodPost, f.ConsentURL, url.Values{"form": {"nosuchform"}, "lang": {"ja"}}, "", http.StatusGone, "使用済み"},
		{"fail/post-too-large", http.MethodPost, f.ConsentURL, url.Values{"form": {strings.Repeat("x", 5000)}, "answer": {"allow"}}, "", http.StatusBadRequest, "The request is incomplete"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := do(t, c, tc.method, tc.url, tc.form, tc.accept)
			if p.status != tc.status || p.header.Get("Location") != "" {
				t.Fatalf("status %d, Location %q, want %d and none\n%s", p.status, p.header.Get("Location"), tc.status, p.body)
			}
			mustContain(t, p, tc.want, "<h1>")
			if strings.Contains(p.body, `name="form"`) || p.header.Get("Cache-Control") != "no-store" || p.header.Get("X-Frame-Options") != "DENY" {
				t.Errorf("error page: a form, or no security headers: %v\n%s", p.header, p.body)
			}
		})
	}
	if p := do(t, c, http.MethodPut, f.ConsentURL, url.Values{}, ""); p.status != http.StatusMethodNotAllowed {
		t.Fatalf("PUT: %d", p.status)
	}
}

// TestConsentPageRefuse: a refusal returns ResendMessage=0, records
// nothing, and the Query stays unanswered.
func TestConsentPageRefuse(t *testing.T) {
	f := dskit.New(t, dskit.Options{Consent: true})
	f.Link(t, f.Principal, true)
	c := browser(t, f)
	p := do(t, c, http.MethodGet, withReturn(consentLink(t, f).URL, portalReturn), nil, "")
	back := do(t, c, http.MethodPost, f.ConsentURL, url.Values{"form": {p.form(t)}, "answer": {"refuse"}}, "")
	if back.status != http.StatusSeeOther || back.header.Get("Location") != portalReturn+"&ResendMessage=0" {
		t.Fatalf("refusal: %d %q", back.status, back.header.Get("Location"))
	}
	consentLink(t, f) // still no association: a RedirectRequest again
}
