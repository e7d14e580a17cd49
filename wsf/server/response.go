package server

import (
	"errors"
	"net/http"
	"strings"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/secmech"
)

// responseHeader is the header of every answer (IDWSF2 §2.3 "Response
// construction"): Framework, this provider as Sender, a new MessageID and
// RelatesTo the request's MessageID when it could be read.
func (r *Receiver) responseHeader(x *exchange, action string) (*wsf.Header, error) {
	mid, err := wsf.NewMessageID(r.cfg.Rand)
	if err != nil {
		return nil, err
	}
	h := &wsf.Header{Framework: wsf.Framework{Version: wsf.FrameworkVersion},
		Sender: &wsf.Sender{ProviderID: r.cfg.EntityID}, MessageID: mid, RelatesTo: x.requestID(), Action: action}
	return h, nil
}

// requestID is the verified MessageID, else the one step 3 read, else "".
func (x *exchange) requestID() string {
	if x.protected != nil && x.protected.Header != nil {
		return x.protected.Header.MessageID
	}
	return x.messageID
}

// replyResponse builds the service's reply.
func (r *Receiver) replyResponse(x *exchange, reply *Reply) *Response {
	action := reply.Action
	if action == "" {
		action = x.protected.Header.Action + "Response"
	}
	h, err := r.responseHeader(x, action)
	if err != nil {
		return r.internalError(err)
	}
	mergeReplyHeader(h, &reply.Header)
	body, err := r.secure(h, reply.Payload, x)
	if err != nil {
		return r.internalError(err)
	}
	if err := r.checkOutgoing(body); err != nil {
		return r.faultResponse(x, err)
	}
	return &Response{Status: http.StatusOK, Body: body}
}

// mergeReplyHeader adds the blocks a service sets to the response header.
func mergeReplyHeader(h, extra *wsf.Header) {
	h.UsageDirectives = extra.UsageDirectives
	h.EndpointUpdate = extra.EndpointUpdate
	h.CredentialsContext = extra.CredentialsContext
	h.ApplicationEPRs = extra.ApplicationEPRs
	h.Consent = extra.Consent
}

// faultResponse renders err as a signed fault through the one table of
// wsf.FaultFor. A RedirectRequest URL gets transactionID = this fault's
// MessageID, which the WSC's re-sent request relates to (IDWSF2 §2.6).
func (r *Receiver) faultResponse(x *exchange, err error) *Response {
	f := wsf.FaultFor(err)
	h, herr := r.responseHeader(x, wsf.ActionFault)
	if herr != nil {
		return r.internalError(herr)
	}
	if f.RedirectURL != "" {
		f.RedirectURL = withParam(f.RedirectURL, "transactionID", h.MessageID)
	}
	h.EndpointUpdate, h.CredentialsContext = f.EndpointUpdate, f.Credentials
	body, serr := r.secure(h, f.Element(), x)
	if serr != nil {
		return r.internalError(serr)
	}
	if verr := r.checkOutgoing(body); verr != nil {
		return r.invalidFault(x, err, verr)
	}
	return &Response{Status: http.StatusInternalServerError, Body: body, Fault: f, Err: err}
}

// invalidFault answers when the schemas refused the fault for err (a
// service's RedirectURL that is no URI, say): a plain S:Server fault in its
// place, with both causes for the log; if even that is refused, the
// unsigned last resort.
func (r *Receiver) invalidFault(x *exchange, err, verr error) *Response {
	if errors.Is(err, wsf.ErrInvalidOutgoing) {
		return r.internalError(errors.Join(err, verr))
	}
	resp := r.faultResponse(x, verr)
	resp.Err = errors.Join(verr, err)
	return resp
}

// checkOutgoing validates a message this receiver is about to send, unless
// Config.SkipOutgoingValidation is set; a refusal wraps
// wsf.ErrInvalidOutgoing, which the fault table answers S:Server. The
// bytes are this receiver's own serialization, not a peer's, so the
// hostile-input guards of xmlsec.Parse are skipped when the Validator can
// (libxml2 still refuses a DTD).
func (r *Receiver) checkOutgoing(body []byte) error {
	if r.cfg.SkipOutgoingValidation {
		return nil
	}
	return wsf.CheckOutgoing(r.cfg.Schema, body)
}

// secure builds the envelope, adds the Timestamp and signs it with this
// provider's key.
func (r *Receiver) secure(h *wsf.Header, payload *etree.Element, x *exchange) ([]byte, error) {
	env := wsf.NewEnvelope(h, payload)
	cred := &secmech.Credentials{Key: r.cfg.Key, Certificate: r.cfg.Certificate, Rand: r.cfg.Rand, Meter: r.cfg.Meter}
	return secmech.Secure(env, cred, x.now)
}

// internalError is the last resort when even a fault cannot be signed: an
// unsigned S:Server fault.
func (r *Receiver) internalError(err error) *Response {
	f := &wsf.Fault{Code: wsf.FaultServer, String: "internal error"}
	var b strings.Builder
	b.WriteString(`<S:Envelope xmlns:S="` + wsf.NSSOAP + `"><S:Body>`)
	d := etree.NewDocument()
	d.SetRoot(f.Element())
	s, _ := d.WriteToString()
	b.WriteString(s)
	b.WriteString(`</S:Body></S:Envelope>`)
	return &Response{Status: http.StatusInternalServerError, Body: []byte(b.String()), Fault: f, Err: err}
}
