package idp

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/store"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
)

// Defaults of the zero SLOConfig.
const (
	// DefaultChainLifetime is how long a front-channel logout chain waits
	// for the browser to come back from one participant.
	DefaultChainLifetime = 5 * time.Minute
	// DefaultBackChannelTimeout bounds one SOAP LogoutRequest to a
	// participant.
	DefaultBackChannelTimeout = 10 * time.Second
)

// SLOConfig is what Single Logout runs on, besides the SSO engine (whose
// SSOConfig.SLOURL and SLOSOAPURL are the endpoints).
type SLOConfig struct {
	// Client sends the back-channel (SOAP) LogoutRequests, with its
	// transport and TLS configuration; nil means http.DefaultTransport.
	// Whatever the client says, no redirect is followed and each request
	// lasts at most DefaultBackChannelTimeout (soapClient).
	Client *HTTPClient
	// ChainLifetime bounds each hop of a front-channel chain; zero takes
	// DefaultChainLifetime.
	ChainLifetime time.Duration
}

// SLO is the Single Logout engine (SAML Profiles §4.4; SAML2.md §5) over
// the SSO engine: it accepts an SP's LogoutRequest, ends the IdP session,
// propagates the logout to every other participant, over SOAP to those
// whose metadata has a SOAP SingleLogoutService and through the browser to
// the others, and answers the initiator. It is safe for concurrent use.
//
// Every LogoutRequest must be signed, whatever AuthnRequestsSigned says:
// SAML Profiles §4.4.4.1 makes the requester authenticate itself "either
// by signing the <LogoutRequest> message or using a binding-specific
// mechanism"; the front-channel bindings have no mechanism of their own,
// and the SOAP endpoint sits on the main listener, which asks for no client
// certificate. The same holds for the LogoutResponses of participants
// (§4.4.4.2): an unsigned one counts as a failure (PartialLogout).
type SLO struct {
	sso  *SSO
	cfg  SLOConfig
	soap *soapClient
}

// NewSLO returns the SLO engine over sso, whose configuration must name
// both SingleLogoutService URLs.
func NewSLO(sso *SSO, cfg SLOConfig) (*SLO, error) {
	if sso == nil || sso.cfg.SLOURL == "" || sso.cfg.SLOSOAPURL == "" {
		return nil, errors.New("slo config: the SSO engine must set SLOURL and SLOSOAPURL")
	}
	if cfg.ChainLifetime < 0 || cfg.ChainLifetime > MaxLifetime {
		return nil, fmt.Errorf("slo config: ChainLifetime %v is out of range", cfg.ChainLifetime)
	}
	cfg.ChainLifetime = orDefault(cfg.ChainLifetime, DefaultChainLifetime)
	return &SLO{sso: sso, cfg: cfg, soap: newSOAPClient(cfg.Client, DefaultBackChannelTimeout, sso.envelopeBytes)}, nil
}

// sloEndpoints are the SingleLogoutService endpoints the metadata
// publishes: HTTP-Redirect and HTTP-POST (front channel), SOAP (back
// channel); none when SLO is not configured.
func (s *SSO) sloEndpoints() []md.Endpoint {
	if s.cfg.SLOURL == "" {
		return nil
	}
	return []md.Endpoint{{Binding: samlp.BindingHTTPRedirect, Location: s.cfg.SLOURL},
		{Binding: samlp.BindingHTTPPOST, Location: s.cfg.SLOURL}, {Binding: samlp.BindingSOAP, Location: s.cfg.SLOSOAPURL}}
}

// LogoutRequest is an SP's LogoutRequest as far as it was accepted: whom
// to answer, where and how; SessionID is set once the request passed
// every check.
type LogoutRequest struct {
	SP         string      `json:"sp"`
	RequestID  string      `json:"id,omitempty"`
	RelayState string      `json:"relayState,omitempty"`
	Reply      md.Endpoint `json:"reply"` // Binding and Location of the answer; SOAP answers in place
	SessionID  string      `json:"-"`
}

