package terminal

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/language"

	"github.com/renkei-idwsf/renkei/card/piv"
	"github.com/renkei-idwsf/renkei/internal/httpx"
	"github.com/renkei-idwsf/renkei/wsc"
	"github.com/renkei-idwsf/renkei/wsf/dst"
)

// The staff page of the reception terminal (HTTP adapter of the Desk),
// served on loopback to the browser of the desk:
//
//	GET  /            the screen of the desk, by phase
//	GET  /wait?v=N    204 as soon as the screen's version is not N (25 s at most)
//	POST /pin         pin      (token): the PIN to the card waiting for it
//	POST /enrol       number   (token): links this hospital's patient number
//	GET  /desk.js     the page's script: waits on /wait and shows the new screen
//	GET  /style.css
//
// Every page works by keyboard and without script (but for updating
// itself); every response is no-store (the page shows patient data) and
// carries a CSP of the origin alone, so the script is a file of its own.
// The language is ?lang=ja|en, else the browser's Accept-Language, else
// Japanese; the forms carry it across their redirect.

// maxStaffForm bounds a POST body: a token, a language and a number.
const maxStaffForm = 4 << 10

// maxStaffWait bounds a GET /wait.
const maxStaffWait = 25 * time.Second

// staffCSP: the origin alone (the script, the stylesheet, /wait), no
// framing, no base, forms to the origin only.
const staffCSP = "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

//go:embed pages/desk.html pages/style.css pages/desk.js
var staffFiles embed.FS

// Staff serves the reception terminal's staff page over Desk. Mount its
// Handler on a loopback listener only: the page shows the patient at the
// desk to whoever reaches it.
type Staff struct {
	Desk *Desk
	// Log, when set, receives the private cause of every failure (never
	// a PIN).
	Log func(*http.Request, error)
	// Hosts are the Host names the page answers to besides loopback
	// addresses and "localhost". Any other name gets 421: through a name
	// of its own pointed at loopback (DNS rebinding), another site's page
	// could otherwise read this one.
	Hosts []string

	pages *template.Template
	token string
	wait  time.Duration
}

// Handler returns the staff page's handler, every response with the
// security headers of every Renkei page and the page's CSP. Its forms
// carry a token of this Staff, made once.
func (s *Staff) Handler() (http.Handler, error) {
	if s.Desk == nil {
		return nil, errors.New("terminal: Staff needs the Desk")
	}
	if s.token == "" {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return nil, err
		}
		s.token = base64.RawURLEncoding.EncodeToString(b)
	}
	if s.wait == 0 {
		s.wait = maxStaffWait
	}
	t, err := template.New("desk").ParseFS(staffFiles, "pages/desk.html")
	if err != nil {
		return nil, err
	}
	s.pages = t
	m := http.NewServeMux()
	m.HandleFunc("GET /{$}", s.page)
	m.HandleFunc("GET /wait", s.waitChange)
	m.HandleFunc("POST /pin", s.post(s.pin))
	m.HandleFunc("POST /enrol", s.post(s.enrol))
	m.HandleFunc("GET /style.css", staffAsset("pages/style.css", "text/css; charset=utf-8"))
	m.HandleFunc("GET /desk.js", staffAsset("pages/desk.js", "text/javascript; charset=utf-8"))
	return httpx.Secure(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", staffCSP)
		if _, pattern := m.Handler(r); pattern != "" {
			httpx.SetRoute(r, pattern) // the route template, for the role's metrics and request log
		}
		if !s.hostAllowed(r.Host) {
			s.logf(r, fmt.Errorf("terminal: staff page asked under host %q", r.Host))
			http.Error(w, Words(staffLang(r))["host"], http.StatusMisdirectedRequest)
			return
		}
		m.ServeHTTP(w, r)
	})), nil
}

// hostAllowed reports whether host (with or without port) is loopback,
// "localhost" or one of Hosts.
func (s *Staff) hostAllowed(host string) bool {
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	if strings.EqualFold(h, "localhost") {
		return true
	}
	if ip := net.ParseIP(h); ip != nil && ip.IsLoopback() {
		return true
	}
	for _, a := range s.Hosts {
		if strings.EqualFold(a, h) || strings.EqualFold(a, host) {
			return true
		}
	}
	return false
}

func (s *Staff) logf(r *http.Request, err error) {
	if s.Log != nil && err != nil {
		s.Log(r, err)
	}
}

func staffAsset(name, typ string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		b, err := staffFiles.ReadFile(name)
		if err != nil {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", typ)
		_, _ = w.Write(b)
	}
}

var staffMatcher = language.NewMatcher([]language.Tag{language.Japanese, language.English})

