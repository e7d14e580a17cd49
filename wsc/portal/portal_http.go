package portal

import (
	"crypto/subtle"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"golang.org/x/text/language"

	"github.com/renkei-idwsf/renkei/internal/httpx"
	"github.com/renkei-idwsf/renkei/wsf/audit"
	"github.com/renkei-idwsf/renkei/wsf/dst"
)

// The portal's pages (HTTP adapter of the engine):
//
//	GET  /                      welcome (no session) or the dashboard
//	GET  /labs[?code=C]         lab results, the trend of test C
//	GET  /prescriptions, /checkups, /eligibility, /pension
//	GET  /appointments          the citizen's appointments and open slots
//	POST /appointments/book     provider, slot      (CSRF token)
//	POST /appointments/cancel   provider, id        (CSRF token)
//	GET  /institutions          linked institutions and their consents
//	POST /institutions/withdraw svcmd               (CSRF token)
//	POST /institutions/link     provider            (CSRF token): 303 to the DS's consent page
//	GET  /institutions/return   p, ResendMessage    back from the consent page
//	GET  /access                the access log
//	GET  /style.css
//
// The SAML side (/login, /acs, /logout, /slo, /metadata) is sp_http.go.
// Every page works without script; the language is the lang parameter's,
// kept in a cookie, else the browser's Accept-Language, else Japanese.

// Cookie names: __Host- cookies are Secure, Path=/ and bound to this host.
const (
	cookieSession = "__Host-portal-session"
	cookieLang    = "__Host-portal-lang"
)

// maxForm bounds a POST body: a token and two identifiers.
const maxForm = 8 << 10

//go:embed pages/*.html pages/style.css
var pageFiles embed.FS

// HTTP serves My Portal's pages over Portal.
type HTTP struct {
	Portal *Portal
	// Auth is the SAML SP side: login, logout; required.
	Auth Auth
	// BaseURL is the portal's public https origin, e.g.
	// "https://portal.example.jp": the ReturnToURL of consents is built
	// on it, and POSTs must come from it.
	BaseURL string
	// FormTargets are the other origins the portal's forms lead to by
	// redirect (the IdP's for logout, the DS's for consent): the CSP's
	// form-action lists them.
	FormTargets []string
	// Log, when set, receives the private cause of every failure.
	Log func(r *http.Request, err error)

	pages *template.Template
}

// Handler returns the portal's router, every response with the security
// headers of every Renkei page and the portal's CSP.
func (h *HTTP) Handler() (http.Handler, error) {
	if h.Portal == nil || h.Auth == nil || !strings.HasPrefix(h.BaseURL, "https://") {
		return nil, errors.New("portal: HTTP needs the Portal, the Auth and an https BaseURL")
	}
	t, err := template.New("pages").Funcs(template.FuncMap{
		"t": func(w map[string]string, key string) (string, error) {
			if s, ok := w[key]; ok {
				return s, nil
			}
			return "", fmt.Errorf("portal: no word %q", key)
		},
		// svc names a service type in the page's language, the URN when
		// the catalogue does not know it (an institution's newer type).
		"svc": func(w map[string]string, typ string) string {
			if s, ok := w["svc."+typ]; ok {
				return s
			}
			return typ
		},
		"navKeys": func() []string { return navKeys },
		"navPath": func(k string) string { return navPaths[k] },
		"idOf":    idOf,
		"dict": func(kv ...any) (map[string]any, error) {
			if len(kv)%2 != 0 {
				return nil, errors.New("portal: dict of an odd count")
			}
			m := make(map[string]any, len(kv)/2)
			for i := 0; i < len(kv); i += 2 {
				k, ok := kv[i].(string)
				if !ok {
					return nil, errors.New("portal: dict key not a string")
				}
				m[k] = kv[i+1]
			}
			return m, nil
		},
	}).ParseFS(pageFiles, "pages/*.html")
	if err != nil {
		return nil, err
	}
	h.pages = t
	r := mux.NewRouter()
	r.Use(httpx.MarkRoute) // the route template, for the role's metrics and request log
	get := func(path string, f func(http.ResponseWriter, *http.Request, *view)) {
		r.Handle(path, h.wrap(f)).Methods(http.MethodGet, http.MethodHead)
	}
	post := func(path string, f func(http.ResponseWriter, *http.Request, *view)) {
		r.Handle(path, h.wrap(h.checkPost(f))).Methods(http.MethodPost)
	}
	get("/", h.home)
	get("/labs", h.labs)
	get("/prescriptions", h.itemsPage(dst.Clinical, "Prescription", "rx.title", "nav.rx"))
	get("/checkups", h.itemsPage(dst.Checkup, "Checkup", "checkups.title", "nav.checkups"))
	get("/eligibility", h.itemsPage(dst.Eligibility, "Eligibility", "elig.title", "nav.elig"))
	get("/pension", h.pension)
	get("/appointments", h.appointments)
	post("/appointments/book", h.book)
	post("/appointments/cancel", h.cancel)
	get("/institutions", h.institutions)
	post("/institutions/withdraw", h.withdraw)
	post("/institutions/link", h.link)
	get("/institutions/return", h.linkReturn)
	get("/access", h.access)
	r.Handle("/style.css", http.HandlerFunc(h.style)).Methods(http.MethodGet, http.MethodHead)
	h.Auth.Mount(r, h)
	r.NotFoundHandler = h.wrap(func(w http.ResponseWriter, r *http.Request, v *view) {
		h.fail(w, r, v, http.StatusNotFound, "error.notfound", nil)
	})
	csp := "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
	for _, o := range h.FormTargets {
		csp += " " + o
	}
	return httpx.Secure(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Security-Policy", csp)
		w.Header().Set("Strict-Transport-Security", "max-age=31536000")
		r.ServeHTTP(w, req)
	})), nil
}