// AcceptLogout checks an SP's LogoutRequest (SAML Profiles §4.4.4.1;
// SAML2.md §2, §5): entity Issuer in the metadata with a SingleLogoutService
// to answer at, schema, version, signature (always required, see SLO),
// Destination, IssueInstant and NotOnOrAfter, replay of the ID, then the
// session: found by a SessionIndex the SP holds, or, without one, the
// browser's session (cookie, nil when none) in which the SP participates;
// the NameID must be the one the SP was given. On failure the
// LogoutRequest, when not nil and the error is not SendNothing, says where
// a LogoutResponse with the error's status may go.
func (l *SLO) AcceptLogout(ctx context.Context, in Inbound, cookie *Session, now time.Time) (*LogoutRequest, error) {
	u, err := peekLogout(in.unverified(), "LogoutRequest")
	if err != nil {
		return nil, err
	}
	sp, err := l.sso.lookupSP(u.Issuer.Value, now)
	if err != nil {
		return nil, err
	}
	lr := &LogoutRequest{SP: u.Issuer.Value, RequestID: u.ID, RelayState: in.RelayState}
	if lr.Reply, err = replyEndpoint(sp, in.Binding); err != nil {
		return nil, err
	}
	req, err := l.checkLogout(ctx, in, sp, u, now)
	if errors.Is(err, ErrInvalidRequest) {
		lr.RequestID = ""
	}
	if err != nil {
		return lr, err
	}
	sess, err := l.findSession(ctx, req, cookie)
	if err != nil {
		return lr, err
	}
	lr.SessionID = sess.ID
	return lr, nil
}

// peekLogout reads the unverified header of a logout message named name,
// with an entity Issuer, for the key lookup.
func peekLogout(el *etree.Element, name string) (*samlp.Unverified, error) {
	u, err := samlp.Peek(el)
	if err != nil {
		return nil, Wrap(CodeInvalidRequest, err, "peek")
	}
	if u.Name != name {
		return nil, Errorf(CodeInvalidRequest, "a %s, not a %s", u.Name, name)
	}
	if u.Issuer == nil || u.Issuer.Value == "" || u.Issuer.Format != "" && u.Issuer.Format != saml.NameIDEntity {
		return nil, Errorf(CodeUnknownSP, "no entity Issuer")
	}
	return u, nil
}

// replyEndpoint is the SP's SingleLogoutService the answer goes to: SOAP
// answers in place; a front-channel request is answered with the binding
// it came by when the SP lists it, else HTTP-Redirect, else HTTP-POST, at
// its ResponseLocation when set (SAML Metadata §2.2.2). None, or one that
// is not https, is a page and nothing sent.
func replyEndpoint(sp *md.SPSSODescriptor, reqBinding string) (md.Endpoint, error) {
	if reqBinding == samlp.BindingSOAP {
		return md.Endpoint{Binding: samlp.BindingSOAP}, nil
	}
	for _, b := range []string{reqBinding, samlp.BindingHTTPRedirect, samlp.BindingHTTPPOST} {
		ep, err := sp.SingleLogoutService(b)
		if err != nil {
			continue
		}
		loc := ep.Location
		if ep.ResponseLocation != "" {
			loc = ep.ResponseLocation
		}
		return md.Endpoint{Binding: b, Location: loc}, safeURL(loc)
	}
	return md.Endpoint{}, Errorf(CodeACSNotInMetadata, "no front-channel SingleLogoutService")
}

// checkLogout runs schema, version, signature, Destination, freshness
// and replay on the request.
func (l *SLO) checkLogout(ctx context.Context, in Inbound, sp *md.SPSSODescriptor, u *samlp.Unverified, now time.Time) (*samlp.LogoutRequest, error) {
	if err := l.sso.checkSchema(u.Element); err != nil {
		return nil, err
	}
	if u.Version != saml.Version {
		return nil, Errorf(CodeVersionMismatch, "version %q", u.Version)
	}
	req, err := l.verifyLogout(in, sp, u)
	if err != nil {
		return nil, err
	}
	if err := l.checkLogoutDestination(req.Destination, in.Binding); err != nil {
		return nil, err
	}
	if err := l.checkLogoutTimes(req, now); err != nil {
		return nil, err
	}
	return req, l.sso.checkReplay(ctx, &req.RequestHeader, now)
}

// verifyLogout checks the signature, required on every binding (see SLO),
// and decodes only what was verified.
func (l *SLO) verifyLogout(in Inbound, sp *md.SPSSODescriptor, u *samlp.Unverified) (*samlp.LogoutRequest, error) {
	pol := l.policy(u.Issuer.Value)
	if in.Redirect != nil {
		if !in.Redirect.Signed() {
			return nil, Errorf(CodeRequestDenied, "unsigned Redirect LogoutRequest from %q", u.Issuer.Value)
		}
		el, _, err := in.Redirect.Verify(sp.TrustSet(), pol)
		if err != nil {
			return nil, signatureError(err)
		}
		req, err := samlp.DecodeLogoutRequest(el)
		if err != nil {
			return nil, signatureError(err)
		}
		return req, nil
	}
	if !u.Signed {
		return nil, Errorf(CodeRequestDenied, "unsigned LogoutRequest from %q", u.Issuer.Value)
	}
	req, _, err := samlp.VerifyLogoutRequest(u.Element, &dsig.Verifier{Trust: sp.TrustSet(), Policy: pol})
	if err != nil {
		return nil, signatureError(err)
	}
	return req, nil
}

