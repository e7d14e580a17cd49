package idp

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/binding"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/store"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
)

// chainPrefix keeps logout-chain handles apart from artifacts and pending
// AuthnRequests in the shared ArtifactStore.
const chainPrefix = "slo:"

// Chain is a logout under way (SAML Profiles §4.4.3): the SP that asked
// (nil for IdP-initiated logout), the participants still to reach through
// the browser, whether any participant failed, and the one whose
// LogoutResponse the IdP waits for. Between hops it is kept in the
// ArtifactStore, so any node sharing the store continues it, and each hop
// takes it once.
type Chain struct {
	Initiator *LogoutRequest      `json:"initiator,omitempty"`
	Queue     []store.Participant `json:"queue,omitempty"`
	Partial   bool                `json:"partial,omitempty"`
	Waiting   string              `json:"waiting,omitempty"`
	WaitingID string              `json:"waitingID,omitempty"`
	// SessionID is the session that was ended.
	SessionID string `json:"sessionID,omitempty"`

	// failures say which participant failed in this step of the chain,
	// over which binding and why, for the logs (Failures); they are not
	// kept between hops.
	failures []error
}

// fail marks the chain partial because participant p, reached over the
// binding named b, failed with err.
func (c *Chain) fail(p, b string, err error) {
	c.Partial = true
	c.failures = append(c.failures, Wrap(CodeOf(err), err, fmt.Sprintf("logout of participant %q over %s failed", p, b)))
}

// Failures returns why each participant that failed since the last call
// failed (its status, a SOAP fault, a refused signature, a timeout, no
// endpoint), and forgets them.
func (c *Chain) Failures() []error {
	f := c.failures
	c.failures = nil
	return f
}

// bindingName is the short name of a SAML binding URI for the logs
// ("SOAP", "HTTP-Redirect"); "" is "no binding".
func bindingName(uri string) string {
	if uri == "" {
		return "no binding"
	}
	_, name, _ := strings.Cut(uri, ":bindings:")
	return name
}

// Outbound is a logout message ready for its binding: a signed
// LogoutRequest or LogoutResponse for Location, with its RelayState.
type Outbound struct {
	Binding, Location, RelayState string
	Message                       *etree.Element
}

// Start ends the session and reaches its participants but initiator (nil
// for IdP-initiated logout): over SOAP, now, those whose metadata has a
// SOAP SingleLogoutService; the others are queued for the browser when
// front is set, and count as failures otherwise (a SOAP request has no
// browser). Ending first means a chain the browser abandons leaves no
// live session behind. A session another logout ended meanwhile gives an
// empty chain: that logout reaches the participants. The configured
// Discovery Service is not sent a LogoutRequest: it shares the session
// store and refuses the tokens of a session that is gone by reading it.
func (l *SLO) Start(ctx context.Context, sessionID string, initiator *LogoutRequest, front bool, now time.Time) (*Chain, error) {
	c := &Chain{Initiator: initiator, SessionID: sessionID}
	sess, err := l.sso.p.EndSession(ctx, sessionID)
	if errors.Is(err, ErrNoSession) {
		return c, nil
	}
	if err != nil {
		return nil, err
	}
	var soap []soapHop
	for _, p := range sess.Participants {
		if initiator != nil && p.ProviderID == initiator.SP || l.sso.p.sharesSessions(p.ProviderID) {
			continue
		}
		if hop, ok := l.reach(c, p, front, now); ok {
			soap = append(soap, hop)
		}
	}
	for i, err := range l.backChannels(ctx, soap, now) {
		if err != nil {
			c.fail(soap[i].p.ProviderID, bindingName(samlp.BindingSOAP), err)
		}
	}
	return c, nil
}

// soapHop is a participant reached over the back channel.
type soapHop struct {
	p   store.Participant
	sp  *md.SPSSODescriptor
	loc string
}

// maxParallelSOAP bounds the back-channel LogoutRequests of one logout in
// flight at once.
const maxParallelSOAP = 8

