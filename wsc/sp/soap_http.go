package sp

import (
	"context"
	"net/http"

	"github.com/renkei-idwsf/renkei/saml/binding"
)

// maxSOAPBody bounds a back-channel request body: a signed LogoutRequest
// is a few kilobytes.
const maxSOAPBody = 64 << 10

// SOAPHandler serves the SOAPSLOURL: POST only, the body bounded, then
// ReceiveLogoutSOAP with end, and its reply written with HTTP 200, or 500
// for a SOAP fault. Refusals go to log when it is not nil.
func (s *SP) SOAPHandler(end func(context.Context, *IdPLogout) error, log func(error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "POST a SOAP LogoutRequest", http.StatusMethodNotAllowed)
			return
		}
		reply, err := s.ReceiveLogoutSOAP(r.Context(), http.MaxBytesReader(w, r.Body, maxSOAPBody), end)
		if err != nil && log != nil {
			log(err)
		}
		if reply == nil {
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", binding.ContentTypeSOAP)
		if reply.Fault {
			w.WriteHeader(http.StatusInternalServerError)
		}
		_, _ = w.Write(reply.Envelope)
	})
}