// checkLogoutDestination enforces SAML Bindings §3.4.5.2 and §3.5.5.2 on
// the front channel (a signed message carries the Destination it was sent
// to) and, when present, on SOAP.
func (l *SLO) checkLogoutDestination(dest, reqBinding string) error {
	want := l.sso.cfg.SLOURL
	if reqBinding == samlp.BindingSOAP {
		want = l.sso.cfg.SLOSOAPURL
	}
	switch {
	case dest == "" && reqBinding != samlp.BindingSOAP:
		return Errorf(CodeRequestDenied, "front-channel LogoutRequest without Destination")
	case dest != "" && dest != want:
		return Errorf(CodeRequestDenied, "Destination %q, this endpoint is %q", dest, want)
	}
	return nil
}

// checkLogoutTimes refuses an IssueInstant further than the skew from
// now and a NotOnOrAfter that has passed (SAML Core §3.7.1).
func (l *SLO) checkLogoutTimes(req *samlp.LogoutRequest, now time.Time) error {
	if err := l.sso.checkFresh(&req.RequestHeader, now); err != nil {
		return err
	}
	if !req.NotOnOrAfter.IsZero() && !now.Before(req.NotOnOrAfter) {
		return Errorf(CodeRequestDenied, "NotOnOrAfter %s has passed", req.NotOnOrAfter.Format(time.RFC3339))
	}
	return nil
}

// findSession finds the session the request ends: the one of its first
// SessionIndex the SP holds, or without any, the browser's session. The
// issuer must participate in it with the NameID the request names;
// anything else is UnknownPrincipal.
func (l *SLO) findSession(ctx context.Context, req *samlp.LogoutRequest, cookie *Session) (*Session, error) {
	sp := req.Issuer.Value
	sess, err := l.sessionOf(ctx, sp, req.SessionIndexes, cookie)
	if err != nil {
		return nil, err
	}
	part, ok := sess.Participant(sp)
	if !ok {
		return nil, Errorf(CodeUnknownPrincipal, "%q does not participate in the session", sp)
	}
	return sess, l.sameNameID(req, part)
}

func (l *SLO) sessionOf(ctx context.Context, sp string, indexes []string, cookie *Session) (*Session, error) {
	if len(indexes) == 0 {
		if cookie == nil {
			return nil, Errorf(CodeUnknownPrincipal, "no SessionIndex and no browser session")
		}
		return cookie, nil
	}
	sess, err := l.sso.p.SessionByIndex(ctx, sp, indexes[0])
	if errors.Is(err, ErrNoSession) {
		return nil, Wrap(CodeUnknownPrincipal, err, "SessionIndex "+indexes[0])
	}
	return sess, err
}

// sameNameID compares the request's NameID with the one the participant
// was given (SAML2.md §5, §15 item 9): value and format, and qualifiers
// when present (absent ones default to the IdP and the SP). An
// EncryptedID is not supported: this IdP never issues one.
func (l *SLO) sameNameID(req *samlp.LogoutRequest, part store.Participant) error {
	n := req.NameID
	if n == nil {
		return Errorf(CodeRequestUnsupported, "EncryptedID in a LogoutRequest")
	}
	switch {
	case n.Value != part.NameID:
		return Errorf(CodeUnknownPrincipal, "NameID %q is not the participant's", n.Value)
	case n.Format != "" && n.Format != part.NameIDFormat:
		return Errorf(CodeUnknownPrincipal, "NameID format %q, want %q", n.Format, part.NameIDFormat)
	case n.NameQualifier != "" && n.NameQualifier != l.sso.p.cfg.EntityID:
		return Errorf(CodeUnknownPrincipal, "NameQualifier %q", n.NameQualifier)
	case n.SPNameQualifier != "" && n.SPNameQualifier != part.ProviderID:
		return Errorf(CodeUnknownPrincipal, "SPNameQualifier %q", n.SPNameQualifier)
	}
	return nil
}
