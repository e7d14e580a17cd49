package idp

import (
	"context"
	"crypto/x509"
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/renkei-idwsf/renkei/saml/binding"
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
	r.Body = http.MaxBytesReader(w, r.Body, int64(h.maxBody())+1)
	env, err := (&binding.SOAPDecoder{MaxBody: h.maxBody(), Understood: []string{}}).Decode(r.Body)
	if err != nil {
		h.soapFault(w, r, err)
		return
	}
	var certs []*x509.Certificate
	if r.TLS != nil {
		certs = r.TLS.PeerCertificates
	}
	out, err := answer(r.Context(), QueryInbound{Element: env.Body, ClientCerts: certs}, now)
	if out == nil {
		h.soapFault(w, r, err)
		return
	}
	if err != nil {
		h.log(r, err)
	}
	b, err := h.SSO.envelopeBytes(&binding.Envelope{Body: out.Response})
	if err != nil {
		h.soapFault(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(b)
}
