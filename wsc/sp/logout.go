package sp

import (
	"context"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/binding"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// LogoutRequest is an SP-initiated LogoutRequest on its way: the portal
// ends its own session, then sends the browser to URL. Its answer comes
// back to the SLOURL (ConsumeLogoutResponse) until Expires.
type LogoutRequest struct {
	ID      string
	URL     string
	Expires time.Time
}

// LogoutResult is the IdP's verified answer to a LogoutRequest of this
// SP. A status other than Success is a result, not an error: the portal's
// session is over either way, and it tells the citizen whether every other
// service was reached (Partial: some were not).
type LogoutResult struct {
	RequestID  string
	Status     samlp.Status
	RelayState string // the one given to StartLogout
}

// Success reports whether the IdP ended the session at every participant.
func (r *LogoutResult) Success() bool { return r.Status.Success() }

// Partial reports Responder/PartialLogout: the IdP's session ended, but
// some participant could not be reached or refused (SAML Core §3.7.3.2).
func (r *LogoutResult) Partial() bool { return r.Status.Second() == samlp.StatusPartialLogout }

// StartLogout makes a signed LogoutRequest for the IdP's HTTP-Redirect
// SingleLogoutService (SAML Profiles §4.4.3.1): the NameID exactly as the
// assertion gave it (a plain NameID: Renkei's IdP refuses an EncryptedID,
// which it never issues) and the SessionIndex, with NotOnOrAfter and the
// user Reason. Only l.NameID and l.SessionIndex are read, so a portal
// that keeps its sessions elsewhere passes &Login{NameID: n, SessionIndex: i}.
// The request is kept in the store for RequestLifetime, for
// ConsumeLogoutResponse to take once.
func (s *SP) StartLogout(ctx context.Context, l *Login, relayState string) (*LogoutRequest, error) {
	now := s.now()
	if err := checkRelayStateOut(relayState); err != nil {
		return nil, err
	}
	if l == nil || l.NameID == nil || l.NameID.Value == "" {
		return nil, errorf(KindSubject, "no NameID to log out")
	}
	ep, err := s.sloEndpoint(now)
	if err != nil {
		return nil, err
	}
	id, err := saml.NewID(s.cfg.Rand)
	if err != nil {
		return nil, wrap(KindInternal, err, "request ID")
	}
	nid := *l.NameID
	expires := now.Add(s.cfg.RequestLifetime)
	req := &samlp.LogoutRequest{RequestHeader: samlp.RequestHeader{ID: id, IssueInstant: now, Destination: ep.Location,
		Issuer: &saml.Issuer{Value: s.cfg.EntityID}}, NotOnOrAfter: expires, Reason: samlp.LogoutUser, NameID: &nid}
	if l.SessionIndex != "" {
		req.SessionIndexes = []string{l.SessionIndex}
	}
	u, err := s.redirectURL(ep.Location, req, relayState)
	if err != nil {
		return nil, err
	}
	if err := s.park(ctx, prefixLogout, id, pending{RelayState: relayState}, now, expires); err != nil {
		return nil, err
	}
	return &LogoutRequest{ID: id, URL: u, Expires: expires}, nil
}

// sloEndpoint is the IdP's HTTP-Redirect SingleLogoutService.
func (s *SP) sloEndpoint(now time.Time) (*md.Endpoint, error) {
	d, err := s.idp(now)
	if err != nil {
		return nil, err
	}
	ep, err := d.SingleLogoutService(samlp.BindingHTTPRedirect)
	if err != nil {
		return nil, wrap(KindMetadata, err, s.cfg.IdP)
	}
	return ep, nil
}

// IsLogoutResponse reports whether a query received at the SLOURL carries
// a SAMLResponse (for ConsumeLogoutResponse) rather than a SAMLRequest
// (for ReceiveLogoutRequest): both bindings' messages share the endpoint.
func IsLogoutResponse(rawQuery string) bool {
	for part := range strings.SplitSeq(rawQuery, "&") {
		if name, _, _ := strings.Cut(part, "="); name == binding.ParamResponse {
			return true
		}
	}
	return false
}

// ConsumeLogoutResponse checks the IdP's LogoutResponse received at the
// SLOURL over HTTP-Redirect (SAML Profiles §4.4.4.2), rawQuery being the
// query exactly as received: schema-valid, from the IdP, query-signed by
// it (an unsigned one is ErrSignature), Destination the SLOURL, answering
// a LogoutRequest of this SP, taken once (ErrUnknownRequest), with its
// RelayState.
func (s *SP) ConsumeLogoutResponse(ctx context.Context, rawQuery string) (*LogoutResult, error) {
	now := s.now()
	m, el, err := s.readRedirect(rawQuery, binding.ParamResponse, "LogoutResponse", now)
	if err != nil {
		return nil, err
	}
	resp, err := samlp.DecodeLogoutResponse(el)
	if err != nil {
		return nil, wrap(KindMalformed, err, "LogoutResponse")
	}
	if err := s.checkFrontDestination(resp.Destination); err != nil {
		return nil, err
	}
	if resp.InResponseTo == "" {
		return nil, errorf(KindUnsolicited, "LogoutResponse %s answers no request", resp.ID)
	}
	pend, err := s.take(ctx, prefixLogout, resp.InResponseTo, now)
	if err != nil {
		return nil, err
	}
	if err := checkRelayState(m.RelayState, pend); err != nil {
		return nil, err
	}
	return &LogoutResult{RequestID: resp.InResponseTo, Status: resp.Status, RelayState: pend.RelayState}, nil
}

// readRedirect decodes an HTTP-Redirect message of the IdP to the SLOURL:
// the binding parameter param, the schema, a samlp message named name
// from the IdP, and the query signature by its metadata keys under the
// strict policy. It returns the message element only once authenticated.
func (s *SP) readRedirect(rawQuery, param, name string, now time.Time) (*binding.RedirectMessage, *etree.Element, error) {
	m, err := (&binding.RedirectDecoder{}).Decode(rawQuery)
	if err != nil {
		return nil, nil, wrap(KindMalformed, err, "HTTP-Redirect")
	}
	if m.Param != param {
		return nil, nil, errorf(KindMalformed, "%s where %s was expected", m.Param, param)
	}
	if err := s.cfg.Schema.ValidateElement(m.Unverified()); err != nil {
		return nil, nil, wrap(KindMalformed, err, "schema")
	}
	u, err := peek(m.Unverified(), name)
	if err != nil {
		return nil, nil, err
	}
	if err := s.checkIssuer(u.Issuer); err != nil {
		return nil, nil, err
	}
	d, err := s.idp(now)
	if err != nil {
		return nil, nil, err
	}
	if s.fault(FaultAcceptUnsignedLogout) && name == "LogoutRequest" && !m.Signed() {
		el, err := m.UnsignedElement()
		return m, el, err
	}
	el, _, err := m.Verify(d.TrustSet(), xmlsec.Policy{})
	if err != nil {
		return nil, nil, verifyError(err, name)
	}
	return m, el, nil
}

// peek reads the unverified header of a samlp message named name, for
// the issuer check and the key lookup.
func peek(el *etree.Element, name string) (*samlp.Unverified, error) {
	u, err := samlp.Peek(el)
	switch {
	case err != nil:
		return nil, wrap(KindMalformed, err, name)
	case u.Name != name:
		return nil, errorf(KindMalformed, "a samlp:%s where a samlp:%s was expected", u.Name, name)
	}
	return u, nil
}

// checkFrontDestination wants the SLOURL as the Destination of a message
// received through the browser: a signed front-channel message must carry
// one (SAML Bindings §3.4.5.2).
func (s *SP) checkFrontDestination(dest string) error {
	if dest != s.cfg.SLOURL {
		return errorf(KindDestination, "Destination %q, the SingleLogoutService is %q", dest, s.cfg.SLOURL)
	}
	return nil
}