// staffLang picks the language: ?lang=, Accept-Language, Japanese.
func staffLang(r *http.Request) string {
	if l := r.URL.Query().Get("lang"); l == "ja" || l == "en" {
		return l
	}
	tags, _, _ := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	if len(tags) == 0 {
		return "ja"
	}
	tag, _, conf := staffMatcher.Match(tags...)
	if conf == language.No {
		return "ja"
	}
	if base, _ := tag.Base(); base.String() == "en" {
		return "en"
	}
	return "ja"
}

// staffFlashKeys are the outcomes of a form the page shows once (?e=).
var staffFlashKeys = []string{"form.pin", "form.number", "form.nopatient"}

// page renders the screen of the desk.
func (s *Staff) page(w http.ResponseWriter, r *http.Request) {
	lang := staffLang(r)
	v := newDeskView(s.Desk.Screen(), lang, s.token)
	if e := r.URL.Query().Get("e"); e != "" {
		for _, k := range staffFlashKeys {
			if e == k {
				v.Flash = k
			}
		}
	}
	var b strings.Builder
	if err := s.pages.ExecuteTemplate(&b, "desk", v); err != nil {
		s.logf(r, fmt.Errorf("terminal: staff page: %w", err))
		http.Error(w, Words(lang)["error"], http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Language", lang)
	h.Set("Vary", "Accept-Language")
	_, _ = w.Write([]byte(b.String()))
}

// waitChange answers 204 as soon as the screen's version is not ?v=, or
// after maxStaffWait anyway, with the screen's version, phase and visit in
// X-Desk-Version, X-Desk-Phase and X-Desk-Visit: the script shows the new
// screen, or keeps what is being typed when the phase did not change.
func (s *Staff) waitChange(w http.ResponseWriter, r *http.Request) {
	v, err := strconv.ParseUint(r.URL.Query().Get("v"), 10, 64)
	known := err == nil
	ctx, cancel := context.WithTimeout(r.Context(), s.wait)
	defer cancel()
	var sc Screen
	for {
		changed := s.Desk.Changed()
		sc = s.Desk.Screen()
		if !known || sc.Version != v {
			break
		}
		select {
		case <-changed:
			continue
		case <-ctx.Done():
		}
		sc = s.Desk.Screen()
		break
	}
	h := w.Header()
	h.Set("X-Desk-Version", strconv.FormatUint(sc.Version, 10))
	h.Set("X-Desk-Phase", phaseName(sc.Phase))
	h.Set("X-Desk-Visit", strconv.FormatUint(sc.Visit, 10))
	w.WriteHeader(http.StatusNoContent)
}

// post checks a form for f: a bounded body, the request's own origin and
// this Staff's token. f returns a flash key, or ""; the browser goes back
// to the page in the form's language.
func (s *Staff) post(f func(*http.Request) string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		lang := staffLang(r)
		r.Body = http.MaxBytesReader(w, r.Body, maxStaffForm)
		if err := r.ParseForm(); err != nil {
			s.logf(r, fmt.Errorf("terminal: staff form: %w", err))
			if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
				http.Error(w, Words(lang)["toolarge"], http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, Words(lang)["badrequest"], http.StatusBadRequest)
			return
		}
		if l := r.PostForm.Get("lang"); l == "ja" || l == "en" {
			lang = l
		}
		if err := staffSameOrigin(r); err != nil {
			s.logf(r, err)
			http.Error(w, Words(lang)["forbidden"], http.StatusForbidden)
			return
		}
		if subtle.ConstantTimeCompare([]byte(r.PostForm.Get("csrf")), []byte(s.token)) != 1 {
			s.logf(r, errors.New("terminal: staff form without the page's token"))
			http.Error(w, Words(lang)["forbidden"], http.StatusForbidden)
			return
		}
		q := url.Values{"lang": {lang}}
		if k := f(r); k != "" {
			q.Set("e", k)
		}
		http.Redirect(w, r, "/?"+q.Encode(), http.StatusSeeOther)
	}
}

// staffSameOrigin refuses a request the browser says comes from another
// site (Sec-Fetch-Site, which pages cannot set), or, from a browser that
// does not send it, whose Origin is not the request's own. Under the
// page's Referrer-Policy no-referrer, Chromium sends Origin "null" even
// for the page's own form, so Sec-Fetch-Site decides when present.
func staffSameOrigin(r *http.Request) error {
	if f := r.Header.Get("Sec-Fetch-Site"); f != "" {
		if f != "same-origin" && f != "none" {
			return fmt.Errorf("terminal: staff form from a %s request", f)
		}
		return nil
	}
	if o := r.Header.Get("Origin"); o != "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		if o != scheme+"://"+r.Host {
			return fmt.Errorf("terminal: staff form from origin %q", o)
		}
	}
	return nil
}

