package portal

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/binding"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/wsc/sp"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// The portal's SAML side over wsc/sp (SAML Profiles §4.1, §4.4):
//
//	GET  /login     a signed AuthnRequest over HTTP-Redirect; its ID bound to the browser
//	POST /acs       the IdP's Response (HTTP-POST): the session opened
//	POST /logout    (CSRF token) the session ended, a signed LogoutRequest to the IdP
//	GET  /slo       the IdP's LogoutResponse, or its LogoutRequest (front channel)
//	POST /slo/soap  the IdP's LogoutRequest over SOAP (back channel)
//	GET  /metadata  the SP's metadata
//
// The AuthnRequest's ID goes in a cookie that the Response must answer:
// a Response the browser did not ask for (login CSRF, an unsolicited or
// stolen one) is refused. That cookie comes back with the IdP's
// cross-site POST, so it is SameSite=None; it carries nothing but the ID
// and lives as long as the request may be answered.

// Paths of the SAML side, under the portal's BaseURL.
const (
	PathLogin    = "/login"
	PathACS      = "/acs"
	PathLogout   = "/logout"
	PathSLO      = "/slo"
	PathSOAPSLO  = "/slo/soap"
	PathMetadata = "/metadata"
)

const cookieLogin = "__Host-portal-login"

// maxACSBody bounds the Response's POST: an encrypted, signed assertion
// with a bootstrap EPR and its DS token.
const maxACSBody = 256 << 10

// SAML is the Auth of the portal over the SP engine.
type SAML struct {
	SP *sp.SP
	// AuthnContexts are the authentication context classes a login may
	// have; nil means saml.ACSmartcardPKI alone: the citizen's records
	// are shown after a card login only (the IdP says X509 for a soft
	// certificate).
	AuthnContexts []string
}

// ErrAuthnContext: the IdP authenticated the citizen in a way the portal
// does not accept.
var ErrAuthnContext = errors.New("portal: the login's authentication context is not one the portal accepts")

// Accepts reports whether a login of the authentication context class
// opens a session.
func (a *SAML) Accepts(class string) bool {
	if len(a.AuthnContexts) == 0 {
		return class == saml.ACSmartcardPKI
	}
	return contains(a.AuthnContexts, class)
}

// Mount adds the SAML side's routes.
func (a *SAML) Mount(r *mux.Router, h *HTTP) {
	r.Handle(PathLogin, h.Wrap(false, func(w http.ResponseWriter, req *http.Request, _ *Citizen) { a.login(w, req, h) })).
		Methods(http.MethodGet, http.MethodHead)
	r.Handle(PathACS, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) { a.acs(w, req, h) })).Methods(http.MethodPost)
	r.Handle(PathLogout, h.Wrap(true, func(w http.ResponseWriter, req *http.Request, c *Citizen) { a.logout(w, req, h, c) })).
		Methods(http.MethodPost)
	r.Handle(PathSLO, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) { a.slo(w, req, h) })).
		Methods(http.MethodGet, http.MethodHead)
	r.Handle(PathSOAPSLO, a.SP.SOAPHandler(func(_ context.Context, l *sp.IdPLogout) error {
		h.Portal.EndLogin(l.NameID.Value, l.SessionIndexes)
		return nil
	}, func(err error) {
		if h.Log != nil {
			h.Log(nil, err)
		}
	})).Methods(http.MethodPost)
	r.Handle(PathMetadata, http.HandlerFunc(a.metadata)).Methods(http.MethodGet, http.MethodHead)
}

func (a *SAML) login(w http.ResponseWriter, r *http.Request, h *HTTP) {
	req, err := a.SP.StartLogin(r.Context(), "")
	if err != nil {
		h.logf(r, err)
		h.Render(w, r, http.StatusInternalServerError, "error", "error.title", "error.internal")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: cookieLogin, Value: req.ID, Path: "/", Secure: true, HttpOnly: true,
		SameSite: http.SameSiteNoneMode, Expires: req.Expires})
	http.Redirect(w, r, req.URL, http.StatusSeeOther)
}