// reach sorts p: a participant with a SOAP SingleLogoutService is
// returned to be reached over the back channel; one with a front-channel
// one is queued for the browser when front is set; any other marks the
// chain partial.
func (l *SLO) reach(c *Chain, p store.Participant, front bool, now time.Time) (soapHop, bool) {
	sp, err := l.sso.lookupSP(p.ProviderID, now)
	if err != nil {
		c.fail(p.ProviderID, bindingName(""), err)
		return soapHop{}, false
	}
	if ep, err := sp.SingleLogoutService(samlp.BindingSOAP); err == nil {
		return soapHop{p: p, sp: sp, loc: ep.Location}, true
	}
	_, err = frontEndpoint(sp)
	switch {
	case err == nil && front:
		c.Queue = append(c.Queue, p)
	case err == nil:
		c.fail(p.ProviderID, bindingName(""), Errorf(CodeUnsupportedBinding, "no SOAP SingleLogoutService, and no browser to take the front channel"))
	default:
		c.fail(p.ProviderID, bindingName(""), Wrap(CodeUnsupportedBinding, err, "no SingleLogoutService to reach"))
	}
	return soapHop{}, false
}

// backChannels sends the hops' LogoutRequests at once, at most
// maxParallelSOAP in flight, each bounded by the SOAP client's timeout:
// a logout waits for its slowest participant, not for their sum. It
// returns each hop's failure, nil where the participant logged out.
func (l *SLO) backChannels(ctx context.Context, hops []soapHop, now time.Time) []error {
	errs := make([]error, len(hops))
	var wg sync.WaitGroup
	slots := make(chan struct{}, maxParallelSOAP)
	for i, h := range hops {
		wg.Add(1)
		slots <- struct{}{}
		go func() {
			defer func() { <-slots; wg.Done() }()
			errs[i] = l.backChannel(ctx, h.p, h.sp, h.loc, now)
		}()
	}
	wg.Wait()
	return errs
}

// frontEndpoint is where a LogoutRequest goes through the browser:
// the SP's HTTP-Redirect SingleLogoutService, else its HTTP-POST one.
func frontEndpoint(sp *md.SPSSODescriptor) (*md.Endpoint, error) {
	for _, b := range []string{samlp.BindingHTTPRedirect, samlp.BindingHTTPPOST} {
		if ep, err := sp.SingleLogoutService(b); err == nil {
			return ep, safeURL(ep.Location)
		}
	}
	return nil, Errorf(CodeACSNotInMetadata, "no front-channel SingleLogoutService")
}

// Next is the chain's next hop: a LogoutRequest for the next queued
// participant, the chain parked under the RelayState it carries; when the
// queue is empty, the LogoutResponse for the initiator, or nil for an
// IdP-initiated logout that is complete. A participant that cannot be
// sent to is skipped and counts as a failure.
func (l *SLO) Next(ctx context.Context, c *Chain, now time.Time) (*Outbound, error) {
	for len(c.Queue) > 0 {
		p := c.Queue[0]
		c.Queue = c.Queue[1:]
		sp, err := l.sso.lookupSP(p.ProviderID, now)
		if err != nil {
			c.fail(p.ProviderID, bindingName(""), err)
			continue
		}
		ep, err := frontEndpoint(sp)
		if err != nil {
			c.fail(p.ProviderID, bindingName(""), err)
			continue
		}
		return l.hop(ctx, c, p, ep, now)
	}
	if c.Initiator == nil {
		return nil, nil
	}
	return l.Reply(c.Initiator, c.status(), now)
}

func (c *Chain) status() samlp.Status {
	if c.Partial {
		return samlp.NewStatus(samlp.StatusResponder, samlp.StatusPartialLogout)
	}
	return samlp.NewStatus(samlp.StatusSuccess, "")
}

// hop sends the browser to p with a LogoutRequest and parks the chain.
func (l *SLO) hop(ctx context.Context, c *Chain, p store.Participant, ep *md.Endpoint, now time.Time) (*Outbound, error) {
	el, id, err := l.logoutRequest(p, ep.Location, now)
	if err != nil {
		return nil, err
	}
	c.Waiting, c.WaitingID = p.ProviderID, id
	handle, err := l.park(ctx, c, now)
	if err != nil {
		return nil, err
	}
	return &Outbound{Binding: ep.Binding, Location: ep.Location, RelayState: handle, Message: el}, nil
}