// pin hands the PIN to the card waiting for it. A PIN the card cannot
// take (piv.EncodePIN) is asked again here rather than stopping the visit.
func (s *Staff) pin(r *http.Request) string {
	pin := r.PostForm.Get("pin")
	if s.Desk.Screen().Phase != NeedPIN {
		return "form.nopatient"
	}
	if _, err := piv.EncodePIN(pin); err != nil {
		return "form.pin"
	}
	visit, err1 := strconv.ParseUint(r.PostForm.Get("visit"), 10, 64)
	version, err2 := strconv.ParseUint(r.PostForm.Get("version"), 10, 64)
	if err1 != nil || err2 != nil {
		return "form.nopatient"
	}
	if err := s.Desk.SubmitPIN(r.Context(), visit, version, pin); err != nil {
		s.logf(r, fmt.Errorf("terminal: PIN: %w", err))
		return "form.nopatient"
	}
	return ""
}

// enrol links the number to the patient at the desk; the desk shows the
// outcome. The enrolment is not cut short when the browser goes away: it
// is bounded by the desk.
func (s *Staff) enrol(r *http.Request) string {
	number := strings.TrimSpace(r.PostForm.Get("number"))
	if !validNumber(number) {
		return "form.number"
	}
	err := s.Desk.Enrol(context.WithoutCancel(r.Context()), number)
	if err != nil {
		s.logf(r, fmt.Errorf("terminal: enrolment: %w", err))
	}
	if errors.Is(err, ErrNoPatient) {
		return "form.nopatient"
	}
	return ""
}

// validNumber reports whether n is a patient number the page takes: 1 to
// 32 characters of [0-9A-Za-z-].
func validNumber(n string) bool {
	if n == "" || len(n) > 32 {
		return false
	}
	for _, c := range []byte(n) {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-') {
			return false
		}
	}
	return true
}

// phaseName is the phase's name on the page (data-phase) and in
// X-Desk-Phase.
func phaseName(p Phase) string {
	switch p {
	case Idle:
		return "idle"
	case NeedPIN:
		return "pin"
	case Working:
		return "working"
	case Ready:
		return "ready"
	case Stopped:
		return "stopped"
	}
	return "unknown"
}

// Page data.

// deskView is what desk.html reads: only what the phase shows, so that
// nothing of a patient reaches the page of another phase.
type deskView struct {
	Lang, Other string
	words       map[string]string
	Phase       string
	Version     uint64
	Visit       uint64
	Token       string
	Flash       string // a form.* key

	// NeedPIN and Stopped.
	Message, Detail string
	Tries           string

	// Ready.
	Elig           *eligView
	EligMessage    string
	Records        []recordsInst
	RecordsPending bool
	RecordsMessage string
	Enrolled       string
	EnrolMessage   string
	EnrolDetail    string
}

type eligView struct {
	Coverages []coverView
	Missing   []missingView
}

type coverView struct {
	Insured, Valid                              bool
	Insurer, Source                             string
	InsurerNumber, Kind, Symbol, Number, Branch string
	Copayment, ValidFrom, ValidUntil            string
}

type missingView struct{ Name, Problem string }

// recordsInst is one other hospital's records.
type recordsInst struct {
	Name    string
	Problem string // a problem.* key, "" when it answered
	Labs    []labLine
	Rx      []rxLine
}

type labLine struct{ Date, Name, Value, Unit, Range, Flag string }

type rxLine struct{ Date, Drug, Dose, Usage, Days string }

// T returns the page's word of key, an error when the catalogue misses it.
func (v *deskView) T(key string) (string, error) {
	if s, ok := v.words[key]; ok {
		return s, nil
	}
	return "", fmt.Errorf("terminal: no word %q", key)
}

// Say returns the words of a desk's message key; an unknown key (a newer
// desk) says "internal" rather than failing the page.
func (v *deskView) Say(key string) string {
	if s, ok := v.words[key]; ok {
		return s
	}
	return v.words["internal"]
}

