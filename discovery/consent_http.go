package discovery

import (
	"embed"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"github.com/renkei-idwsf/renkei/internal/httpx"
)

// The consent page's HTTP adapter (ARCHITECTURE "Consent", IDWSF2 §2.6):
//
//	GET  /consent?tx=T&ReturnToURL=U[&lang=ja|en]  OpenConsent, the page
//	POST /consent  form=F&answer=allow|refuse       DecideConsent, 303 to U
//	POST /consent  form=F&lang=ja|en                ReopenConsent, the page again
//
// The link the WSC redirected the browser to works once; the page's forms
// carry the one-time form handle, which is also what makes them safe from
// cross-site posts: nobody but the browser that opened the link knows it.
// Switching language posts the handle and renders the page under a new
// one, so nothing one-time is spent on it. transactionID, which the WSC
// receiver appends for its own re-send, is ignored.

// DefaultConsentPath is where Mount serves the consent page.
const DefaultConsentPath = "/consent"

// maxConsentForm bounds the body of a POST: a handle and two words.
const maxConsentForm = 4 << 10

//go:embed consent_page/page.html consent_page/style.css
var consentFiles embed.FS

var consentPages = template.Must(template.ParseFS(consentFiles, "consent_page/page.html"))

// ConsentHTTP serves the consent page of DS.
type ConsentHTTP struct {
	DS *DS
	// Path is the page's path; "" is DefaultConsentPath. The stylesheet
	// is Path + "/style.css".
	Path string
	// Log, when set, receives the private cause of every refusal.
	Log func(r *http.Request, err error)
}

// Mount adds the page and its stylesheet to r, with the security headers
// of every Renkei page (httpx.Secure).
func (h *ConsentHTTP) Mount(r *mux.Router) {
	r.Handle(h.path(), httpx.Secure(http.HandlerFunc(h.page))).Methods(http.MethodGet, http.MethodHead, http.MethodPost)
	r.Handle(h.path()+"/style.css", httpx.Secure(http.HandlerFunc(h.style))).Methods(http.MethodGet, http.MethodHead)
}

func (h *ConsentHTTP) path() string {
	if h.Path == "" {
		return DefaultConsentPath
	}
	return h.Path
}

func (h *ConsentHTTP) page(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		h.post(w, r)
		return
	}
	lang := chooseLang(r.URL.Query().Get("lang"), r.Header.Get("Accept-Language"))
	q := r.URL.Query()
	tx, returnTo := q.Get("tx"), q.Get("ReturnToURL")
	if tx == "" || returnTo == "" {
		h.fail(w, r, lang, errConsentIncomplete)
		return
	}
	p, err := h.DS.OpenConsent(r.Context(), tx, returnTo)
	if err != nil {
		h.fail(w, r, lang, err)
		return
	}
	h.render(w, lang, p)
}

// post takes the form: an answer decides and sends the browser back to
// the WSC; a language alone shows the page again under a new handle.
func (h *ConsentHTTP) post(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxConsentForm)
	lang := chooseLang(r.URL.Query().Get("lang"), r.Header.Get("Accept-Language"))
	if err := r.ParseForm(); err != nil {
		h.fail(w, r, lang, errConsentIncomplete)
		return
	}
	lang = chooseLang(r.PostForm.Get("lang"), r.Header.Get("Accept-Language"))
	form, answer := r.PostForm.Get("form"), r.PostForm.Get("answer")
	switch {
	case form == "":
		h.fail(w, r, lang, errConsentIncomplete)
	case answer == "allow" || answer == "refuse":
		to, err := h.DS.DecideConsent(r.Context(), form, answer == "allow")
		if err != nil {
			h.fail(w, r, lang, err)
			return
		}
		http.Redirect(w, r, to, http.StatusSeeOther)
	case answer == "" && r.PostForm.Get("lang") != "":
		p, err := h.DS.ReopenConsent(r.Context(), form)
		if err != nil {
			h.fail(w, r, lang, err)
			return
		}
		h.render(w, lang, p)
	default:
		h.fail(w, r, lang, errConsentIncomplete)
	}
}

