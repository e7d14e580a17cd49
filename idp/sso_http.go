package idp

import (
	"errors"
	"html/template"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"sync"
	"time"

	"github.com/gorilla/mux"

	"github.com/renkei-idwsf/renkei/internal/httpx"
	"github.com/renkei-idwsf/renkei/saml/binding"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// Paths of the IdP's HTTP surface.
const (
	PathMetadata = "/metadata"
	PathSSO      = "/sso"
	PathSSOInit  = "/sso/init"
	PathLogin    = "/login"
	PathECP      = "/ecp"
	PathPostJS   = "/post.js"
)

// DefaultCookieName names the IdP session cookie.
const DefaultCookieName = "renkei_idp"

// DefaultMaxBody bounds every request body: a POSTed AuthnRequest or a SOAP
// envelope is a few kilobytes.
const DefaultMaxBody = 64 << 10

// HTTP is the IdP's HTTP adapter over the SSO engine: the only code that
// touches http.ResponseWriter. MountMain serves the main HTTPS listener,
// which requests no client certificate; MountCard the card-login listener
// (CardLoginTLSConfig).
type HTTP struct {
	SSO *SSO
	// SLO, when set, adds the Single Logout endpoints (slo_http.go).
	SLO *SLO
	// CookieName and CookieDomain place the session cookie; the domain
	// must cover both listeners' hosts ("" is host-only: one host, two
	// ports, as cookies ignore ports).
	CookieName   string
	CookieDomain string
	// MaxBody bounds request bodies; 0 means DefaultMaxBody.
	MaxBody int
	// Log, when set, receives the private cause of every refusal.
	Log func(r *http.Request, err error)
	// Limits bound the AuthnRequests that arrive without a session, per
	// client and overall; the zero value takes the defaults. Set it
	// before the first request.
	Limits AuthnLimits

	md      signedMetadata
	limOnce sync.Once
	lim     *authnLimiter
}

// signedMetadata is the served metadata, signed once and served until it
// is a twentieth of its cacheDuration old (three minutes by default), so
// that GET /metadata does not cost a private-key signature per request.
type signedMetadata struct {
	mu     sync.Mutex
	b      []byte
	signed time.Time
}

func (m *signedMetadata) get(s *SSO, now time.Time) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.b != nil && now.Sub(m.signed) < s.cfg.MetadataCache/20 && !now.Before(m.signed) {
		return m.b, nil
	}
	el, err := s.SignedMetadata(now)
	if err != nil {
		return nil, err
	}
	b, err := xmlsec.Serialize(el)
	if err != nil {
		return nil, err
	}
	m.b, m.signed = b, now
	return b, nil
}

// MountMain adds GET /metadata, GET and POST /sso, GET /sso/init, the
// Single Logout endpoints when h.SLO is set (slo_http.go) and the
// form script to r.
func (h *HTTP) MountMain(r *mux.Router) {
	r.HandleFunc(PathMetadata, h.metadata).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc(PathSSO, h.ssoRedirect).Methods(http.MethodGet)
	r.HandleFunc(PathSSO, h.ssoPOST).Methods(http.MethodPost)
	r.HandleFunc(PathSSOInit, h.ssoInit).Methods(http.MethodGet)
	r.HandleFunc(PathPostJS, postJS).Methods(http.MethodGet)
	h.mountSLO(r)
	h.MountNIM(r)
	h.MountQueries(r)
}

// MountCard adds GET /login, POST /ecp, the ArtifactResolutionService
// when it is configured (artifact_http.go) and the form script to r.
func (h *HTTP) MountCard(r *mux.Router) {
	r.Handle(PathLogin, CardLogin{IdP: h.SSO.p, OnSuccess: h.loggedIn, Log: h.Log}).Methods(http.MethodGet)
	r.HandleFunc(PathECP, h.ecp).Methods(http.MethodPost)
	h.mountArtifact(r)
	r.HandleFunc(PathPostJS, postJS).Methods(http.MethodGet)
}

func postJS(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	_, _ = w.Write([]byte(binding.AutoSubmitScript))
}

