package idp

import (
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/renkei-idwsf/renkei/saml/binding"
	"github.com/renkei-idwsf/renkei/saml/samlp"
)

// PathArtifact is the ArtifactResolutionService. It is served on the card
// listener, the one that requests a TLS client certificate, so that an SP
// may authenticate by its certificate instead of a signature.
const PathArtifact = "/artifact"

// mountArtifact adds the ArtifactResolutionService to r when the binding
// is on.
func (h *HTTP) mountArtifact(r *mux.Router) {
	if h.SSO.cfg.Artifact.URL == "" {
		return
	}
	r.HandleFunc(PathArtifact, h.artifactSOAP).Methods(http.MethodPost)
}

// artifactSOAP is the SOAP binding of ArtifactResolve (SAML Bindings
// §3.2, §3.6.5): the signed ArtifactResponse in an envelope, HTTP 200
// whatever its status; a message that is no SOAP envelope, or no
// ArtifactResolve of a known SP, or not sent as text/xml, gets a SOAP
// fault.
func (h *HTTP) artifactSOAP(w http.ResponseWriter, r *http.Request) {
	now := h.SSO.p.Now()
	if err := soapMediaType(r); err != nil {
		// SOAP 1.1 only (SAML Bindings §3.2.2); a cross-site form cannot
		// send it without a preflight.
		h.soapFault(w, r, err)
		return
	}
	env := h.soapRequest(w, r)
	if env == nil {
		return
	}
	in := QueryInbound{Element: env.Body}
	if r.TLS != nil {
		in.ClientCerts = r.TLS.PeerCertificates
	}
	out, err := h.SSO.ResolveArtifact(r.Context(), in, now)
	h.soapAnswer(w, r, out, err)
}

// deliver sends out by its binding: HTTP-Artifact by a redirect carrying
// the artifact (SAML Bindings §3.6.3), anything else by the POST form.
func (h *HTTP) deliver(w http.ResponseWriter, r *http.Request, out *Outcome, now time.Time) {
	if out.Binding != samlp.BindingHTTPArtifact {
		h.post(w, r, out)
		return
	}
	art, err := h.SSO.IssueArtifact(r.Context(), out, now)
	if err != nil {
		h.page(w, r, err)
		return
	}
	u, err := binding.ArtifactURL(out.ACS, art, out.RelayState)
	if err != nil {
		h.page(w, r, Wrap(CodeInternal, err, "encode artifact"))
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, u, http.StatusSeeOther)
}
