package server

import (
	"context"
	"crypto/x509"
	"net/url"
	"strings"

	"github.com/renkei-idwsf/renkei/wsf"
)

// checkAddressing applies IDWSF2 §2.3 step 8 to the verified header: a
// wsa:To naming one of this provider's endpoints, and a wsa:Action some
// service handles. Both faults are IDStarMsgNotUnderstood, the code for a
// message this endpoint cannot process.
func (r *Receiver) checkAddressing(_ context.Context, x *exchange) error {
	h := x.protected.Header
	if h.To != "" && len(r.cfg.Endpoints) > 0 && !contains(r.cfg.Endpoints, h.To) {
		return wsf.Errorf(wsf.IDStarMsgNotUnderstood, "wsa:To %q is not this endpoint", h.To)
	}
	if h.Action == "" {
		return wsf.Errorf(wsf.IDStarMsgNotUnderstood, "no wsa:Action")
	}
	svc, ok := r.cfg.Services[h.Action]
	if !ok {
		return wsf.Errorf(wsf.IDStarMsgNotUnderstood, "no service for wsa:Action %q", h.Action)
	}
	x.service = svc
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// checkSemantics applies IDWSF2 §2.3 step 9 where the framework can:
// ProcessingContext (an unknown URI is ProcCtxURINotUnderstood, Simulate
// without service support ProcCtxUnwilling) and sb:UsageDirective, whose
// ref is required unless the sender's profile accepts it missing (IDWSF2
// §11 item 15) and the message is proven to be that sender's. Timeout is applied around the service (serve); Consent and
// UserInteraction are the service's to judge.
func (r *Receiver) checkSemantics(_ context.Context, x *exchange) error {
	h := x.protected.Header
	switch pc := h.ProcessingContext; {
	case pc == "":
	case pc != wsf.ProcessingContextSimulate:
		return wsf.Errorf(wsf.ProcCtxURINotUnderstood, "ProcessingContext %q", pc)
	case !r.cfg.Simulate:
		return wsf.Errorf(wsf.ProcCtxUnwilling, "Simulate is not supported here")
	}
	for _, u := range h.UsageDirectives {
		if strings.TrimSpace(u.Ref) == "" && !(x.sender.Profile.UsageDirectiveWithoutRef && x.senderProven()) {
			return wsf.Errorf(wsf.IDStarMsgNotUnderstood, "sb:UsageDirective without ref")
		}
	}
	return nil
}

// serve calls the service within the sender's sb:Timeout, builds, signs
// and keeps the response. A service that overruns the timeout is answered
// ProcessingTimeout.
func (r *Receiver) serve(ctx context.Context, x *exchange) *Response {
	h := x.protected.Header
	if h.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, h.Timeout)
		defer cancel()
	}
	m := &Message{Sender: x.sender, SenderProven: x.senderProven(), Header: h, Payload: x.protected.Payload,
		Invocation: x.invocation, InvokerCert: x.invokerCert(), Received: x.now}
	reply, err := x.service.Serve(ctx, m)
	if err == nil && ctx.Err() != nil && h.Timeout > 0 {
		err = wsf.Errorf(wsf.ProcessingTimeout, "service took longer than %s", h.Timeout)
	}
	var resp *Response
	if err != nil {
		resp = r.faultResponse(x, timeoutError(ctx, err, h.Timeout > 0))
	} else {
		resp = r.replyResponse(x, reply)
	}
	r.remember(x, resp)
	return resp
}

// timeoutError reports a service failure caused by the sb:Timeout
// deadline as ProcessingTimeout.
func timeoutError(ctx context.Context, err error, timed bool) error {
	if timed && ctx.Err() == context.DeadlineExceeded {
		return wsf.Wrap(wsf.ProcessingTimeout, err, "")
	}
	return err
}

// remember keeps the first response for identical retransmissions.
func (r *Receiver) remember(x *exchange, resp *Response) {
	e := memoEntry{fingerprint: x.fingerprint(), status: resp.Status, response: resp.Body,
		expiry: x.now.Add(r.cfg.replayWindow())}
	r.memo.put(x.sender.EntityID, x.protected.Header.MessageID, e, x.now)
}

func queryEscape(s string) string { return url.QueryEscape(s) }

// invokerCert is the sender's metadata certificate for the key that
// signed the message, else for the TLS client key when it is the
// sender's.
func (x *exchange) invokerCert() *x509.Certificate {
	keys := x.sender.Keys
	if keys == nil {
		return nil
	}
	if k := x.protected.SigningKey; k != nil {
		if c, ok := keys.Certificate(k); ok {
			return c
		}
	}
	if cc := x.req.ClientCert; cc != nil {
		if c, ok := keys.Certificate(cc.PublicKey); ok {
			return c
		}
	}
	return nil
}
