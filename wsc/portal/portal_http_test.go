package portal_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/renkei-idwsf/renkei/internal/testkit/dskit"
	"github.com/renkei-idwsf/renkei/internal/testkit/wspkit"
	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/store"
	"github.com/renkei-idwsf/renkei/wsc"
	"github.com/renkei-idwsf/renkei/wsc/portal"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/disco"
	"github.com/renkei-idwsf/renkei/wsp/sample"
)

// testAuth stands in for the SAML side in the pages' test: GET
// /test-login?principal=P opens P's session with a DS token bound to the
// portal's key, as the assertion's bootstrap would.
type testAuth struct {
	t *testing.T
	k *wspkit.Kit
}

func (a *testAuth) Mount(r *mux.Router, h *portal.HTTP) {
	r.Handle("/test-login", http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		p := req.URL.Query().Get("principal")
		tok := a.k.Fed.DSToken(a.t, p, a.k.Fed.Keys.Portal.Cert, dskit.TokenOptions{Lifetime: 2 * time.Hour})
		c, err := h.Portal.Open(portal.Identity{NameID: &saml.NameID{Value: "nid-" + p}, SessionIndex: "s"}, a.k.Fed.DSEPR(tok), nil)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		h.SetSession(w, c)
		http.Redirect(w, req, "/", http.StatusSeeOther)
	}))
}

type site struct {
	t    *testing.T
	base string
	c    *http.Client
}

