package idp

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/renkei-idwsf/renkei/saml/binding"
	"github.com/renkei-idwsf/renkei/saml/samlp"
)

// PathNIM is the ManageNameIDService on the main listener: SOAP by POST,
// HTTP-Redirect by GET.
const PathNIM = "/nim"

// MountNIM adds the ManageNameIDService to r when the profile is on.
func (h *HTTP) MountNIM(r *mux.Router) {
	if h.SSO.cfg.NIM.URL == "" {
		return
	}
	r.HandleFunc(PathNIM, h.nimSOAP).Methods(http.MethodPost)
	r.HandleFunc(PathNIM, h.nimRedirect).Methods(http.MethodGet)
}

// nimSOAP is the SOAP binding (SAML Bindings §3.2): the answer is the
// signed ManageNameIDResponse in an envelope, HTTP 200 whatever its
// status; a request that may not be answered gets a SOAP fault.
func (h *HTTP) nimSOAP(w http.ResponseWriter, r *http.Request) {
	now := h.SSO.p.Now()
	env := h.soapRequest(w, r)
	if env == nil {
		return
	}
	out, err := h.SSO.ManageNameID(r.Context(), NIMInbound{Binding: samlp.BindingSOAP, Element: env.Body}, now)
	if out == nil {
		h.soapAnswer(w, r, nil, err)
		return
	}
	h.soapAnswer(w, r, out.Response, err)
}

// nimRedirect is the HTTP-Redirect binding (SAML Bindings §3.4): the
// answer goes back to the SP's Redirect ManageNameIDService, query-signed.
func (h *HTTP) nimRedirect(w http.ResponseWriter, r *http.Request) {
	now := h.SSO.p.Now()
	m, err := (&binding.RedirectDecoder{}).Decode(r.URL.RawQuery)
	if err != nil {
		h.page(w, r, bindingError(err, false))
		return
	}
	if m.Param != binding.ParamRequest {
		h.page(w, r, Errorf(CodeInvalidRequest, "%s at the ManageNameIDService", m.Param))
		return
	}
	out, err := h.SSO.ManageNameID(r.Context(), NIMInbound{Binding: samlp.BindingHTTPRedirect, Redirect: m}, now)
	if out == nil {
		h.page(w, r, err)
		return
	}
	if err != nil {
		h.log(r, err)
	}
	u, err := binding.RedirectURL(out.Location, out.Response, out.RelayState, h.SSO.p.redirectSigner())
	if err != nil {
		h.page(w, r, Wrap(CodeInternal, err, "encode Redirect"))
		return
	}
	http.Redirect(w, r, u, http.StatusSeeOther)
}