// The menu, in order.
var (
	navKeys  = []string{"nav.home", "nav.labs", "nav.rx", "nav.checkups", "nav.appts", "nav.elig", "nav.pension", "nav.links", "nav.access"}
	navPaths = map[string]string{"nav.home": "/", "nav.labs": "/labs", "nav.rx": "/prescriptions", "nav.checkups": "/checkups",
		"nav.appts": "/appointments", "nav.elig": "/eligibility", "nav.pension": "/pension", "nav.links": "/institutions",
		"nav.access": "/access"}
)

// idOf turns an entityID into an HTML id: letters and digits kept, the
// rest '-'.
func idOf(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			b[i] = '-'
		}
	}
	return string(b)
}

// Auth is the portal's SAML side, which mounts its own routes (login,
// assertion consumer, logout) beside the pages.
type Auth interface {
	Mount(r *mux.Router, h *HTTP)
}

// view is what every page template reads.
type view struct {
	Lang, Other string
	W           map[string]string
	Title       string // a catalogue key
	Nav         string // the active menu entry's key
	Path        string // this page, for the language switch
	Citizen     *Citizen
	CSRF        string
	Flash       string // a done.* key
	Error       string // an err.* key
	Data        any
}

// wrap reads the language and the session for f.
func (h *HTTP) wrap(f func(http.ResponseWriter, *http.Request, *view)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lang := h.lang(w, r)
		v := &view{Lang: lang, Other: other(lang), W: Words(lang), Path: r.URL.Path}
		if ck, err := r.Cookie(cookieSession); err == nil {
			if c, err := h.Portal.Session(ck.Value); err == nil {
				v.Citizen, v.CSRF = c, c.CSRF
			}
		}
		q := r.URL.Query()
		if k := q.Get("done"); strings.HasPrefix(k, "done.") && v.W[k] != "" {
			v.Flash = k
		}
		if k := q.Get("err"); strings.HasPrefix(k, "err.") && v.W[k] != "" {
			v.Error = k
		}
		f(w, r, v)
	})
}

var matcher = language.NewMatcher([]language.Tag{language.Japanese, language.English})

