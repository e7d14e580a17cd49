package sp

import (
	"bytes"
	"context"
	"fmt"
	"io"
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

// PostSOAP posts r's envelope to r.URL with hc (whose transport holds the
// TLS client authentication, the card's for ECP) and returns the answer's
// body, at most maxSOAPAnswer+1 bytes so that the Consume* call sees an
// oversized one. A SOAP fault comes with HTTP 500 and is returned for the
// Consume* call to report; any other status, a redirect included, is an
// error: a SOAP responder answers in place (SAML Bindings §3.2.3.2).
func PostSOAP(ctx context.Context, hc *http.Client, r *SOAPRequest) ([]byte, error) {
	c := *hc
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL, bytes.NewReader(r.Envelope))
	if err != nil {
		return nil, wrap(KindInternal, err, "SOAP request")
	}
	req.Header.Set("Content-Type", binding.ContentTypeSOAP)
	req.Header.Set("SOAPAction", binding.SOAPAction)
	res, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK && res.StatusCode != http.StatusInternalServerError {
		return nil, fmt.Errorf("sp: %s answered HTTP %d", r.URL, res.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(res.Body, maxSOAPAnswer+1))
	if err != nil {
		return nil, fmt.Errorf("sp: reading the answer of %s: %w", r.URL, err)
	}
	return b, nil
}
