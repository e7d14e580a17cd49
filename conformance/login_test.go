package conformance

import (
	"context"
	"html"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// passwordGate puts a login in front of an IdP: a request without its
// session cookie gets a login page (HTTP 200), on one page or on two
// (user name, then password), and every submitted password is counted.
type passwordGate struct {
	next    http.Handler
	twoPage bool
	// failPage answers a wrong password with a page without the form
	// (HTTP 200), as many IdPs do, instead of the login form again.
	failPage bool

	mu       sync.Mutex
	attempts int // password submissions
}

const gateUser, gatePass = "alice", "secret"

func (g *passwordGate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie("gate"); err == nil && c.Value == "in" {
		g.next.ServeHTTP(w, r)
		return
	}
	if r.Method != http.MethodPost || r.URL.Path != "/login" {
		g.page(w, r.URL.String(), "", false)
		return
	}
	r.ParseForm()
	back, user := r.PostForm.Get("back"), r.PostForm.Get("username")
	if !r.PostForm.Has("password") {
		g.page(w, back, user, user == gateUser)
		return
	}
	g.mu.Lock()
	g.attempts++
	g.mu.Unlock()
	if user != gateUser || r.PostForm.Get("password") != gatePass {
		if g.failPage {
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte(`<html><body><p>Login failed.</p><a href="/">try again</a></body></html>`))
			return
		}
		g.page(w, back, "", false)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: "gate", Value: "in", Path: "/"})
	http.Redirect(w, r, back, http.StatusFound)
}

// page writes the login form: both fields, or on a two-page login the
// user name first and, once a known one is given, the password alone. A
// search box comes first, so that the filler must choose its text input.
func (g *passwordGate) page(w http.ResponseWriter, back, user string, askPassword bool) {
	var b strings.Builder
	b.WriteString(`<html><body><form action="/search"><input type="text" name="q"></form><form method="post" action="/login">`)
	b.WriteString(`<input type="hidden" name="back" value="` + html.EscapeString(back) + `">`)
	switch {
	case g.twoPage && askPassword:
		b.WriteString(`<input type="hidden" name="username" value="` + html.EscapeString(user) + `"><input type="password" name="password">`)
	case g.twoPage:
		b.WriteString(`<input type="text" name="nickname"><input type="text" name="username">`)
	default:
		b.WriteString(`<input type="text" name="nickname"><input type="text" name="username"><input type="password" name="password">`)
	}
	b.WriteString(`</form></body></html>`)
	w.Header().Set("Content-Type", "text/html")
	w.Write([]byte(b.String()))
}

// runPasswordIdP runs the Web SSO cases against the fake IdP behind a
// password gate, logging in with login. The gate sends the browser back
// with a GET, which loses an HTTP-POST AuthnRequest, so the cases that
// post one are excluded by name (-skip).
func runPasswordIdP(t *testing.T, twoPage bool, login Authenticator) (*Report, *passwordGate) {
	t.Helper()
	return runGatedIdP(t, &passwordGate{twoPage: twoPage}, login)
}

// runGatedIdP is runPasswordIdP behind the given gate.
func runGatedIdP(t *testing.T, gate *passwordGate, login Authenticator) (*Report, *passwordGate) {
	t.Helper()
	sp, err := NewSP("https://127.0.0.1/conformance-sp", "https://127.0.0.1/conformance-sp/acs", time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	idp := &fakeIdP{t: t, seen: map[string]bool{}, spID: sp.EntityID, sp: sp.Descriptor().SPSSO[0]}
	gate.next = idp.mux()
	mux := http.NewServeMux()
	mux.Handle("GET /metadata", idp.mux())
	mux.Handle("/", gate)
	idp.srv = httptest.NewServer(mux)
	idp.start(t)
	ctx := context.Background()
	target, err := LoadTarget(ctx, idp.srv.URL+"/metadata", nil)
	if err != nil {
		t.Fatal(err)
	}
	var skip []string
	for _, c := range SAMLIdPCases() {
		if c.Row == rowPOST && (strings.Contains(c.ID, "/post-") || strings.Contains(c.ID, "oversized-post")) {
			skip = append(skip, c.ID)
		}
	}
	r := &Runner{Role: RoleIdP, Mode: ModeIdP, Cases: SAMLIdPCases(), Rows: Matrix(), Only: []string{"web-sso"}, Skip: skip, CaseTimeout: 30 * time.Second}
	return r.Run(ctx, &Env{Target: target, SP: sp, Login: login}), gate
}

// TestPasswordLogin: the filler logs in on one page and over two pages,
// choosing the user name input by its name; without credentials, or with
// a wrong password, the run is a run error saying why, no case passes or
// blames the target, and a wrong password is sent once.
func TestPasswordLogin(t *testing.T) {
	tests := []struct {
		name     string
		twoPage  bool
		failPage bool
		login    Authenticator
		want     string // "" for a passing run, else the run error
	}{
		{"ok/one-page", false, false, FormLogin{Username: gateUser, Password: gatePass}, ""},
		{"ok/two-pages", true, false, FormLogin{Username: gateUser, Password: gatePass}, ""},
		{"ok/named-fields", false, false, FormLogin{Username: gateUser, Password: gatePass, UserField: "username", PassField: "password"}, ""},
		{"fail/no-login-flags", false, false, NoLogin{}, "the IdP asks for a password: give -form-user and -form-password"},
		{"fail/wrong-password", false, false, FormLogin{Username: gateUser, Password: "wrong"}, "login failed"},
		{"fail/wrong-password-two-pages", true, false, FormLogin{Username: gateUser, Password: "wrong"}, "login failed"},
		{"fail/wrong-password-failure-page", false, true, FormLogin{Username: gateUser, Password: "wrong"}, "login failed"},
		{"fail/wrong-password-failure-page-two-pages", true, true, FormLogin{Username: gateUser, Password: "wrong"}, "login failed"},
		{"fail/wrong-field-name", false, false, FormLogin{Username: gateUser, Password: gatePass, UserField: "login"}, "-form-user-field"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep, gate := runGatedIdP(t, &passwordGate{twoPage: tc.twoPage, failPage: tc.failPage}, tc.login)
			var txt strings.Builder
			rep.WriteText(&txt)
			if tc.want == "" {
				if rep.Failed() {
					t.Fatalf("the run fails:\n%s", txt.String())
				}
				return
			}
			checkRunError(t, rep, tc.want, txt.String())
			if strings.Contains(tc.name, "wrong-password") {
				if gate.attempts != 1 || !strings.Contains(rep.RunError, "login failed") {
					t.Fatalf("%d password attempts, run error %q: a refused login must stop the run", gate.attempts, rep.RunError)
				}
			}
		})
	}
}

// checkRunError asserts that a run failed as a run error: no case passed,
// none blamed the target, and the reasons say want.
func checkRunError(t *testing.T, rep *Report, want, txt string) {
	t.Helper()
	if !rep.Failed() || !strings.Contains(txt, want) {
		t.Fatalf("no run error %q:\n%s", want, txt)
	}
	for _, res := range rep.Results {
		if res.Outcome.Verdict != Error && res.Outcome.Verdict != OutOfScope {
			t.Errorf("%s: %s (%s) although the login never completed", res.Case.ID, res.Outcome.Verdict, res.Outcome.Reason)
		}
	}
}