// lang picks the page's language: ?lang= (kept in a cookie), the cookie,
// Accept-Language, Japanese.
func (h *HTTP) lang(w http.ResponseWriter, r *http.Request) string {
	if l := r.URL.Query().Get("lang"); l == "ja" || l == "en" {
		http.SetCookie(w, &http.Cookie{Name: cookieLang, Value: l, Path: "/", Secure: true, HttpOnly: true,
			SameSite: http.SameSiteLaxMode, MaxAge: 365 * 24 * 3600})
		return l
	}
	if ck, err := r.Cookie(cookieLang); err == nil && (ck.Value == "ja" || ck.Value == "en") {
		return ck.Value
	}
	tags, _, _ := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	if len(tags) == 0 {
		return "ja"
	}
	tag, _, conf := matcher.Match(tags...)
	if conf == language.No {
		return "ja"
	}
	if base, _ := tag.Base(); base.String() == "en" {
		return "en"
	}
	return "ja"
}

func other(lang string) string {
	if lang == "ja" {
		return "en"
	}
	return "ja"
}

// checkPost refuses a POST without a session, from another origin, or
// without the session's CSRF token.
func (h *HTTP) checkPost(f func(http.ResponseWriter, *http.Request, *view)) func(http.ResponseWriter, *http.Request, *view) {
	return func(w http.ResponseWriter, r *http.Request, v *view) {
		r.Body = http.MaxBytesReader(w, r.Body, maxForm)
		if err := r.ParseForm(); err != nil {
			h.fail(w, r, v, http.StatusBadRequest, "err.failed", err)
			return
		}
		if v.Citizen == nil {
			h.fail(w, r, v, http.StatusUnauthorized, "error.session", nil)
			return
		}
		if o := r.Header.Get("Origin"); o != "" && o != "null" && o != strings.TrimSuffix(h.BaseURL, "/") {
			h.fail(w, r, v, http.StatusForbidden, "err.csrf", fmt.Errorf("POST from origin %q", o))
			return
		}
		if subtle.ConstantTimeCompare([]byte(r.PostForm.Get("csrf")), []byte(v.CSRF)) != 1 {
			h.fail(w, r, v, http.StatusForbidden, "err.csrf", errors.New("POST without the session's CSRF token"))
			return
		}
		f(w, r, v)
	}
}

// SetSession gives the browser the session cookie of c: the SAML side
// calls it once the assertion is accepted. SameSite=Lax: the cookie
// comes with the citizen's return from the DS's consent page (a top-level
// GET), never with another site's POST.
func (h *HTTP) SetSession(w http.ResponseWriter, c *Citizen) {
	http.SetCookie(w, &http.Cookie{Name: cookieSession, Value: c.ID, Path: "/", Secure: true, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Expires: c.Expires})
}

