package idp

import (
	"context"
	"crypto/x509"
	"net/http"
	"time"

	"github.com/gorilla/mux"
)

// Paths of the SOAP query services on the main listener.
const (
	PathAttributeQuery = "/aq"
	PathNameIDMapping  = "/nimap"
)

// MountQueries adds the AttributeService and the NameIDMappingService to
// r, each when its URL is configured.
func (h *HTTP) MountQueries(r *mux.Router) {
	if h.SSO.cfg.AttributeServiceURL != "" {
		r.HandleFunc(PathAttributeQuery, func(w http.ResponseWriter, r *http.Request) { h.querySOAP(w, r, h.SSO.AttributeQuery) }).
			Methods(http.MethodPost)
	}
	if h.SSO.cfg.NameIDMapping.URL != "" {
		r.HandleFunc(PathNameIDMapping, func(w http.ResponseWriter, r *http.Request) { h.querySOAP(w, r, h.SSO.NameIDMapping) }).
			Methods(http.MethodPost)
	}
}

// querySOAP is the SOAP binding of a query (SAML Bindings §3.2): the
// signed answer in an envelope, HTTP 200 whatever its status; a request
// that may not be answered (not SOAP, an unknown requester) gets a SOAP
// fault. The connection's client certificates go to the engine, which
// matches them against the requester's metadata.
func (h *HTTP) querySOAP(w http.ResponseWriter, r *http.Request,
	answer func(context.Context, QueryInbound, time.Time) (*QueryOutcome, error)) {
	now := h.SSO.p.Now()
	env := h.soapRequest(w, r)
	if env == nil {
		return
	}
	var certs []*x509.Certificate
	if r.TLS != nil {
		certs = r.TLS.PeerCertificates
	}
	out, err := answer(r.Context(), QueryInbound{Element: env.Body, ClientCerts: certs}, now)
	if out == nil {
		h.soapAnswer(w, r, nil, err)
		return
	}
	h.soapAnswer(w, r, out.Response, err)
}
