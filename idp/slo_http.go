package idp

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"html/template"
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/renkei-idwsf/renkei/saml/binding"
	"github.com/renkei-idwsf/renkei/saml/samlp"
)

// Paths of the Single Logout surface on the main listener.
const (
	PathSLO     = "/slo"      // SingleLogoutService, HTTP-Redirect and HTTP-POST
	PathSLOSOAP = "/slo/soap" // SingleLogoutService, SOAP
	PathSLOInit = "/slo/init" // IdP-initiated logout of the browser's session
)

// sloTokenField names the confirmation form's token.
const sloTokenField = "token"

// mountSLO adds GET and POST /slo, POST /slo/soap, and GET and POST
// /slo/init to r when h has an SLO engine.
func (h *HTTP) mountSLO(r *mux.Router) {
	if h.SLO == nil {
		return
	}
	r.HandleFunc(PathSLO, h.sloRedirect).Methods(http.MethodGet)
	r.HandleFunc(PathSLO, h.sloPOST).Methods(http.MethodPost)
	r.HandleFunc(PathSLOSOAP, h.sloSOAP).Methods(http.MethodPost)
	r.HandleFunc(PathSLOInit, h.sloConfirm).Methods(http.MethodGet)
	r.HandleFunc(PathSLOInit, h.sloInit).Methods(http.MethodPost)
}

// sloRedirect receives a LogoutRequest, or a participant's LogoutResponse,
// over HTTP-Redirect.
func (h *HTTP) sloRedirect(w http.ResponseWriter, r *http.Request) {
	now := h.SSO.p.Now()
	m, err := (&binding.RedirectDecoder{}).Decode(r.URL.RawQuery)
	if err != nil {
		h.page(w, r, bindingError(err, false))
		return
	}
	h.sloDispatch(w, r, m.Param, Inbound{Binding: samlp.BindingHTTPRedirect, Redirect: m, RelayState: m.RelayState}, now)
}

// sloPOST receives the same over HTTP-POST.
func (h *HTTP) sloPOST(w http.ResponseWriter, r *http.Request) {
	now := h.SSO.p.Now()
	r.Body = http.MaxBytesReader(w, r.Body, int64(h.maxBody())+1)
	m, err := (&binding.POSTDecoder{MaxBody: h.maxBody()}).DecodeRequest(r)
	if err != nil {
		h.page(w, r, bindingError(err, true))
		return
	}
	h.sloDispatch(w, r, m.Param, Inbound{Binding: samlp.BindingHTTPPOST, Element: m.Element, RelayState: m.RelayState}, now)
}

func (h *HTTP) sloDispatch(w http.ResponseWriter, r *http.Request, param string, in Inbound, now time.Time) {
	if param == binding.ParamResponse {
		h.logoutReturned(w, r, in, now)
		return
	}
	h.logoutRequested(w, r, in, now)
}

// logoutRequested runs SP-initiated logout through the browser: accept,
// end the session (and clear its cookie), reach the participants, answer.
func (h *HTTP) logoutRequested(w http.ResponseWriter, r *http.Request, in Inbound, now time.Time) {
	sess := h.session(r, now)
	lr, err := h.SLO.AcceptLogout(r.Context(), in, sess, now)
	if err != nil {
		h.sloFail(w, r, lr, err, now)
		return
	}
	c, err := h.SLO.Start(r.Context(), lr.SessionID, lr, true, now)
	if err != nil {
		h.sloFail(w, r, lr, err, now)
		return
	}
	if sess != nil && sess.ID == lr.SessionID {
		h.clearCookie(w)
	}
	h.sloNext(w, r, c, now)
}

// logoutReturned continues a front-channel chain with a participant's
// LogoutResponse.
func (h *HTTP) logoutReturned(w http.ResponseWriter, r *http.Request, in Inbound, now time.Time) {
	c, _, err := h.SLO.Returned(r.Context(), in, now)
	if err != nil {
		h.page(w, r, err)
		return
	}
	h.sloNext(w, r, c, now)
}

// sloConfirm answers GET /slo/init with the confirmation form of
// IdP-initiated logout: a link, an image or a page of another site, or of
// the same site, can make the browser GET a URL, so a GET never logs out;
// the form POSTs back with a token only a page of this origin can read
// (sloToken).
func (h *HTTP) sloConfirm(w http.ResponseWriter, r *http.Request) {
	now := h.SSO.p.Now()
	sess, token := h.sloSession(r, now)
	if sess == nil {
		h.page(w, r, Errorf(CodeNoSession, "IdP-initiated logout without a session"))
		return
	}
	w.Header().Set("Content-Security-Policy", sloConfirmCSP)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = confirmLogout.Execute(w, struct{ Action, Field, Token string }{PathSLOInit, sloTokenField, token})
}

// sloConfirmCSP lets the confirmation form post to this origin; the
// logout it starts may redirect the browser to any participant's https
// SingleLogoutService, which form-action also governs.
const sloConfirmCSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self' https:"