// EndSession removes the session cookie.
func (h *HTTP) EndSession(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: cookieSession, Value: "", Path: "/", Secure: true, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

// Render renders the page name of the catalogue's title key with data,
// for the SAML side's pages (logged out, login failed).
func (h *HTTP) Render(w http.ResponseWriter, r *http.Request, status int, name, title string, data any) {
	h.wrap(func(w http.ResponseWriter, r *http.Request, v *view) {
		v.Title, v.Data = title, data
		h.render(w, v, status, name)
	}).ServeHTTP(w, r)
}

// Wrap adapts a handler of the SAML side: it gets the request's session
// (nil without one) and CSRF check for POSTs.
func (h *HTTP) Wrap(post bool, f func(w http.ResponseWriter, r *http.Request, c *Citizen)) http.Handler {
	g := func(w http.ResponseWriter, r *http.Request, v *view) { f(w, r, v.Citizen) }
	if post {
		return h.wrap(h.checkPost(g))
	}
	return h.wrap(g)
}

// needLogin sends a visitor without a session to the welcome page.
func (h *HTTP) needLogin(w http.ResponseWriter, r *http.Request, v *view) bool {
	if v.Citizen != nil {
		return false
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
	return true
}

func (h *HTTP) render(w http.ResponseWriter, v *view, status int, name string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Language", v.Lang)
	w.Header().Set("Vary", "Accept-Language, Cookie")
	var b strings.Builder
	if err := h.pages.ExecuteTemplate(&b, name, v); err != nil {
		h.logf(nil, fmt.Errorf("portal: page %s: %w", name, err))
		http.Error(w, v.W["error.internal"], http.StatusInternalServerError)
		return
	}
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
}

// fail renders the error page with the catalogue's message key; err, the
// private cause, goes to the log only.
func (h *HTTP) fail(w http.ResponseWriter, r *http.Request, v *view, status int, key string, err error) {
	if err != nil && h.Log != nil {
		h.Log(r, err)
	}
	v.Title, v.Data = "error.title", key
	h.render(w, v, status, "error")
}

// discoveryFailed renders the page of a Discovery Service that did not
// answer.
func (h *HTTP) discoveryFailed(w http.ResponseWriter, r *http.Request, v *view, err error) {
	if h.Log != nil {
		h.Log(r, err)
	}
	v.Title = "ds.down.title"
	h.render(w, v, http.StatusServiceUnavailable, "dsdown")
}

func (h *HTTP) style(w http.ResponseWriter, _ *http.Request) {
	b, err := pageFiles.ReadFile("pages/style.css")
	if err != nil {
		http.Error(w, "no stylesheet", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	_, _ = w.Write(b)
}

// Page data.

// instView is one institution's sections on the dashboard.
type instView struct {
	Name     string
	Provider string
	Sections []secView
}

type secView struct {
	Type    string // service type URN
	Problem string // a problem.* key, "" when it answered
	Tables  []tableView
}

// tableView is a table of items of one type: its columns' keys and its
// rows' cells, already in the page's language.
type tableView struct {
	Caption string // an items.* key
	Cols    []string
	Rows    [][]cell
	More    string // the page with all of them, "" when they all show
}

type cell struct {
	Text  string
	Class string
	// Flag is the lab range's catalogue key, shown as text beside the
	// value (the mark is never colour alone).
	Flag string
}

func problemKey(p Problem) string {
	switch p {
	case Slow:
		return "problem.slow"
	case Down:
		return "problem.down"
	case Refused:
		return "problem.refused"
	}
	return ""
}

// dashboardLimit is how many of each item type the dashboard shows.
const dashboardLimit = 3

// morePage is the page listing all items of a type.
var morePage = map[string]string{"LabResult": "/labs", "Prescription": "/prescriptions", "Checkup": "/checkups",
	"Appointment": "/appointments", "Eligibility": "/eligibility", "Contribution": "/pension", "Summary": "/pension"}

func (h *HTTP) home(w http.ResponseWriter, r *http.Request, v *view) {
	if v.Citizen == nil {
		v.Title = "welcome.title"
		h.render(w, v, http.StatusOK, "welcome")
		return
	}
	ov, err := h.Portal.Records(r.Context(), v.Citizen)
	if err != nil {
		h.discoveryFailed(w, r, v, err)
		return
	}
	var insts []*instView
	byProv := map[string]*instView{}
	for _, s := range ov.Sections {
		iv := byProv[s.Provider]
		if iv == nil {
			iv = &instView{Name: s.Institution.In(v.Lang), Provider: s.Provider}
			byProv[s.Provider] = iv
			insts = append(insts, iv)
		}
		sv := secView{Type: s.ServiceType, Problem: problemKey(s.Problem)}
		for _, it := range s.Service.Items {
			items := s.Items[it.Name]
			if it.Name == "Slot" || (s.Problem != NoProblem) {
				continue
			}
			tv := h.table(v, s.Service, it.Name, items, dashboardLimit)
			if len(items) > dashboardLimit {
				tv.More = morePage[it.Name]
			}
			sv.Tables = append(sv.Tables, tv)
		}
		iv.Sections = append(iv.Sections, sv)
	}
	v.Title, v.Nav = "home.title", "nav.home"
	v.Data = struct {
		Insts   []*instView
		Fetched string
	}{insts, h.clock(v, ov.Fetched)}
	h.render(w, v, http.StatusOK, "home")
}

// table renders up to limit items (0: all) of one type.
func (h *HTTP) table(v *view, svc *dst.Service, itemType string, items []dst.Item, limit int) tableView {
	tv := tableView{Caption: "items." + itemType}
	t := svc.Item(itemType)
	if t == nil {
		return tv
	}
	if limit > 0 && len(items) > limit {
		items = items[:limit]
	}
	var fields []dst.Field
	for _, f := range t.Fields {
		if itemType == "LabResult" && (f.Name == "Code" || f.Name == "Low" || f.Name == "High") {
			continue // the range is one column of its own
		}
		if itemType == "Appointment" && f.Name == "Slot" {
			continue // the hospital's reference of the slot, not for reading
		}
		for _, it := range items {
			if it.Has(f.Name) {
				fields = append(fields, f)
				break
			}
		}
	}
	for _, f := range fields {
		tv.Cols = append(tv.Cols, "f."+itemType+"."+f.Name)
	}
	if itemType == "LabResult" {
		tv.Cols = append(tv.Cols, "labs.range")
	}
	for i := range items {
		it := &items[i]
		var row []cell
		for _, f := range fields {
			c := cell{Text: h.value(v, itemType, f, it.Get(f.Name))}
			if itemType == "LabResult" && f.Name == "Value" {
				switch LabRange(it) {
				case High:
					c.Class, c.Flag = "out", "labs.high"
				case Low:
					c.Class, c.Flag = "out", "labs.low"
				}
			}
			row = append(row, c)
		}
		if itemType == "LabResult" {
			rng := ""
			if it.Has("Low") || it.Has("High") {
				rng = it.Get("Low") + " – " + it.Get("High")
			}
			row = append(row, cell{Text: rng})
		}
		tv.Rows = append(tv.Rows, row)
	}
	return tv
}

// value renders a field's lexical value for the page: coded values and
// booleans in words, times in Japan's time, ratios as percentages.
func (h *HTTP) value(v *view, itemType string, f dst.Field, text string) string {
	if w, ok := v.W["v."+f.Name+"."+text]; ok && (f.Type == dst.Boolean || f.Name == "Kind" || f.Name == "Status") {
		return w
	}
	switch f.Type {
	case dst.DateTime:
		if t, err := time.Parse(time.RFC3339, text); err == nil {
			return h.clock(v, t)
		}
	case dst.Integer:
		if n, err := strconv.ParseInt(text, 10, 64); err == nil && (f.Name == "Amount" || f.Name == "ExpectedAnnual") {
			return groupDigits(n)
		}
	}
	if itemType == "Eligibility" && f.Name == "Copayment" {
		if r, err := strconv.ParseFloat(text, 64); err == nil {
			return strconv.FormatFloat(r*100, 'f', -1, 64) + "%"
		}
	}
	return text
}

var jst = time.FixedZone("JST", 9*3600)

// clock formats an instant in Japan's time.
func (h *HTTP) clock(_ *view, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(jst).Format("2006-01-02 15:04")
}

func groupDigits(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// listView is a page of one item type: per institution, its table or its
// problem.
type listView struct {
	Insts []listInst
}

type listInst struct {
	Name    string
	Problem string
	Table   tableView
}

func (h *HTTP) list(v *view, ov *Overview, serviceType, itemType string) listView {
	var lv listView
	for _, s := range ov.Sections {
		if s.ServiceType != serviceType {
			continue
		}
		li := listInst{Name: s.Institution.In(v.Lang), Problem: problemKey(s.Problem)}
		if s.Problem == NoProblem {
			li.Table = h.table(v, s.Service, itemType, s.Items[itemType], 0)
		}
		lv.Insts = append(lv.Insts, li)
	}
	return lv
}

func (h *HTTP) itemsPage(serviceType, itemType, title, nav string) func(http.ResponseWriter, *http.Request, *view) {
	return func(w http.ResponseWriter, r *http.Request, v *view) {
		if h.needLogin(w, r, v) {
			return
		}
		ov, err := h.Portal.Records(r.Context(), v.Citizen, serviceType)
		if err != nil {
			h.discoveryFailed(w, r, v, err)
			return
		}
		v.Title, v.Nav, v.Data = title, nav, h.list(v, ov, serviceType, itemType)
		h.render(w, v, http.StatusOK, "list")
	}
}

func (h *HTTP) pension(w http.ResponseWriter, r *http.Request, v *view) {
	if h.needLogin(w, r, v) {
		return
	}
	ov, err := h.Portal.Records(r.Context(), v.Citizen, dst.Pension)
	if err != nil {
		h.discoveryFailed(w, r, v, err)
		return
	}
	v.Title, v.Nav = "pension.title", "nav.pension"
	v.Data = struct{ Summary, History listView }{h.list(v, ov, dst.Pension, "Summary"), h.list(v, ov, dst.Pension, "Contribution")}
	h.render(w, v, http.StatusOK, "pension")
}

// labsView is the lab results page: the tables, the tests a trend can be
// drawn of, and the trend asked for.
type labsView struct {
	List     listView
	Tests    []testLink
	Trend    template.HTML
	TrendFor string
	Points   []pointView
}

type testLink struct {
	Code, Name string
	Current    bool
}

type pointView struct {
	When, Value, Unit, Range, Institution, Flag string
}

func (h *HTTP) labs(w http.ResponseWriter, r *http.Request, v *view) {
	if h.needLogin(w, r, v) {
		return
	}
	ov, err := h.Portal.Records(r.Context(), v.Citizen, dst.Clinical)
	if err != nil {
		h.discoveryFailed(w, r, v, err)
		return
	}
	lv := labsView{List: h.list(v, ov, dst.Clinical, "LabResult")}
	names := map[string]string{}
	for _, s := range ov.Sections {
		for i := range s.Items["LabResult"] {
			it := &s.Items["LabResult"][i]
			if LabRange(it) != Unranged && names[it.Get("Code")] == "" {
				names[it.Get("Code")] = it.Get("Name")
			}
		}
	}
	code := r.URL.Query().Get("code")
	for c, n := range names {
		lv.Tests = append(lv.Tests, testLink{Code: c, Name: n, Current: c == code})
	}
	sort.Slice(lv.Tests, func(i, j int) bool { return lv.Tests[i].Name < lv.Tests[j].Name })
	if names[code] != "" {
		tr := LabTrend(ov, code)
		lv.TrendFor = tr.Name
		title := tr.Name + v.W["labs.trend.of"]
		lv.Trend = template.HTML(tr.SVG(title, v.W["labs.trend.desc"])) // SVG escapes every text it writes
		for _, p := range tr.Points {
			pv := pointView{When: h.clock(v, p.When), Value: p.Text, Unit: p.Unit, Institution: p.Institution.In(v.Lang)}
			if p.HasLow || p.HasHigh {
				pv.Range = strconv.FormatFloat(p.Low, 'f', -1, 64) + " – " + strconv.FormatFloat(p.High, 'f', -1, 64)
			}
			switch p.Range {
			case High:
				pv.Flag = "labs.high"
			case Low:
				pv.Flag = "labs.low"
			}
			lv.Points = append(lv.Points, pv)
		}
	}
	v.Title, v.Nav, v.Data = "labs.title", "nav.labs", lv
	h.render(w, v, http.StatusOK, "labs")
}

// apptsView is the appointments page.
type apptsView struct {
	Mine  []apptInst
	Slots []slotInst
}

type apptInst struct {
	Name, Provider, Problem string
	Cols                    []string
	Rows                    []apptRow
}

type apptRow struct {
	ID    string
	Cells []cell
}

type slotInst struct {
	Name, Provider, Problem string
	Cols                    []string
	Rows                    []apptRow
}

// apptCols are the columns of both tables.
var apptCols = []string{"Department", "Doctor", "Start", "End"}

func (h *HTTP) appointments(w http.ResponseWriter, r *http.Request, v *view) {
	if h.needLogin(w, r, v) {
		return
	}
	ov, err := h.Portal.Records(r.Context(), v.Citizen, dst.Appointment)
	if err != nil {
		h.discoveryFailed(w, r, v, err)
		return
	}
	slots, err := h.Portal.OpenSlots(r.Context(), v.Citizen)
	if err != nil {
		h.discoveryFailed(w, r, v, err)
		return
	}
	svc := dst.Lookup(dst.Appointment)
	row := func(itemType string, it *dst.Item, extra ...string) apptRow {
		ar := apptRow{ID: it.ID}
		for _, f := range append(append([]string{}, apptCols...), extra...) {
			ar.Cells = append(ar.Cells, cell{Text: h.value(v, itemType, *svc.Item(itemType).Field(f), it.Get(f))})
		}
		return ar
	}
	var av apptsView
	for _, s := range ov.Sections {
		ai := apptInst{Name: s.Institution.In(v.Lang), Provider: s.Provider, Problem: problemKey(s.Problem)}
		for _, c := range apptCols {
			ai.Cols = append(ai.Cols, "f.Appointment."+c)
		}
		items := s.Items["Appointment"]
		for i := len(items) - 1; i >= 0; i-- { // soonest first
			ai.Rows = append(ai.Rows, row("Appointment", &items[i]))
		}
		av.Mine = append(av.Mine, ai)
	}
	for _, s := range slots {
		si := slotInst{Name: s.Institution.In(v.Lang), Provider: s.Provider, Problem: problemKey(s.Problem)}
		for _, c := range append(append([]string{}, apptCols...), "Remaining") {
			si.Cols = append(si.Cols, "f.Slot."+c)
		}
		for i := range s.Items {
			si.Rows = append(si.Rows, row("Slot", &s.Items[i], "Remaining"))
		}
		av.Slots = append(av.Slots, si)
	}
	v.Title, v.Nav, v.Data = "appts.title", "nav.appts", av
	h.render(w, v, http.StatusOK, "appointments")
}

// after redirects a POST to the page with a done or err key.
func after(w http.ResponseWriter, r *http.Request, page, param, key string) {
	http.Redirect(w, r, page+"?"+param+"="+url.QueryEscape(key), http.StatusSeeOther)
}

// errKey maps an engine error to the catalogue.
func errKey(err error) string {
	switch {
	case errors.Is(err, ErrSlotFull):
		return "err.slotfull"
	case errors.Is(err, ErrNotFound):
		return "err.notfound"
	case errors.Is(err, ErrNotEnrolled):
		return "err.notenrolled"
	}
	return "err.failed"
}

func (h *HTTP) book(w http.ResponseWriter, r *http.Request, v *view) {
	_, err := h.Portal.Book(r.Context(), v.Citizen, r.PostForm.Get("provider"), r.PostForm.Get("slot"))
	if err != nil {
		h.logf(r, err)
		after(w, r, "/appointments", "err", errKey(err))
		return
	}
	after(w, r, "/appointments", "done", "done.booked")
}

func (h *HTTP) cancel(w http.ResponseWriter, r *http.Request, v *view) {
	if err := h.Portal.Cancel(r.Context(), v.Citizen, r.PostForm.Get("provider"), r.PostForm.Get("id")); err != nil {
		h.logf(r, err)
		after(w, r, "/appointments", "err", errKey(err))
		return
	}
	after(w, r, "/appointments", "done", "done.cancelled")
}

func (h *HTTP) logf(r *http.Request, err error) {
	if h.Log != nil && err != nil {
		h.Log(r, err)
	}
}

// instsView is the linked institutions page.
type instsView struct {
	Insts []instRow
}

type instRow struct {
	Name, Provider string
	Types          []string // service types it offers
	Links          []linkRow
}

type linkRow struct {
	SvcMDID, Abstract string
	Types             []string
}

func (h *HTTP) institutions(w http.ResponseWriter, r *http.Request, v *view) {
	if h.needLogin(w, r, v) {
		return
	}
	ins, err := h.Portal.Institutions(r.Context(), v.Citizen)
	if err != nil {
		h.discoveryFailed(w, r, v, err)
		return
	}
	var iv instsView
	for _, in := range ins {
		row := instRow{Name: in.Name.In(v.Lang), Provider: in.Provider, Types: in.ServiceTypes}
		for _, l := range in.Links {
			var types []string
			for _, t := range l.ServiceTypes {
				if t != audit.NS {
					types = append(types, t)
				}
			}
			row.Links = append(row.Links, linkRow{SvcMDID: l.SvcMDID, Abstract: l.Abstract, Types: types})
		}
		iv.Insts = append(iv.Insts, row)
	}
	v.Title, v.Nav, v.Data = "links.title", "nav.links", iv
	h.render(w, v, http.StatusOK, "institutions")
}

func (h *HTTP) withdraw(w http.ResponseWriter, r *http.Request, v *view) {
	if err := h.Portal.Withdraw(r.Context(), v.Citizen, r.PostForm.Get("svcmd")); err != nil {
		h.logf(r, err)
		after(w, r, "/institutions", "err", errKey(err))
		return
	}
	after(w, r, "/institutions", "done", "done.withdrawn")
}

// link starts a consent: the DS's consent page, with the ReturnToURL that
// brings the citizen back to linkReturn.
func (h *HTTP) link(w http.ResponseWriter, r *http.Request, v *view) {
	provider := r.PostForm.Get("provider")
	types := h.Portal.Offered(provider)
	if len(types) == 0 {
		after(w, r, "/institutions", "err", "err.notfound")
		return
	}
	pd, err := h.Portal.StartLink(r.Context(), v.Citizen, provider, types)
	switch {
	case err != nil:
		h.logf(r, err)
		after(w, r, "/institutions", "err", errKey(err))
		return
	case pd == nil:
		after(w, r, "/institutions", "done", "done.linked")
		return
	}
	back := strings.TrimSuffix(h.BaseURL, "/") + "/institutions/return?p=" + v.Citizen.Hold(pd)
	sep := "&"
	if !strings.Contains(pd.URL, "?") {
		sep = "?"
	}
	http.Redirect(w, r, pd.URL+sep+"ReturnToURL="+url.QueryEscape(back), http.StatusSeeOther)
}

// linkReturn is where the DS's consent page sends the citizen back
// (IDWSF2 §2.6: ResendMessage).
func (h *HTTP) linkReturn(w http.ResponseWriter, r *http.Request, v *view) {
	if h.needLogin(w, r, v) {
		return
	}
	q := r.URL.Query()
	pd := v.Citizen.Take(q.Get("p"))
	if pd == nil {
		after(w, r, "/institutions", "err", "err.notfound")
		return
	}
	if q.Get("ResendMessage") != "1" && q.Get("ResendMessage") != "true" {
		after(w, r, "/institutions", "done", "done.refused")
		return
	}
	if err := h.Portal.FinishLink(r.Context(), v.Citizen, pd); err != nil {
		h.logf(r, err)
		after(w, r, "/institutions", "err", errKey(err))
		return
	}
	after(w, r, "/institutions", "done", "done.linked")
}

// accessView is the access log page.
type accessView struct {
	Problems []string // "name: problem" lines
	Rows     []accessRow
}

type accessRow struct {
	When, Source, Actor, Action, Service, Purpose, Basis, Status string
}

func (h *HTTP) access(w http.ResponseWriter, r *http.Request, v *view) {
	if h.needLogin(w, r, v) {
		return
	}
	log, err := h.Portal.AccessLog(r.Context(), v.Citizen)
	if err != nil {
		h.discoveryFailed(w, r, v, err)
		return
	}
	word := func(prefix, code string) string {
		if w, ok := v.W[prefix+code]; ok {
			return w
		}
		return code
	}
	var av accessView
	for _, s := range log.Sources {
		if k := problemKey(s.Problem); k != "" {
			av.Problems = append(av.Problems, s.Name.In(v.Lang)+": "+v.W[k])
		}
	}
	for _, e := range log.Events {
		actor := e.Actor
		if actor != "" {
			actor = h.Portal.sourceName(actor).In(v.Lang)
		}
		av.Rows = append(av.Rows, accessRow{When: h.clock(v, e.Time), Source: e.SourceName.In(v.Lang), Actor: actor,
			Action: word("v.action.", e.Action), Service: word("svc.", e.ServiceType), Purpose: word("v.purpose.", e.Purpose),
			Basis: word("v.basis.", e.Basis), Status: e.Status})
	}
	v.Title, v.Nav, v.Data = "access.title", "nav.access", av
	h.render(w, v, http.StatusOK, "access")
}
