package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/secmech"
)

// Call is one request: the EPR to call, the operation and its payload, and
// the optional header blocks the caller sets (UserInteraction, Consent,
// UsageDirectives, TargetIdentity, ProcessingContext, Timeout,
// ApplicationEPRs, and RelatesTo when re-sending after a RedirectRequest).
// Framework, Sender, MessageID, To, Action, ReplyTo and the EPR's
// reference parameters are set by the client.
type Call struct {
	EPR     *wsf.EPR
	Action  string
	Payload *etree.Element
	Header  wsf.Header
}

// Result is a verified response. EPR is the endpoint that answered: the
// updated one after an sb:EndpointUpdate, which the caller should use from
// now on.
type Result struct {
	Sender    *wsf.Peer
	Mechanism wsf.Mechanism
	Header    *wsf.Header
	Payload   *etree.Element
	EPR       *wsf.EPR
}

// RedirectError reports a RedirectRequest (IDWSF2 §2.6): the WSP needs the
// user at URL. The caller redirects the browser there (adding ReturnToURL)
// and, when the user comes back, re-sends the call with a new MessageID
// and Header.RelatesTo = FaultMessageID.
type RedirectError struct {
	URL            string
	FaultMessageID string
	Fault          *wsf.Fault
}

// Error describes the redirect.
func (e *RedirectError) Error() string { return "wsf/client: redirect the user to " + e.URL }

// Unwrap returns the fault, so errors.Is(err, wsf.ErrInteractionRequired)
// holds.
func (e *RedirectError) Unwrap() error { return e.Fault }

// Call sends c and returns the verified response. A fault is returned as
// *wsf.Fault (errors.Is matches the wsf sentinels), a RedirectRequest as
// *RedirectError; EndpointUpdated is followed by re-sending to the new
// endpoint, at most Config.MaxEndpointUpdates times.
func (c *Client) Call(ctx context.Context, call *Call) (*Result, error) {
	epr := call.EPR
	for i := 0; ; i++ {
		res, err := c.once(ctx, call, epr)
		var f *wsf.Fault
		if errors.As(err, &f) && f.StatusCode() == wsf.EndpointUpdated && f.EndpointUpdate != nil && i < orInt(c.cfg.MaxEndpointUpdates, 2) {
			if epr, err = updateEPR(epr, f.EndpointUpdate); err != nil {
				return nil, err
			}
			continue
		}
		return res, err
	}
}

// Outcome is the result of one call of CallAll.
type Outcome struct {
	Result *Result
	Err    error
}

// CallAll sends every call concurrently, at most Config.Parallel at once,
// and returns their outcomes in order.
func (c *Client) CallAll(ctx context.Context, calls []*Call) []Outcome {
	out := make([]Outcome, len(calls))
	sem := make(chan struct{}, orInt(c.cfg.Parallel, 4))
	var wg sync.WaitGroup
	for i, call := range calls {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			out[i].Result, out[i].Err = c.Call(ctx, call)
		}()
	}
	wg.Wait()
	return out
}

// once sends one request to epr and reads its response.
func (c *Client) once(ctx context.Context, call *Call, epr *wsf.EPR) (*Result, error) {
	sel, err := c.selectContext(epr)
	if err != nil {
		return nil, err
	}
	now := c.now()
	body, h, err := c.build(ctx, call, epr, sel, now)
	if err != nil {
		return nil, err
	}
	if h.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, h.Timeout+timeoutMargin)
		defer cancel()
	}
	raw, err := c.post(ctx, epr.Address, call.Action, body)
	if err != nil {
		return nil, err
	}
	res, err := c.VerifyResponse(ctx, raw, h.MessageID, epr)
	if res != nil {
		res.Mechanism = sel.mechanism
	}
	return res, err
}

// timeoutMargin is added to sb:Timeout for the transport around the
// processing time the WSP promises.
const timeoutMargin = 5 * time.Second

