package wspserver

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/renkei-idwsf/renkei/xmlsec"
)

// slo serves the SOAP SingleLogoutService (SAML Bindings §3.2.3): the
// body bounded by the engine's MaxBody, the reply with HTTP 200, or 500
// for a SOAP fault (413 when the body is too large).
func (s *Server) slo(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, int64(s.SLO.MaxBody())+1)
	reply, err := s.SLO.Receive(r.Context(), r.Body)
	if err != nil {
		s.life.LogRequest(r, fmt.Errorf("logout refused: %w", err))
	}
	if reply == nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if reply.Logout != nil {
		s.life.Logger().Info("single logout by the IdP", slog.Any("sessions_ended", reply.Logout.SessionIndexes))
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	switch {
	case reply.Fault && errors.Is(err, xmlsec.ErrTooLarge):
		w.WriteHeader(http.StatusRequestEntityTooLarge)
	case reply.Fault:
		w.WriteHeader(http.StatusInternalServerError)
	}
	_, _ = w.Write(reply.Envelope)
}