func newDeskView(sc Screen, lang, token string) *deskView {
	other := "en"
	if lang == "en" {
		other = "ja"
	}
	v := &deskView{Lang: lang, Other: other, words: Words(lang), Phase: phaseName(sc.Phase), Version: sc.Version,
		Visit: sc.Visit, Token: token}
	switch sc.Phase {
	case NeedPIN:
		v.Message = sc.Message
		if sc.Message != "" && sc.TriesLeft >= 0 {
			v.Tries = fmt.Sprintf(v.words["pin.tries"], sc.TriesLeft)
		}
	case Stopped:
		v.Message, v.Detail = sc.Message, sc.Detail
		if v.Message == "" {
			v.Message = "internal"
		}
	case Ready:
		v.Elig = eligibilityView(sc.Eligibility, lang)
		v.EligMessage = sc.EligibilityMessage
		if v.Elig == nil && v.EligMessage == "" {
			v.Elig = &eligView{}
		}
		v.RecordsPending, v.RecordsMessage = sc.RecordsPending, sc.RecordsMessage
		if !sc.RecordsPending {
			for _, sec := range sc.Records {
				v.Records = append(v.Records, recordsView(sec, lang))
			}
		}
		v.Enrolled, v.EnrolMessage, v.EnrolDetail = sc.Enrolled, sc.EnrolMessage, sc.EnrolDetail
	}
	return v
}

func eligibilityView(el *Eligibility, lang string) *eligView {
	if el == nil {
		return nil
	}
	out := &eligView{}
	for _, c := range el.Coverages {
		src := shownName(c.Institution, c.Provider, lang)
		ins := c.InsurerName
		if ins == "" {
			ins = src
		}
		out.Coverages = append(out.Coverages, coverView{Insured: c.Insured, Valid: c.Valid, Insurer: ins, Source: src,
			InsurerNumber: c.InsurerNumber, Kind: c.Kind, Symbol: c.Symbol, Number: c.Number, Branch: c.Branch,
			Copayment: copayPercent(c.Copayment), ValidFrom: c.ValidFrom, ValidUntil: c.ValidUntil})
	}
	for _, s := range el.Missing {
		out.Missing = append(out.Missing, missingView{Name: shownName(s.Institution, s.Provider, lang), Problem: problemWords(s.Problem)})
	}
	return out
}

func recordsView(s *Section, lang string) recordsInst {
	iv := recordsInst{Name: shownName(s.Institution, s.Provider, lang), Problem: problemWords(s.Problem)}
	if iv.Problem != "" {
		return iv
	}
	for _, it := range s.Items["LabResult"] {
		iv.Labs = append(iv.Labs, labLine{Date: dayOf(it.Get("Date")), Name: it.Get("Name"), Value: it.Get("Value"),
			Unit: it.Get("Unit"), Range: refRange(it.Get("Low"), it.Get("High")), Flag: labFlag(&it)})
	}
	for _, it := range s.Items["Prescription"] {
		iv.Rx = append(iv.Rx, rxLine{Date: dayOf(it.Get("Date")), Drug: it.Get("Drug"), Dose: it.Get("Dose"),
			Usage: it.Get("Usage"), Days: it.Get("Days")})
	}
	return iv
}

func shownName(n Name, provider, lang string) string {
	if s := n.In(lang); s != "" {
		return s
	}
	return provider
}

// problemWords is the words of a section's problem, "" for none.
func problemWords(p Problem) string {
	switch p {
	case wsc.NoProblem:
		return ""
	case wsc.Slow:
		return "problem.slow"
	case wsc.Refused:
		return "problem.refused"
	}
	return "problem.down"
}

// copayPercent shows a copayment ratio ("0.3") as a percentage ("30%"); a
// value that is not a ratio shows as given.
func copayPercent(ratio string) string {
	f, err := strconv.ParseFloat(strings.TrimSpace(ratio), 64)
	if err != nil || f < 0 || f > 1 {
		return ratio
	}
	return strconv.FormatFloat(math.Round(f*1000)/10, 'f', -1, 64) + "%"
}

// dayOf is the date of an xs:date or xs:dateTime.
func dayOf(s string) string {
	if i := strings.IndexByte(s, 'T'); i >= 0 {
		return s[:i]
	}
	return s
}

// refRange shows a reference range.
func refRange(low, high string) string {
	switch {
	case low != "" && high != "":
		return low + "–" + high
	case low != "":
		return "≥ " + low
	case high != "":
		return "≤ " + high
	}
	return ""
}

// labFlag is the words of a numeric result outside its range, "" inside
// or when not numeric.
func labFlag(it *dst.Item) string {
	v, err := strconv.ParseFloat(it.Get("Value"), 64)
	if err != nil {
		return ""
	}
	if lo, err := strconv.ParseFloat(it.Get("Low"), 64); err == nil && v < lo {
		return "labs.low"
	}
	if hi, err := strconv.ParseFloat(it.Get("High"), 64); err == nil && v > hi {
		return "labs.high"
	}
	return ""
}