func (a *SAML) acs(w http.ResponseWriter, r *http.Request, h *HTTP) {
	r.Body = http.MaxBytesReader(w, r.Body, maxACSBody)
	fail := func(status int, err error) {
		h.logf(r, err)
		h.Render(w, r, status, "error", "error.title", "error.login")
	}
	ck, err := r.Cookie(cookieLogin)
	if err != nil {
		fail(http.StatusBadRequest, errors.New("portal: a Response without the login cookie: the browser did not ask for it"))
		return
	}
	http.SetCookie(w, &http.Cookie{Name: cookieLogin, Value: "", Path: "/", Secure: true, HttpOnly: true,
		SameSite: http.SameSiteNoneMode, MaxAge: -1})
	msg, err := (&binding.POSTDecoder{}).DecodeRequest(r)
	if err != nil {
		fail(http.StatusBadRequest, err)
		return
	}
	l, err := a.SP.Consume(r.Context(), msg, ck.Value)
	if err != nil {
		fail(http.StatusForbidden, err)
		return
	}
	if !a.Accepts(l.AuthnContext) {
		fail(http.StatusForbidden, fmt.Errorf("%w: %q", ErrAuthnContext, l.AuthnContext))
		return
	}
	if l.Bootstrap == nil {
		fail(http.StatusForbidden, errors.New("portal: the assertion carries no Discovery Service bootstrap"))
		return
	}
	c, err := h.Portal.Open(Identity{NameID: l.NameID, SessionIndex: l.SessionIndex, NotOnOrAfter: l.SessionNotOnOrAfter}, l.Bootstrap, l)
	if err != nil {
		fail(http.StatusServiceUnavailable, err)
		return
	}
	if old, err := r.Cookie(cookieSession); err == nil {
		h.Portal.Close(old.Value) // this browser's previous login
	}
	h.SetSession(w, c)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// logout ends the portal session at once, then asks the IdP to end the
// others (SP-initiated SLO).
func (a *SAML) logout(w http.ResponseWriter, r *http.Request, h *HTTP, c *Citizen) {
	h.Portal.Close(c.ID)
	h.EndSession(w)
	l, _ := c.Data.(*sp.Login)
	if l == nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	req, err := a.SP.StartLogout(r.Context(), l, "")
	if err != nil {
		h.logf(r, err)
		h.Render(w, r, http.StatusOK, "welcome", "welcome.title", "loggedout.part")
		return
	}
	http.Redirect(w, r, req.URL, http.StatusSeeOther)
}

// slo takes the IdP's LogoutResponse to the portal's request, or the
// IdP's own LogoutRequest (another SP logged the citizen out).
func (a *SAML) slo(w http.ResponseWriter, r *http.Request, h *HTTP) {
	if sp.IsLogoutResponse(r.URL.RawQuery) {
		res, err := a.SP.ConsumeLogoutResponse(r.Context(), r.URL.RawQuery)
		msg := "loggedout"
		if err != nil || !res.Success() {
			h.logf(r, err)
			msg = "loggedout.part"
		}
		h.Render(w, r, http.StatusOK, "welcome", "welcome.title", msg)
		return
	}
	l, err := a.SP.ReceiveLogoutRequest(r.Context(), r.URL.RawQuery)
	if l == nil {
		h.logf(r, err)
		h.Render(w, r, http.StatusBadRequest, "error", "error.title", "error.internal")
		return
	}
	status := samlp.NewStatus(samlp.StatusSuccess, "")
	if err != nil {
		h.logf(r, err)
		status = sp.LogoutStatus(err)
	} else {
		h.Portal.EndLogin(l.NameID.Value, l.SessionIndexes)
		// The browser forgets its session only when that session ended:
		// a logout of another citizen's login leaves this one alone.
		if ck, err := r.Cookie(cookieSession); err == nil {
			if _, err := h.Portal.Session(ck.Value); errors.Is(err, ErrNoSession) {
				h.EndSession(w)
			}
		}
	}
	u, err := a.SP.LogoutResponseURL(l, status)
	if err != nil {
		h.logf(r, err)
		h.Render(w, r, http.StatusInternalServerError, "error", "error.title", "error.internal")
		return
	}
	http.Redirect(w, r, u, http.StatusSeeOther)
}

func (a *SAML) metadata(w http.ResponseWriter, _ *http.Request) {
	b, err := xmlsec.Serialize(a.SP.Metadata().Element())
	if err != nil {
		http.Error(w, "metadata", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/samlmetadata+xml")
	_, _ = w.Write(b)
}