// logoutRequest is the signed, schema-checked LogoutRequest to p: the
// NameID and SessionIndex it was given (SAML Profiles §4.4.4.1).
func (l *SLO) logoutRequest(p store.Participant, dest string, now time.Time) (*etree.Element, string, error) {
	id, err := l.sso.p.newID()
	if err != nil {
		return nil, "", err
	}
	req := &samlp.LogoutRequest{RequestHeader: samlp.RequestHeader{ID: id, IssueInstant: now, Destination: dest,
		Issuer: &saml.Issuer{Value: l.sso.p.cfg.EntityID}}, NotOnOrAfter: now.Add(l.cfg.ChainLifetime),
		Reason: samlp.LogoutUser, SessionIndexes: []string{p.SessionIndex},
		NameID: &saml.NameID{Value: p.NameID, Format: p.NameIDFormat, NameQualifier: l.sso.p.cfg.EntityID, SPNameQualifier: p.ProviderID}}
	if faultOn(FaultUnsignedLogout) {
		return req.Element(), id, nil
	}
	el, err := l.signChecked(req)
	return el, id, err
}

// signChecked signs m and checks it against the schema before it leaves.
func (l *SLO) signChecked(m samlp.Message) (*etree.Element, error) {
	el, err := samlp.Sign(m, l.sso.signer())
	if err != nil {
		return nil, Wrap(CodeInternal, err, "sign logout message")
	}
	if err := l.sso.cfg.Schema.ValidateElement(el); err != nil {
		return nil, Wrap(CodeInternal, err, "outgoing logout message is not schema-valid")
	}
	return el, nil
}

// park keeps c for ChainLifetime under a fresh random handle.
func (l *SLO) park(ctx context.Context, c *Chain, now time.Time) (string, error) {
	raw, err := l.sso.p.randomBytes(handleBytes)
	if err != nil {
		return "", err
	}
	handle := base64.RawURLEncoding.EncodeToString(raw)
	msg, err := json.Marshal(c)
	if err != nil {
		return "", Wrap(CodeInternal, err, "logout chain")
	}
	a := store.Artifact{Handle: chainPrefix + handle, Issuer: l.sso.p.cfg.EntityID, Recipient: c.Waiting,
		Message: msg, Created: now, Expires: now.Add(l.cfg.ChainLifetime)}
	if err := l.sso.cfg.Pending.PutArtifact(ctx, a); err != nil {
		return "", Wrap(CodeInternal, err, "park logout chain")
	}
	return handle, nil
}

// resume takes the chain handle names, once.
func (l *SLO) resume(ctx context.Context, handle string, now time.Time) (*Chain, error) {
	if handle == "" || len(handle) > maxHandleLen {
		return nil, Errorf(CodeUnknownRequest, "chain handle of %d bytes", len(handle))
	}
	a, err := l.sso.cfg.Pending.TakeArtifact(ctx, chainPrefix+handle, now)
	if errors.Is(err, store.ErrNotFound) {
		return nil, Wrap(CodeUnknownRequest, err, "logout chain")
	}
	if err != nil {
		return nil, Wrap(CodeInternal, err, "take logout chain")
	}
	var c Chain
	if err := json.Unmarshal(a.Message, &c); err != nil || c.Waiting != a.Recipient {
		return nil, Errorf(CodeInternal, "stored logout chain is corrupt")
	}
	return &c, nil
}

// Returned continues the chain a participant's LogoutResponse names by its
// RelayState. The chain comes back with the participant marked failed when
// its response does not verify or is not Success; failure says why (also
// among the chain's Failures). An unknown, used or expired RelayState is
// ErrUnknownRequest.
func (l *SLO) Returned(ctx context.Context, in Inbound, now time.Time) (c *Chain, failure error, err error) {
	if c, err = l.resume(ctx, in.RelayState, now); err != nil {
		return nil, nil, err
	}
	if failure = l.checkReturn(c, in, now); failure != nil {
		c.fail(c.Waiting, bindingName(in.Binding), failure)
	}
	c.Waiting, c.WaitingID = "", ""
	return c, failure, nil
}