// get returns the status and body of path, following redirects.
func (s *site) get(path string) (int, string) {
	s.t.Helper()
	res, err := s.c.Get(s.base + path)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// post posts form to path without following the redirect.
func (s *site) post(path string, form url.Values) (int, string) {
	s.t.Helper()
	c := *s.c
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := c.PostForm(s.base+path, form)
	if err != nil {
		s.t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode, res.Header.Get("Location")
}

// startSite serves the portal's pages over HTTPS on loopback, with the
// test login, and returns a browser-like client with a cookie jar.
func startSite(t *testing.T, k *wspkit.Kit, p *portal.Portal) *site {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	h := &portal.HTTP{Portal: p, Auth: &testAuth{t: t, k: k}, BaseURL: srv.URL, FormTargets: []string{k.Fed.URL}}
	handler, err := h.Handler()
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = handler
	jar, _ := cookiejar.New(nil)
	c := srv.Client()
	c.Jar = jar
	return &site{t: t, base: srv.URL, c: c}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func want(t *testing.T, what, body string, texts ...string) {
	t.Helper()
	for _, x := range texts {
		if !strings.Contains(body, x) {
			t.Errorf("%s does not show %q", what, x)
		}
	}
}

// TestPages: every page in both languages over HTTPS, the forms guarded
// by the session's CSRF token, booking and withdrawing through them, and
// a link through the DS's consent page started.
func TestPages(t *testing.T) {
	k := wspkit.Start(t, wspkit.Options{Consent: true})
	principal := k.Enrol(t, "p01")
	s := startSite(t, k, newPortal(t, k, 10*time.Second))
	srv := s

	if st, body := s.get("/?lang=en"); st != http.StatusOK || !strings.Contains(body, "Log in with your card") {
		t.Fatalf("welcome: %d\n%s", st, body)
	}
	if st, _ := s.get("/labs"); st != http.StatusOK { // redirected to the welcome page
		t.Fatalf("labs without a session: %d", st)
	}
	st, home := s.get("/test-login?principal=" + url.QueryEscape(principal))
	if st != http.StatusOK {
		t.Fatalf("home: %d\n%s", st, home)
	}
	want(t, "the dashboard", home, "Toto Central Hospital", "Konan Memorial Hospital", "Minato City National Health Insurance",
		"Lab results", "Prescriptions", "Pension record", "Insurance eligibility")
	for _, lang := range []string{"en", "ja"} {
		for _, path := range []string{"/", "/labs", "/prescriptions", "/checkups", "/appointments", "/eligibility", "/pension",
			"/institutions", "/access", "/nosuchpage"} {
			st, body := s.get(path + "?lang=" + lang)
			wantSt := http.StatusOK
			if path == "/nosuchpage" {
				wantSt = http.StatusNotFound
			}
			if st != wantSt || !strings.Contains(body, `<html lang="`+lang+`">`) || !strings.Contains(body, `<main id="main">`) {
				t.Errorf("%s in %s: HTTP %d\n%s", path, lang, st, body)
			}
		}
	}
	_, ja := s.get("/?lang=ja")
	want(t, "the Japanese dashboard", ja, "東都中央病院", "港南記念病院", "検査結果", "年金記録")
	_, labs := s.get("/labs")
	m := regexp.MustCompile(`<option value="([^"]+)"`).FindStringSubmatch(labs)
	if m == nil {
		t.Fatalf("no test to draw a trend of:\n%s", labs)
	}
	if _, trend := s.get("/labs?code=" + url.QueryEscape(m[1])); !strings.Contains(trend, "<svg") || !strings.Contains(trend, `role="img"`) {
		t.Fatalf("no trend chart for %s", m[1])
	}

	// Booking through the form: no token, a wrong token, then the real one.
	_, appts := s.get("/appointments?lang=en")
	tok := csrfRE.FindStringSubmatch(appts)
	slot := regexp.MustCompile(`name="provider" value="([^"]+)"><input type="hidden" name="slot" value="([^"]+)"`).FindStringSubmatch(appts)
	if tok == nil || slot == nil {
		t.Fatalf("no booking form:\n%s", appts)
	}
	form := url.Values{"provider": {slot[1]}, "slot": {slot[2]}}
	if st, _ := s.post("/appointments/book", form); st != http.StatusForbidden {
		t.Fatalf("a booking without the CSRF token: HTTP %d", st)
	}
	form.Set("csrf", "x"+tok[1])
	if st, _ := s.post("/appointments/book", form); st != http.StatusForbidden {
		t.Fatalf("a booking with another CSRF token: HTTP %d", st)
	}
	form.Set("csrf", tok[1])
	if st, loc := s.post("/appointments/book", form); st != http.StatusSeeOther || loc != "/appointments?done=done.booked" {
		t.Fatalf("booking: HTTP %d to %s", st, loc)
	}
	_, appts = s.get("/appointments?done=done.booked")
	want(t, "the appointments after booking", appts, "Your appointment is booked.", `action="/appointments/cancel"`)
	full := url.Values{"csrf": {tok[1]}, "provider": {wspkit.Entities[sample.HospitalA]}, "slot": {k.Manifest.Institution(sample.HospitalA).FullSlot}}
	if st, loc := s.post("/appointments/book", full); st != http.StatusSeeOther || loc != "/appointments?err=err.slotfull" {
		t.Fatalf("booking the full slot: HTTP %d to %s", st, loc)
	}

	// Withdrawing the pension service's consent, then linking it again:
	// the browser is sent to the DS's consent page.
	_, insts := s.get("/institutions")
	svcmd := regexp.MustCompile(`name="svcmd" value="([^"]+)"><button type="submit">Withdraw: ([^<]*)</button>`).FindAllStringSubmatch(insts, -1)
	var pension string
	for _, m := range svcmd {
		if strings.Contains(m[2], "Pension") || strings.Contains(m[2], "年金") {
			pension = m[1]
		}
	}
	if pension == "" {
		t.Fatalf("no withdraw form for the pension service among %v:\n%s", svcmd, insts)
	}
	if st, loc := s.post("/institutions/withdraw", url.Values{"csrf": {tok[1]}, "svcmd": {pension}}); st != http.StatusSeeOther || loc != "/institutions?done=done.withdrawn" {
		t.Fatalf("withdraw: HTTP %d to %s", st, loc)
	}
	if _, home := s.get("/"); strings.Contains(home, "Pension record") {
		t.Error("the dashboard still shows the pension record after the withdrawal")
	}
	st, loc := s.post("/institutions/link", url.Values{"csrf": {tok[1]}, "provider": {wspkit.Entities[sample.Pension]}})
	if st != http.StatusSeeOther || !strings.HasPrefix(loc, k.Fed.ConsentURL) || !strings.Contains(loc, "ReturnToURL="+url.QueryEscape(srv.base+"/institutions/return?p=")) {
		t.Fatalf("link: HTTP %d to %s", st, loc)
	}
	// A return with an unknown handle links nothing.
	if _, body := s.get("/institutions/return?p=nosuch&ResendMessage=1"); !strings.Contains(body, "It is not there any more") {
		t.Errorf("a return with an unknown handle:\n%s", body)
	}

	_, access := s.get("/access?lang=en")
	want(t, "the access log", access, "Token issued", "Read", "Toto Central Hospital", "Link withdrawn", "Created")
}

// TestCatalogue: both languages hold every key, none empty.
func TestCatalogue(t *testing.T) {
	ja, en := portal.Words("ja"), portal.Words("en")
	for k, v := range ja {
		if en[k] == "" {
			t.Errorf("%q has no English", k)
		}
		if v == "" {
			t.Errorf("%q is empty in Japanese", k)
		}
	}
	for k := range en {
		if _, ok := ja[k]; !ok {
			t.Errorf("%q has no Japanese", k)
		}
	}
}

// TestUnknownServiceType: an institution's SvcMD of a service type the
// portal's catalogue does not know (a newer version) is named by its URN
// on the linked-institutions page, which still works: the citizen can
// withdraw every consent.
func TestUnknownServiceType(t *testing.T) {
	k := wspkit.Start(t, wspkit.Options{Institutions: []string{sample.Insurer}})
	principal := k.Enrol(t, "p01")
	var ins *dskit.WSP
	for _, w := range k.Fed.WSPs {
		if w.EntityID == wspkit.Entities[sample.Insurer] {
			ins = w
		}
	}
	const newer = "urn:renkei:svc:eligibility:2.0"
	m := ins.SvcMD()
	m.Abstract = "Insurer: eligibility, version 2"
	m.ServiceContexts[0].ServiceTypes = []string{newer}
	m.ServiceContexts[0].EndpointContexts[0].Addresses = []string{"https://insurer.renkei.test/wsp/eligibility2"}
	res, err := k.Fed.Call(t, k.Fed.WSPClient(t, ins), k.Fed.AdminEPR(), &disco.SvcMDRegister{SvcMDs: []*disco.SvcMD{m}}, "SvcMDRegister", wsf.Header{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := disco.DecodeSvcMDRegisterResponse(res.Payload)
	if err != nil || r.Status.Code != disco.OK {
		t.Fatalf("register: %+v %v", r, err)
	}
	if err := k.Fed.Store.Associate(context.Background(), store.Association{PrincipalID: principal, SvcMDID: r.SvcMDIDs[0], Created: k.Fed.Clock.Now()}); err != nil {
		t.Fatal(err)
	}
	s := startSite(t, k, newPortal(t, k, 10*time.Second))
	s.get("/test-login?principal=" + url.QueryEscape(principal))
	st, body := s.get("/institutions?lang=en")
	if st != http.StatusOK || !strings.Contains(body, newer) || !strings.Contains(body, "Withdraw: Insurer: eligibility, version 2") {
		t.Fatalf("/institutions with a newer service type: HTTP %d\n%s", st, body)
	}
}

// TestSessionsPerCitizen: one citizen's logins keep at most
// MaxPerCitizen sessions (the oldest ends), so that they cannot fill the
// portal for the others; the back-channel logout ends them all.
func TestSessionsPerCitizen(t *testing.T) {
	k := wspkit.Start(t, wspkit.Options{Institutions: []string{sample.Insurer}})
	a, b := k.Enrol(t, "p01"), k.Enrol(t, "p02")
	set, err := md.New(md.Config{Sources: []md.Source{{Location: k.Aggregate, Unsigned: true}}, Now: k.Fed.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := set.Refresh(context.Background(), k.Fed.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	p, err := portal.New(portal.Config{WSC: wsc.Config{Client: k.Portal(t)}, Directory: set, DS: dskit.DSID,
		MaxSessions: portal.DefaultMaxPerCitizen + 1, Now: k.Fed.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	var first *portal.Citizen
	for i := range portal.DefaultMaxPerCitizen + 2 {
		c := login(t, k, p, a)
		if i == 0 {
			first = c
		}
	}
	if n := p.Sessions(); n != portal.DefaultMaxPerCitizen {
		t.Fatalf("%d sessions of one citizen, want %d", n, portal.DefaultMaxPerCitizen)
	}
	if _, err := p.Session(first.ID); !errors.Is(err, portal.ErrNoSession) {
		t.Fatalf("the oldest session is still open: %v", err)
	}
	if cb := login(t, k, p, b); cb == nil {
		t.Fatal("another citizen cannot log in")
	}
	if n := p.EndLogin("nid-"+a, nil); n != portal.DefaultMaxPerCitizen {
		t.Fatalf("the logout of every session index ended %d sessions", n)
	}
	if n := p.Sessions(); n != 1 {
		t.Fatalf("%d sessions left, want the other citizen's", n)
	}
}

// TestAuthnContexts: a card login opens a session; by default a login
// with a soft certificate (X509) does not.
func TestAuthnContexts(t *testing.T) {
	def := &portal.SAML{}
	if !def.Accepts(saml.ACSmartcardPKI) || def.Accepts(saml.ACX509) || def.Accepts("") {
		t.Fatal("the default accepts something else than a card login, or not a card login")
	}
	demo := &portal.SAML{AuthnContexts: []string{saml.ACSmartcardPKI, saml.ACX509}}
	if !demo.Accepts(saml.ACX509) {
		t.Fatal("a configured class is refused")
	}
}

// TestDiscoveryDown: with the Discovery Service gone, every page that
// needs it says so on a page of its own (503), in the page's language,
// rather than an empty dashboard or an error trace.
func TestDiscoveryDown(t *testing.T) {
	k := wspkit.Start(t, wspkit.Options{Institutions: []string{sample.Insurer}})
	principal := k.Enrol(t, "p01")
	s := startSite(t, k, newPortal(t, k, 2*time.Second))
	if st, _ := s.get("/test-login?principal=" + url.QueryEscape(principal) + "&lang=en"); st != http.StatusOK {
		t.Fatalf("login: %d", st)
	}
	k.Fed.Server.CloseClientConnections()
	k.Fed.Server.Close()
	for _, path := range []string{"/", "/labs", "/institutions", "/access"} {
		st, body := s.get(path + "?lang=en")
		if st != http.StatusServiceUnavailable || !strings.Contains(body, "The Discovery Service, which lists your institutions, could not be reached") {
			t.Errorf("%s with the DS down: HTTP %d\n%s", path, st, body)
		}
	}
	if _, body := s.get("/?lang=ja"); !strings.Contains(body, "ディスカバリサービスに接続できませんでした") {
		t.Errorf("the Japanese page with the DS down:\n%s", body)
	}
}