func (h *HTTP) metadata(w http.ResponseWriter, r *http.Request) {
	b, err := h.md.get(h.SSO, h.SSO.p.Now())
	if err != nil {
		h.page(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/samlmetadata+xml")
	_, _ = w.Write(b)
}

func (h *HTTP) maxBody() int {
	if h.MaxBody > 0 {
		return h.MaxBody
	}
	return DefaultMaxBody
}

// ssoRedirect receives the HTTP-Redirect binding (SAML Bindings §3.4).
func (h *HTTP) ssoRedirect(w http.ResponseWriter, r *http.Request) {
	now := h.SSO.p.Now()
	m, err := (&binding.RedirectDecoder{}).Decode(r.URL.RawQuery)
	if err != nil {
		h.page(w, r, bindingError(err, false))
		return
	}
	h.serve(w, r, Inbound{Binding: samlp.BindingHTTPRedirect, Redirect: m, RelayState: m.RelayState}, now)
}

// ssoPOST receives the HTTP-POST binding (SAML Bindings §3.5).
func (h *HTTP) ssoPOST(w http.ResponseWriter, r *http.Request) {
	now := h.SSO.p.Now()
	r.Body = http.MaxBytesReader(w, r.Body, int64(h.maxBody())+1)
	m, err := (&binding.POSTDecoder{MaxBody: h.maxBody()}).DecodeRequest(r)
	if err != nil {
		h.page(w, r, bindingError(err, true))
		return
	}
	if m.Param != binding.ParamRequest {
		h.page(w, r, Errorf(CodeInvalidRequest, "%s at the SSO endpoint", m.Param))
		return
	}
	h.serve(w, r, Inbound{Binding: samlp.BindingHTTPPOST, Element: m.Element, RelayState: m.RelayState}, now)
}

// bindingError types a binding failure: an oversized body is 413; an
// oversized inflated Redirect message (a DEFLATE bomb) and anything else
// malformed is a 400.
func bindingError(err error, body bool) error {
	var mbe *http.MaxBytesError
	switch {
	case body && (errors.Is(err, xmlsec.ErrTooLarge) || errors.As(err, &mbe)):
		return Wrap(CodeTooLarge, err, "body")
	case errors.Is(err, xmlsec.ErrTooLarge):
		return Wrap(CodeInflateBomb, err, "query")
	}
	return Wrap(CodeInvalidRequest, err, "binding")
}

// serve runs a received request through the engine: answer from the
// session, or park it and send the browser to the card login. A request
// without a session must be admitted by the limits once Accept has
// verified it and before it writes anything (Inbound.admit): one that
// fails those checks (an unknown SP, a bad signature, a replayed ID)
// holds no slot of the client's bucket nor of MaxPending.
func (h *HTTP) serve(w http.ResponseWriter, r *http.Request, in Inbound, now time.Time) {
	ctx := r.Context()
	sess := h.session(r, now)
	if sess == nil {
		client := clientKey(r)
		in.admit = func() (func(), error) {
			if err := h.limiter().admit(client, now); err != nil {
				return nil, err
			}
			return func() { h.limiter().release(client, now) }, nil
		}
	}
	pend, err := h.SSO.Accept(ctx, in, now)
	if c := CodeOf(err); c == CodeTooManyRequests || c == CodeBusy {
		h.refuse(w, r, err, now)
		return
	}
	if err != nil {
		h.fail(w, r, pend, err, now)
		return
	}
	login, err := h.SSO.NeedsLogin(pend, sess)
	if err == nil && !login {
		login, err = h.SSO.otherSubject(r.Context(), pend, sess)
	}
	switch {
	case err != nil:
		h.fail(w, r, pend, err, now)
	case !login:
		h.respond(w, r, pend, sess.Authn(), sess, now)
	default:
		h.toLogin(w, r, pend, now)
	}
}

func (h *HTTP) toLogin(w http.ResponseWriter, r *http.Request, pend *Pending, now time.Time) {
	handle, err := h.SSO.Park(r.Context(), pend, now)
	if err != nil {
		h.fail(w, r, pend, err, now)
		return
	}
	http.Redirect(w, r, h.SSO.cfg.LoginURL+"?req="+url.QueryEscape(handle), http.StatusSeeOther)
}

// ssoInit starts IdP-initiated SSO: GET /sso/init?sp=ENTITYID&RelayState=...
func (h *HTTP) ssoInit(w http.ResponseWriter, r *http.Request) {
	now := h.SSO.p.Now()
	q := r.URL.Query()
	pend, err := h.SSO.Unsolicited(q.Get("sp"), q.Get("RelayState"), now)
	if err != nil {
		h.page(w, r, err)
		return
	}
	sess := h.session(r, now)
	if sess != nil {
		h.respond(w, r, pend, sess.Authn(), sess, now)
		return
	}
	if h.admit(w, r, now) {
		h.toLogin(w, r, pend, now)
	}
}

// admit applies the limits to a request without a session; a refused
// one gets its error page with a Retry-After, and false.
func (h *HTTP) admit(w http.ResponseWriter, r *http.Request, now time.Time) bool {
	err := h.limiter().admit(clientKey(r), now)
	if err == nil {
		return true
	}
	h.refuse(w, r, err, now)
	return false
}

// refuse answers a request the limits refused: its error page, with a
// Retry-After.
func (h *HTTP) refuse(w http.ResponseWriter, r *http.Request, err error, now time.Time) {
	w.Header().Set("Retry-After", h.limiter().retryAfter(err, now))
	h.page(w, r, err)
}

func (h *HTTP) limiter() *authnLimiter {
	h.limOnce.Do(func() { h.lim = newAuthnLimiter(h.Limits, h.SSO.cfg.PendingLifetime) })
	return h.lim
}

// clientKey names the client of r for the limits: its IP address, or the
// /64 an IPv6 address is in (one host usually holds a whole /64).
func clientKey(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	if ip = ip.Unmap(); ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}

// loggedIn finishes a card login: the pending request is taken (once),
// a session starts and the response goes to the ACS.
func (h *HTTP) loggedIn(w http.ResponseWriter, r *http.Request, a Authn) {
	now := a.Instant
	pend, err := h.SSO.Resume(r.Context(), r.URL.Query().Get("req"), now)
	if err != nil {
		h.page(w, r, err)
		return
	}
	// The session is stored with the SP's join (one write); when the
	// answer fails before that, the login still opens it.
	sess, err := h.SSO.p.newSession(a, h.SSO.p.cfg.SessionLifetime, now)
	if err != nil {
		h.fail(w, r, pend, err, now)
		return
	}
	out, err := h.SSO.Respond(r.Context(), pend, a, sess, now)
	if sess.unsaved && CodeOf(err) != CodeUnknownPrincipal { // no session can be stored for an unknown principal
		if serr := h.SSO.p.saveSession(r.Context(), sess); serr != nil {
			h.log(r, err)
			h.fail(w, r, pend, serr, now)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: h.cookieName(), Value: sess.Cookie, Path: "/", Domain: h.CookieDomain,
		Expires: sess.Expires, Secure: true, HttpOnly: true, SameSite: http.SameSiteNoneMode})
	if err != nil {
		h.fail(w, r, pend, err, now)
		return
	}
	h.deliver(w, r, out, now)
}

func (h *HTTP) cookieName() string {
	if h.CookieName != "" {
		return h.CookieName
	}
	return DefaultCookieName
}

// session returns the live session the request's cookie names, or nil.
func (h *HTTP) session(r *http.Request, now time.Time) *Session {
	c, err := r.Cookie(h.cookieName())
	if err != nil {
		return nil
	}
	s, err := h.SSO.p.SessionByCookie(r.Context(), c.Value, now)
	if err != nil {
		h.log(r, err)
		return nil
	}
	return s
}

func (h *HTTP) respond(w http.ResponseWriter, r *http.Request, pend *Pending, a Authn, sess *Session, now time.Time) {
	out, err := h.SSO.Respond(r.Context(), pend, a, sess, now)
	if err != nil {
		h.fail(w, r, pend, err, now)
		return
	}
	h.deliver(w, r, out, now)
}

// fail answers err with a signed error Response when one may be sent, and
// with an error page otherwise (SAML2.md §3.1 items 1 and 4).
func (h *HTTP) fail(w http.ResponseWriter, r *http.Request, pend *Pending, err error, now time.Time) {
	out, err2 := h.SSO.ErrorResponse(pend, err, now)
	if err2 != nil {
		h.page(w, r, err2) // logs
		return
	}
	h.log(r, err)
	h.deliver(w, r, out, now)
}

// post writes the HTTP-POST binding page, script served from this origin
// so that the CSP needs no inline script.
func (h *HTTP) post(w http.ResponseWriter, r *http.Request, out *Outcome) {
	page, err := binding.EncodePOST(out.ACS, out.Response, out.RelayState, binding.FormOptions{ScriptURL: PathPostJS})
	if err != nil {
		h.page(w, r, Wrap(CodeInternal, err, "encode POST"))
		return
	}
	u, _ := url.Parse(out.ACS) // checked by safeURL
	w.Header().Set("Content-Security-Policy", httpx.FormCSP(u.Scheme+"://"+u.Host))
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(page)
}

func (h *HTTP) log(r *http.Request, err error) {
	if h.Log != nil {
		h.Log(r, err)
	}
}

var errorPage = template.Must(template.New("sso").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Login: {{.Title}}</title></head>
<body><main>
<h1>The login could not continue</h1>
<p><strong>{{.Title}}.</strong></p>
<p>{{.Advice}}</p>
</main></body></html>
`))

// pageAdvice is what the error page tells the user, per code.
var pageAdvice = map[Code]string{
	CodeUnknownSP:        "The site that sent you here is not known to this login service. Go back to the site and contact its operator.",
	CodeACSNotInMetadata: "The site that sent you here asked for the answer to go to an address it has not registered. Nothing was sent. Contact the site's operator.",
	CodeACSNotHTTPS:      "The site that sent you here registered an http address for the answer; this login service sends answers only to https addresses, so nothing was sent. Contact the site's operator.",
	CodeUnknownRequest:   "This login request is unknown, was already used or has expired. Go back to the site and start again.",
	CodeTooLarge:         "The request is larger than this service accepts.",
	CodeInflateBomb:      "The request is larger than this service accepts once decompressed.",
	CodeInvalidRequest:   "The login request is malformed. Go back to the site and start again.",
	CodeTooManyRequests:  "Wait a minute, then go back to the site and start again.",
	CodeBusy:             "Too many logins are under way. Wait a few minutes, then go back to the site and start again.",
}

// page renders the error page for err: the public text of the error
// table, never the private cause.
func (h *HTTP) page(w http.ResponseWriter, r *http.Request, err error) {
	h.log(r, err)
	if c := CodeOf(err); c < CodeVersionMismatch && c != CodeInternal {
		WriteLoginError(w, err)
		return
	}
	st := StatusFor(err)
	adv, ok := pageAdvice[CodeOf(err)]
	if !ok {
		adv = "Go back to the site and try again later."
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(st.Page.HTTP())
	_ = errorPage.Execute(w, struct{ Title, Advice string }{capitalize(st.Message), adv})
}