// sloInit is IdP-initiated logout of the browser's session (SAML
// Profiles §4.4.2): POST /slo/init from the confirmation form, with its
// token (a cross-site request forgery cannot supply it). A POST that
// another site started (Fetch Metadata) is refused as well.
func (h *HTTP) sloInit(w http.ResponseWriter, r *http.Request) {
	now := h.SSO.p.Now()
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		h.page(w, r, Errorf(CodeRequestDenied, "IdP-initiated logout started by another site"))
		return
	}
	sess, token := h.sloSession(r, now)
	if sess == nil {
		h.page(w, r, Errorf(CodeNoSession, "IdP-initiated logout without a session"))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	got := r.PostFormValue(sloTokenField)
	if subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
		h.page(w, r, Errorf(CodeRequestDenied, "IdP-initiated logout without the confirmation token (%d bytes sent)", len(got)))
		return
	}
	c, err := h.SLO.Start(r.Context(), sess.ID, nil, true, now)
	if err != nil {
		h.page(w, r, err)
		return
	}
	h.clearCookie(w)
	h.sloNext(w, r, c, now)
}

// sloSession is the browser's live session and the confirmation token
// of its logout, or nil and "".
func (h *HTTP) sloSession(r *http.Request, now time.Time) (*Session, string) {
	c, err := r.Cookie(h.cookieName())
	if err != nil {
		return nil, ""
	}
	sess := h.session(r, now)
	if sess == nil {
		return nil, ""
	}
	return sess, sloToken(c.Value)
}

// sloToken is the confirmation token of the session whose cookie is
// cookie: a hash of the cookie, which is a 256-bit secret the browser
// sends only to this IdP and no script reads (HttpOnly). A page of
// another site, or of another origin of the same site, cannot read the
// form that carries it; the hash does not give the cookie away.
func sloToken(cookie string) string {
	sum := sha256.Sum256([]byte("renkei slo confirmation\x00" + cookie))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// sloNext sends the browser on to the chain's next hop, or shows that
// the logout is complete.
//
// Every participant that failed so far in this step is logged: which,
// over which binding, and why; the user's page says only that some
// services could not be reached.
func (h *HTTP) sloNext(w http.ResponseWriter, r *http.Request, c *Chain, now time.Time) {
	out, err := h.SLO.Next(r.Context(), c, now)
	h.logAll(r, c.Failures())
	switch {
	case err != nil && c.Initiator != nil:
		h.sloFail(w, r, c.Initiator, err, now)
	case err != nil:
		h.page(w, r, err)
	case out == nil:
		loggedOutPage(w, c.Partial)
	default:
		h.sendLogout(w, r, out)
	}
}

// sloFail answers err with a LogoutResponse when one may be sent, and
// with an error page otherwise.
func (h *HTTP) sloFail(w http.ResponseWriter, r *http.Request, lr *LogoutRequest, err error, now time.Time) {
	out, err2 := h.SLO.ErrorReply(lr, err, now)
	if err2 != nil {
		h.page(w, r, err2)
		return
	}
	h.log(r, err)
	h.sendLogout(w, r, out)
}

// sendLogout writes out with its binding: a 303 to the query-signed URL of
// HTTP-Redirect, or the HTTP-POST form.
func (h *HTTP) sendLogout(w http.ResponseWriter, r *http.Request, out *Outbound) {
	if out.Binding == samlp.BindingHTTPPOST {
		h.post(w, r, &Outcome{ACS: out.Location, Binding: out.Binding, RelayState: out.RelayState, Response: out.Message})
		return
	}
	u, err := binding.RedirectURL(out.Location, out.Message, out.RelayState, h.SLO.RedirectSigner())
	if err != nil {
		h.page(w, r, Wrap(CodeInternal, err, "encode Redirect"))
		return
	}
	http.Redirect(w, r, u, http.StatusSeeOther)
}

// sloSOAP receives a LogoutRequest over SOAP (back channel): a SAML error
// is a LogoutResponse with its status, HTTP 200 (SAML Bindings §3.2.3.3).
func (h *HTTP) sloSOAP(w http.ResponseWriter, r *http.Request) {
	now := h.SSO.p.Now()
	env := h.soapRequest(w, r)
	if env == nil {
		return
	}
	el, failures, err := h.SLO.SOAP(r.Context(), env.Body, now)
	h.logAll(r, failures)
	h.soapAnswer(w, r, el, err)
}

// logAll logs each of errs.
func (h *HTTP) logAll(r *http.Request, errs []error) {
	for _, err := range errs {
		h.log(r, err)
	}
}

// clearCookie removes the session cookie from the browser.
func (h *HTTP) clearCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: h.cookieName(), Value: "", Path: "/", Domain: h.CookieDomain, MaxAge: -1,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteNoneMode})
}

var loggedOut = template.Must(template.New("slo").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Logged out</title></head>
<body><main>
<h1>You are logged out</h1>
{{if .}}<p><strong>Some services could not be reached and may still have you logged in.</strong> Close the browser to end them.</p>
{{else}}<p>Every service you used in this session has been told to end it.</p>
{{end}}</main></body></html>
`))

var confirmLogout = template.Must(template.New("slo-confirm").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Log out</title></head>
<body><main>
<h1>Log out of every service?</h1>
<p>This ends your login here and at every service you used with it.</p>
<form method="post" action="{{.Action}}">
<input type="hidden" name="{{.Field}}" value="{{.Token}}">
<button type="submit">Log out</button>
</form>
</main></body></html>
`))

// loggedOutPage ends an IdP-initiated logout.
func loggedOutPage(w http.ResponseWriter, partial bool) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = loggedOut.Execute(w, partial)
}
