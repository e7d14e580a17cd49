package client

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/secmech"
	"github.com/renkei-idwsf/renkei/xmlsec/wire"
)

// selection is the mechanism and token chosen from an EPR.
type selection struct {
	mechanism wsf.Mechanism
	token     *etree.Element
	peer      *wsf.Peer
}

// selectContext picks, from the EPR's disco:SecurityContext elements in
// order, the first mechanism the client supports, with that context's
// security token (IDWSF2 §3.5); the provider must be in the metadata. An
// EPR offering nothing the client supports is InappropriateCredentials.
func (c *Client) selectContext(epr *wsf.EPR) (selection, error) {
	md := epr.Metadata
	if md == nil || md.ProviderID == "" {
		return selection{}, wsf.Errorf(wsf.ProviderIDNotValid, "EPR for %s names no provider", epr.Address)
	}
	peer, err := c.cfg.Directory.Peer(context.Background(), md.ProviderID)
	if err != nil {
		return selection{}, err
	}
	for _, sc := range md.SecurityContexts {
		if sel, ok := c.fromContext(sc); ok {
			sel.peer = peer
			return sel, nil
		}
	}
	return selection{}, wsf.Errorf(wsf.InappropriateCredentials, "no usable security context in the EPR of %s", md.ProviderID)
}

func (c *Client) fromContext(sc wsf.SecurityContext) (selection, bool) {
	tok := securityToken(sc.Tokens)
	for _, urn := range sc.Mechanisms {
		m, ok := wsf.ParseMechanism(urn)
		if !ok || !supports(c.mechanisms(), m) {
			continue
		}
		info, _ := m.Info()
		if (info.Token == wsf.NoToken) != (tok == nil) {
			continue
		}
		return selection{mechanism: m, token: tok}, true
	}
	return selection{}, false
}

// securityToken returns the first embedded token whose usage is
// SecurityToken; tokens given only by reference are not usable here.
func securityToken(toks []wsf.Token) *etree.Element {
	for _, t := range toks {
		if t.EffectiveUsage() == wsf.UsageSecurityToken && t.Element != nil {
			return t.Element
		}
	}
	return nil
}

func supports(ms []wsf.Mechanism, m wsf.Mechanism) bool {
	for _, x := range ms {
		if x == m {
			return true
		}
	}
	return false
}

// VerifyResponse verifies a response to the request requestID sent to
// epr, as a receiver does: strict parse, mustUnderstand, Framework, the
// EPR's provider as sb:Sender, the schemas unless its profile exempts it,
// its signature by the provider's metadata key covering every required
// part, its Timestamp, and RelatesTo = requestID (InvalidRefToMsgID
// otherwise). Call uses it on every answer; it is exported for responses
// that arrive otherwise. A fault is returned as its typed error.
func (c *Client) VerifyResponse(ctx context.Context, raw []byte, requestID string, epr *wsf.EPR) (*Result, error) {
	env, err := wsf.ParseEnvelope(raw, c.cfg.Limits)
	if err != nil {
		return nil, err
	}
	blocks, err := wsf.CheckMustUnderstand(env.Header)
	if err != nil {
		return nil, err
	}
	peer, err := c.responder(ctx, blocks, epr)
	if err != nil {
		return nil, err
	}
	if !peer.Profile.LenientSchema { // the peer the client called, by its EPR
		if err := wsf.ValidateParsed(c.cfg.Schema, raw); err != nil { // ParseEnvelope accepted raw
			return nil, err
		}
	}
	in := &secmech.Inbound{Envelope: env, Blocks: blocks, Sender: peer, TLS: true}
	if peer.Profile.UnsignedBearer {
		in.Mechanisms = []wsf.Mechanism{wsf.TLSBearer}
	}
	ck := c.checker
	if faultSet.On(FaultAcceptStale) {
		ck.MaxAge, ck.Tokens.Skew = staleWindow, staleWindow
	}
	p, err := ck.VerifyMessage(in, c.now())
	if err != nil {
		return nil, err
	}
	return c.result(p, peer, requestID, epr)
}

// responder reads the response's sb:Sender, which must be the provider
// the EPR names, and finds its metadata.
func (c *Client) responder(ctx context.Context, blocks []wsf.Block, epr *wsf.EPR) (*wsf.Peer, error) {
	h, err := wsf.DecodeHeader(blocks)
	if err != nil {
		return nil, err
	}
	if h.Framework.Version != wsf.FrameworkVersion {
		return nil, wsf.Errorf(wsf.FrameworkVersionMismatch, "response framework %q", h.Framework.Version)
	}
	if epr == nil || epr.Metadata == nil {
		return nil, wsf.Errorf(wsf.ProviderIDNotValid, "no EPR metadata to check the responder against")
	}
	if h.Sender == nil || h.Sender.ProviderID != epr.Metadata.ProviderID {
		return nil, wsf.Errorf(wsf.ProviderIDNotValid, "response not sent by %s", epr.Metadata.ProviderID)
	}
	return c.cfg.Directory.Peer(ctx, h.Sender.ProviderID)
}

// result checks RelatesTo and turns a fault into its typed error.
func (c *Client) result(p *secmech.Protected, peer *wsf.Peer, requestID string, epr *wsf.EPR) (*Result, error) {
	h := p.Header
	if h.RelatesTo != requestID && !faultSet.On(FaultIgnoreRelatesTo) {
		return nil, wsf.Errorf(wsf.InvalidRefToMsgID, "RelatesTo %q, request was %q", h.RelatesTo, requestID)
	}
	if wire.Is(p.Payload, wsf.NSSOAP, "Fault") {
		return nil, faultError(p.Payload, h, epr)
	}
	res := &Result{Sender: peer, Header: h, Payload: p.Payload, EPR: epr}
	if h.EndpointUpdate != nil {
		n, err := updateEPR(epr, h.EndpointUpdate)
		if err != nil {
			return nil, err
		}
		res.EPR = n
	}
	return res, nil
}

// faultError reads a verified fault: a RedirectRequest to the WSP's own
// host becomes *RedirectError (IDWSF2 §2.6 step 3), one to another host an
// error; anything else is the *wsf.Fault.
func faultError(el *etree.Element, h *wsf.Header, epr *wsf.EPR) error {
	f, err := wsf.DecodeFault(el)
	if err != nil {
		return err
	}
	f.EndpointUpdate, f.Credentials = h.EndpointUpdate, h.CredentialsContext
	if f.RedirectURL == "" {
		return f
	}
	if !sameHost(f.RedirectURL, epr.Address) {
		return fmt.Errorf("wsf/client: RedirectRequest to %q, not the host of %s: %w", f.RedirectURL, epr.Address, f)
	}
	return &RedirectError{URL: f.RedirectURL, FaultMessageID: h.MessageID, Fault: f}
}

func sameHost(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	return err1 == nil && err2 == nil && ua.Scheme == "https" && strings.EqualFold(ua.Hostname(), ub.Hostname())
}