// checkReturn checks a front-channel LogoutResponse (SAML Profiles
// §4.4.4.2): from the participant asked, schema-valid, signed by it,
// for the request sent, at this endpoint, and Success.
func (l *SLO) checkReturn(c *Chain, in Inbound, now time.Time) error {
	u, err := peekLogout(in.unverified(), "LogoutResponse")
	if err != nil {
		return err
	}
	if u.Issuer.Value != c.Waiting {
		return Errorf(CodeRequestDenied, "LogoutResponse from %q, asked %q", u.Issuer.Value, c.Waiting)
	}
	sp, err := l.sso.lookupSP(c.Waiting, now)
	if err != nil {
		return err
	}
	if err := l.sso.checkSchema(u.Element); err != nil {
		return err
	}
	resp, err := l.verifyLogoutResponse(in, sp, u)
	if err != nil {
		return err
	}
	return checkLogoutResponse(resp, c.WaitingID, l.sso.cfg.SLOURL)
}

func (l *SLO) verifyLogoutResponse(in Inbound, sp *md.SPSSODescriptor, u *samlp.Unverified) (*samlp.LogoutResponse, error) {
	pol := l.policy(u.Issuer.Value)
	if in.Redirect != nil {
		el, _, err := in.Redirect.Verify(sp.TrustSet(), pol)
		if err != nil {
			return nil, signatureError(err)
		}
		resp, err := samlp.DecodeLogoutResponse(el)
		if err != nil {
			return nil, signatureError(err)
		}
		return resp, nil
	}
	resp, _, err := samlp.VerifyLogoutResponse(u.Element, &dsig.Verifier{Trust: sp.TrustSet(), Policy: pol})
	if err != nil {
		return nil, signatureError(err)
	}
	return resp, nil
}

// checkLogoutResponse checks a verified LogoutResponse against the request
// it answers.
func checkLogoutResponse(resp *samlp.LogoutResponse, requestID, dest string) error {
	switch {
	case resp.InResponseTo != requestID:
		return Errorf(CodeRequestDenied, "InResponseTo %q, sent %q", resp.InResponseTo, requestID)
	case resp.Destination != "" && resp.Destination != dest:
		return Errorf(CodeRequestDenied, "Destination %q, want %q", resp.Destination, dest)
	case !resp.Status.Success():
		return Errorf(CodeRequestDenied, "status %s/%s", resp.Status.Code.Value, resp.Status.Second())
	}
	return nil
}

// Reply is the signed LogoutResponse with status to the SP that sent lr,
// at its reply endpoint, with its RelayState.
func (l *SLO) Reply(lr *LogoutRequest, status samlp.Status, now time.Time) (*Outbound, error) {
	id, err := l.sso.p.newID()
	if err != nil {
		return nil, err
	}
	r := &samlp.LogoutResponse{StatusResponseHeader: samlp.StatusResponseHeader{ID: id, InResponseTo: lr.RequestID,
		IssueInstant: now, Destination: lr.Reply.Location, Issuer: &saml.Issuer{Value: l.sso.p.cfg.EntityID}, Status: status}}
	el, err := l.signChecked(r)
	if err != nil {
		return nil, err
	}
	return &Outbound{Binding: lr.Reply.Binding, Location: lr.Reply.Location, RelayState: lr.RelayState, Message: el}, nil
}

// ErrorReply is the LogoutResponse with the status of cause (StatusFor)
// for lr, or cause itself when nothing may be sent.
func (l *SLO) ErrorReply(lr *LogoutRequest, cause error, now time.Time) (*Outbound, error) {
	st := StatusFor(cause)
	if st.SendNothing || lr == nil {
		return nil, cause
	}
	status := samlp.NewStatus(st.Top, st.Second)
	status.Message = st.Message
	return l.Reply(lr, status, now)
}

// RedirectSigner signs the query of the HTTP-Redirect binding with the
// IdP's signing key and configured randomness.
func (l *SLO) RedirectSigner() *binding.RedirectSigner { return l.sso.p.redirectSigner() }

// policy is the signature policy for sp's messages: SHA-1 only by quirk.
func (l *SLO) policy(sp string) xmlsec.Policy {
	return xmlsec.Policy{AllowSHA1: l.sso.quirks(sp).AllowSHA1}
}

// sharesSessions reports whether provider is the Discovery Service of the
// bootstrap, which reads the sessions it joined from the store the IdP
// writes (ARCHITECTURE "The relay DB is the federation table").
func (p *IdP) sharesSessions(provider string) bool {
	return p.cfg.Discovery != nil && p.cfg.Discovery.EntityID == provider
}
