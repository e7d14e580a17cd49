package server

import (
	"io"
	"net/http"

	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// Handler is the HTTP adapter of a Receiver (IDWSF2 §2.1): it takes POSTed
// messages, bounds the body by the parse limit, passes what TLS proved and
// writes the Response. It is the only part that touches the
// http.ResponseWriter. The TLS listener should ask for client certificates
// without verifying chains (tls.RequestClientCert): trust in a client key
// comes from the metadata, checked in the pipeline.
type Handler struct {
	Receiver *Receiver
	// Log, when set, receives the private cause of every fault.
	Log func(r *http.Request, resp *Response)
}

// ServeHTTP handles one message.
func (h Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "ID-WSF SOAP endpoint: POST only", http.StatusMethodNotAllowed)
		return
	}
	resp := h.receive(r)
	if h.Log != nil && resp.Fault != nil {
		h.Log(r, resp)
	}
	w.Header().Set("Content-Type", wsf.ContentType)
	w.WriteHeader(resp.Status)
	_, _ = w.Write(resp.Body)
}

func (h Handler) receive(r *http.Request) *Response {
	max := h.Receiver.maxBytes()
	body, err := io.ReadAll(io.LimitReader(r.Body, int64(max)+1))
	switch {
	case err != nil:
		return h.Receiver.Reject(wsf.Wrap(wsf.IDStarMsgNotUnderstood, err, "reading the request"))
	case len(body) > max:
		return h.Receiver.Reject(xmlsec.Errorf(xmlsec.KindTooLarge, "request over %d bytes", max))
	}
	req := Request{Body: body, TLS: r.TLS != nil}
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		req.ClientCert = r.TLS.PeerCertificates[0]
	}
	return h.Receiver.Receive(r.Context(), req)
}

func (r *Receiver) maxBytes() int {
	if r.cfg.Limits.MaxBytes > 0 {
		return r.cfg.Limits.MaxBytes
	}
	return xmlsec.DefaultLimits.MaxBytes
}

// Reject answers a request the transport refused before the pipeline
// (unreadable, over the size limit) with the fault for err.
func (r *Receiver) Reject(err error) *Response {
	return r.faultResponse(&exchange{now: r.cfg.now()}, err)
}