// build makes the request envelope, secures it and checks it against the
// schemas: a request they refuse is never sent. The MessageID carries the
// ID this recipient gets for the request ID of ctx, if any (messageID).
func (c *Client) build(ctx context.Context, call *Call, epr *wsf.EPR, sel selection, now time.Time) ([]byte, *wsf.Header, error) {
	h := call.Header
	mid, err := c.messageID(ctx, sel.peer.EntityID, call.Action)
	if err != nil {
		return nil, nil, err
	}
	h.Framework = wsf.Framework{Version: wsf.FrameworkVersion}
	h.Sender = &wsf.Sender{ProviderID: c.cfg.EntityID}
	h.MessageID, h.To, h.Action = mid, epr.Address, call.Action
	h.ReplyTo = &wsf.EPR{Address: wsf.Anonymous}
	h.ReferenceParameters = epr.ReferenceParameters
	env := wsf.NewEnvelope(&h, call.Payload)
	cred := &secmech.Credentials{Mechanism: sel.mechanism, Token: sel.token, Key: c.cfg.Key,
		Certificate: c.cfg.Certificate, Policy: sel.peer.Profile.Policy(), Rand: c.cfg.Rand, Meter: c.cfg.Meter}
	body, err := secmech.Secure(env, cred, now)
	if err != nil {
		return nil, nil, err
	}
	return body, &h, c.checkOutgoing(body)
}

// checkOutgoing validates a request before it is sent, unless
// Config.SkipOutgoingValidation is set; a refusal wraps
// wsf.ErrInvalidOutgoing. The bytes are the client's own serialization,
// so the hostile-input guards of xmlsec.Parse are skipped when the
// Validator can (libxml2 still refuses a DTD).
func (c *Client) checkOutgoing(body []byte) error {
	if c.cfg.SkipOutgoingValidation {
		return nil
	}
	if err := wsf.CheckOutgoing(c.cfg.Schema, body); err != nil {
		return fmt.Errorf("wsf/client: request not sent: %w", err)
	}
	return nil
}

// maxResponse bounds a response read from the network.
func (c *Client) maxResponse() int64 {
	if c.cfg.Limits.MaxBytes > 0 {
		return int64(c.cfg.Limits.MaxBytes)
	}
	return 1 << 20
}

// post sends the message (IDWSF2 §2.1: text/xml, SOAPAction = wsa:Action)
// and returns the response body of a 200 or a 500 (a fault).
func (c *Client) post(ctx context.Context, addr, action string, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, addr, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", wsf.ContentType)
	req.Header.Set("SOAPAction", `"`+action+`"`)
	resp, err := c.cfg.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusInternalServerError {
		return nil, fmt.Errorf("wsf/client: %s answered HTTP %d", addr, resp.StatusCode)
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, c.maxResponse()+1))
	if err == nil && int64(len(raw)) > c.maxResponse() {
		err = fmt.Errorf("wsf/client: response over %d bytes", c.maxResponse())
	}
	return raw, err
}

// updateEPR applies an sb:EndpointUpdate: the new address, and the new
// metadata when the update carries some. The provider must stay the same:
// a token is never sent to another provider than the one whose EPR
// carried it (IDWSF2 §3.5).
func updateEPR(old *wsf.EPR, u *wsf.EndpointUpdate) (*wsf.EPR, error) {
	n := &wsf.EPR{Address: u.Address, ReferenceParameters: u.ReferenceParameters, Metadata: old.Metadata}
	if u.Metadata != nil {
		if old.Metadata != nil && u.Metadata.ProviderID != "" && u.Metadata.ProviderID != old.Metadata.ProviderID {
			return nil, fmt.Errorf("wsf/client: EndpointUpdate names provider %q, not %q", u.Metadata.ProviderID, old.Metadata.ProviderID)
		}
		if len(u.Metadata.SecurityContexts) > 0 {
			n.Metadata = u.Metadata
		}
	}
	if _, err := url.Parse(n.Address); err != nil || n.Address == "" {
		return nil, fmt.Errorf("wsf/client: EndpointUpdate address %q", n.Address)
	}
	return n, nil
}

// messageID returns a fresh MessageID carrying the ID the recipient sees
// for the request ID of ctx (wsf.RecipientRequestID under the client's
// own key, wsf.NewMessageIDFor), and logs the pair when Config.Log is
// set: the recipient's logs name the request only through that line.
func (c *Client) messageID(ctx context.Context, recipient, action string) (string, error) {
	rid := wsf.RequestID(ctx)
	theirs := wsf.RecipientRequestID(c.ridKey, rid, recipient)
	mid, err := wsf.NewMessageIDFor(c.cfg.Rand, theirs)
	if err == nil && theirs != "" && c.cfg.Log != nil {
		c.cfg.Log.LogAttrs(ctx, slog.LevelInfo, "call", slog.String("request_id", rid), slog.String("recipient", recipient),
			slog.String("action", action), slog.String("recipient_request_id", theirs), slog.String("message_id", mid))
	}
	return mid, err
}