func (h *ConsentHTTP) style(w http.ResponseWriter, _ *http.Request) {
	b, err := consentFiles.ReadFile("consent_page/style.css")
	if err != nil {
		http.Error(w, "no stylesheet", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	_, _ = w.Write(b)
}

// consentView is what the page template reads.
type consentView struct {
	Lang, Title, Path, Form string
	T                       *consentWords
	WSC                     string
	Purpose, PurposeURI     string
	Services                []serviceView
	Advice                  string
}

type serviceView struct {
	Abstract, Provider string
	Types              []typeView
}

type typeView struct{ Type, TypeURI string }

func (h *ConsentHTTP) render(w http.ResponseWriter, lang string, p *ConsentPrompt) {
	t := consentText[lang]
	v := consentView{Lang: lang, Title: t.Heading, Path: h.path(), Form: p.Form, T: t, WSC: p.WSC}
	v.Purpose, v.PurposeURI = t.words(t.Purposes, p.Purpose, t.NoPurpose)
	for _, s := range p.Services {
		sv := serviceView{Abstract: s.Abstract, Provider: s.ProviderID}
		for _, st := range s.ServiceTypes {
			var tv typeView
			tv.Type, tv.TypeURI = t.words(t.ServiceTypes, st, st)
			sv.Types = append(sv.Types, tv)
		}
		if sv.Abstract == "" && len(sv.Types) > 0 {
			sv.Abstract = sv.Types[0].Type
		}
		v.Services = append(v.Services, sv)
	}
	w.Header().Set("Content-Security-Policy", consentCSP(p.WSC))
	h.write(w, http.StatusOK, "consent", &v)
}

// consentCSP is the page's policy: nothing but its own stylesheet, no
// script, no framing; its forms post to itself, and the answer's redirect
// goes to the WSC's origin (ReturnToURL is on its host, checkReturnTo).
func consentCSP(wsc string) string {
	actions := "'self'"
	if u, err := url.Parse(wsc); err == nil && u.Scheme == "https" && plainHost(u.Host) {
		actions += " https://" + u.Host
	}
	return "default-src 'none'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action " + actions
}

// plainHost reports whether host is a host[:port] that a CSP source may
// quote as it is.
func plainHost(host string) bool {
	if host == "" {
		return false
	}
	for _, c := range host {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune(".-:[]", c)) {
			return false
		}
	}
	return true
}

// errConsentIncomplete: the request lacks the link's transaction, the
// ReturnToURL, the form handle or the answer.
var errConsentIncomplete = errors.New("discovery: consent request incomplete")

// fail renders the error page for err: the public text only, and never a
// redirect.
func (h *ConsentHTTP) fail(w http.ResponseWriter, r *http.Request, lang string, err error) {
	if h.Log != nil {
		h.Log(r, err)
	}
	t := consentText[lang]
	v := consentView{Lang: lang, Path: h.path(), T: t}
	status := http.StatusInternalServerError
	switch {
	case errors.Is(err, ErrConsentUnknown):
		status, v.Title, v.Advice = http.StatusGone, t.UsedTitle, t.UsedAdvice
	case errors.Is(err, ErrReturnTo):
		status, v.Title, v.Advice = http.StatusBadRequest, t.ReturnToTitle, t.ReturnToAdvice
	case errors.Is(err, errConsentIncomplete):
		status, v.Title, v.Advice = http.StatusBadRequest, t.IncompleteTitle, t.IncompleteAdvice
	default:
		v.Title, v.Advice = t.InternalTitle, t.InternalAdvice
	}
	h.write(w, status, "error", &v)
}

func (h *ConsentHTTP) write(w http.ResponseWriter, status int, name string, v *consentView) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Language", v.Lang)
	w.Header().Set("Vary", "Accept-Language")
	w.WriteHeader(status)
	_ = consentPages.ExecuteTemplate(w, name, v)
}

// chooseLang returns the page's language: the lang parameter when it
// names one of the page's languages, else the first of ja and en in the
// browser's Accept-Language preferences, else en.
func chooseLang(param, acceptLanguage string) string {
	if consentText[param] != nil {
		return param
	}
	type pref struct {
		lang string
		q    float64
	}
	var prefs []pref
	for _, part := range strings.Split(acceptLanguage, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				continue
			}
			q = f
		}
		primary, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
		if consentText[primary] != nil && q > 0 {
			prefs = append(prefs, pref{primary, q})
		}
	}
	sort.SliceStable(prefs, func(i, j int) bool { return prefs[i].q > prefs[j].q })
	if len(prefs) > 0 {
		return prefs[0].lang
	}
	return "en"
}
