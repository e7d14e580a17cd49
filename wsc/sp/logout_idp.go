package sp

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/binding"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/store"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// IdPLogout is a LogoutRequest of the IdP, authenticated: the portal ends
// every session it keeps for NameID at this IdP whose SessionIndex is one
// of SessionIndexes (all of that NameID's sessions when there is none;
// SAML Core §3.7.1), then answers. Which sessions those are is the
// portal's bookkeeping, not the engine's.
type IdPLogout struct {
	RequestID      string
	NameID         *saml.NameID // nil when the request failed a check of its subject
	SessionIndexes []string
	Reason         string
	// Binding is samlp.BindingHTTPRedirect (answer with
	// LogoutResponseURL) or samlp.BindingSOAP (ReceiveLogoutSOAP answers).
	Binding string
	// RelayState is the IdP's, returned with the answer.
	RelayState string
}

// ReceiveLogoutRequest checks a LogoutRequest of the IdP received at the
// SLOURL over HTTP-Redirect (SAML Profiles §4.4.4.1; SAML2.md §5), rawQuery
// being the query exactly as received: schema-valid, from the IdP,
// query-signed by it (ErrSignature), then checkLogoutRequest. A request
// that was authenticated but fails a later check is returned with the
// error, so that the portal answers it: LogoutResponseURL(l,
// LogoutStatus(err)); with a nil IdPLogout there is nobody to answer, and
// the portal shows an error page.
func (s *SP) ReceiveLogoutRequest(ctx context.Context, rawQuery string) (*IdPLogout, error) {
	now := s.now()
	m, el, err := s.readRedirect(rawQuery, binding.ParamRequest, "LogoutRequest", now)
	if err != nil {
		return nil, err
	}
	req, err := samlp.DecodeLogoutRequest(el)
	if err != nil {
		return nil, wrap(KindMalformed, err, "LogoutRequest")
	}
	l := newIdPLogout(req, samlp.BindingHTTPRedirect, m.RelayState)
	l.NameID, err = s.checkLogoutRequest(ctx, req, l.Binding, now)
	return l, err
}

func newIdPLogout(req *samlp.LogoutRequest, b, relayState string) *IdPLogout {
	return &IdPLogout{RequestID: req.ID, SessionIndexes: req.SessionIndexes, Reason: req.Reason, Binding: b,
		RelayState: relayState}
}

// checkLogoutRequest checks an authenticated LogoutRequest of the IdP and
// returns its subject:
//   - Destination is the SLOURL on the front channel, where it is
//     required, and the SOAPSLOURL on SOAP when present (ErrDestination);
//   - IssueInstant is no further ahead than Skew (ErrNotYetValid) and no
//     older than RequestLifetime and Skew, and NotOnOrAfter has not passed
//     (ErrExpired);
//   - a persistent NameID of this IdP for this SP, plain or encrypted
//     (ErrSubject, ErrDecrypt);
//   - its ID was never seen (ErrReplay).
func (s *SP) checkLogoutRequest(ctx context.Context, req *samlp.LogoutRequest, b string, now time.Time) (*saml.NameID, error) {
	if err := s.checkLogoutDestination(req.Destination, b); err != nil {
		return nil, err
	}
	expiry, err := s.checkLogoutTimes(req, now)
	if err != nil {
		return nil, err
	}
	nid, err := s.logoutSubject(req)
	if err != nil {
		return nil, err
	}
	key := store.NewReplayKey(store.ReplayRequestID, s.cfg.IdP, req.ID)
	switch err := s.cfg.Store.CheckAndInsert(ctx, key, expiry, now); {
	case errors.Is(err, store.ErrReplay):
		return nil, wrap(KindReplay, err, "LogoutRequest "+req.ID)
	case err != nil:
		return nil, wrap(KindInternal, err, "replay cache")
	}
	return nid, nil
}

func (s *SP) checkLogoutDestination(dest, b string) error {
	if b != samlp.BindingSOAP {
		return s.checkFrontDestination(dest)
	}
	if dest != "" && dest != s.cfg.SOAPSLOURL {
		return errorf(KindDestination, "Destination %q, the SOAP SingleLogoutService is %q", dest, s.cfg.SOAPSLOURL)
	}
	return nil
}

// checkLogoutTimes checks IssueInstant and NotOnOrAfter and returns how
// long the request's ID must be remembered.
func (s *SP) checkLogoutTimes(req *samlp.LogoutRequest, now time.Time) (time.Time, error) {
	skew := s.cfg.Skew
	switch {
	case req.IssueInstant.After(now.Add(skew)):
		return time.Time{}, errorf(KindNotYetValid, "IssueInstant %s", req.IssueInstant.Format(time.RFC3339))
	case req.IssueInstant.Before(now.Add(-skew - s.cfg.RequestLifetime)):
		return time.Time{}, errorf(KindExpired, "IssueInstant %s", req.IssueInstant.Format(time.RFC3339))
	case !req.NotOnOrAfter.IsZero() && !now.Add(-skew).Before(req.NotOnOrAfter):
		return time.Time{}, errorf(KindExpired, "NotOnOrAfter %s has passed", req.NotOnOrAfter.Format(time.RFC3339))
	}
	return later(req.NotOnOrAfter, req.IssueInstant.Add(s.cfg.RequestLifetime)).Add(skew), nil
}

// logoutSubject returns the request's NameID, decrypted when it came as an
// EncryptedID.
func (s *SP) logoutSubject(req *samlp.LogoutRequest) (*saml.NameID, error) {
	n := req.NameID
	if req.EncryptedID != nil {
		var err error
		if n, err = req.EncryptedID.Decrypt(&s.decrypter); err != nil {
			return nil, wrap(KindDecrypt, err, "EncryptedID")
		}
	}
	if n == nil {
		return nil, errorf(KindSubject, "no NameID")
	}
	return n, s.checkNameID(n)
}

// LogoutResponseURL answers a LogoutRequest that ReceiveLogoutRequest
// returned: a LogoutResponse with status (LogoutStatus of the outcome),
// signed over HTTP-Redirect to the IdP's SingleLogoutService
// (ResponseLocation when given), with the IdP's RelayState. The portal
// sends the browser there.
func (s *SP) LogoutResponseURL(l *IdPLogout, status samlp.Status) (string, error) {
	now := s.now()
	if l == nil || l.RequestID == "" {
		return "", errorf(KindInternal, "no LogoutRequest to answer")
	}
	ep, err := s.sloEndpoint(now)
	if err != nil {
		return "", err
	}
	loc := ep.Location
	if ep.ResponseLocation != "" {
		loc = ep.ResponseLocation
	}
	r, err := s.logoutResponse(l, status, loc, now)
	if err != nil {
		return "", err
	}
	return s.redirectURL(loc, r, l.RelayState)
}

func (s *SP) logoutResponse(l *IdPLogout, status samlp.Status, dest string, now time.Time) (*samlp.LogoutResponse, error) {
	id, err := saml.NewID(s.cfg.Rand)
	if err != nil {
		return nil, wrap(KindInternal, err, "response ID")
	}
	return &samlp.LogoutResponse{StatusResponseHeader: samlp.StatusResponseHeader{ID: id, InResponseTo: l.RequestID,
		IssueInstant: now, Destination: dest, Issuer: &saml.Issuer{Value: s.cfg.EntityID}, Status: status}}, nil
}

// SOAPReply is the answer to a back-channel request: a SOAP envelope to
// send with HTTP 200, or, when Fault is set, with HTTP 500 (SAML Bindings
// §3.2.3.3: a SOAP fault only when no SAML answer can be given). Logout is
// the request when the portal's end function ended its sessions.
type SOAPReply struct {
	Envelope []byte
	Fault    bool
	Logout   *IdPLogout
}

// ReceiveLogoutSOAP answers a LogoutRequest of the IdP received at the
// SOAPSLOURL (SAML Profiles §4.4.3.4, back channel), body being the HTTP
// request body. The envelope must carry no header block that must be
// understood; the request must be schema-valid, from the IdP, signed by
// it (enveloped signature: the IdP signs every LogoutRequest), and pass
// checkLogoutRequest. Then end ends the portal's sessions of the
// IdPLogout: nil when none is left (ended now, or before), an error when
// some could not be ended.
//
// The reply is a LogoutResponse signed by the SP: Success, Responder when
// end failed, or LogoutStatus of a failed check. A request that cannot be
// authenticated as the IdP's gets a SOAP fault instead, nothing signed.
// The error says why a request was refused, for the portal's log; the
// reply is nil only when the SP could not sign its answer.
func (s *SP) ReceiveLogoutSOAP(ctx context.Context, body io.Reader, end func(context.Context, *IdPLogout) error) (*SOAPReply, error) {
	now := s.now()
	l, err := s.readSOAPLogout(ctx, body, now)
	if l == nil {
		return faultReply(err), err
	}
	if err == nil {
		if err = end(ctx, l); err != nil {
			err = wrap(KindInternal, err, "ending the sessions")
		}
	}
	status := LogoutStatus(err)
	env, err2 := s.soapLogoutResponse(l, status, now)
	if err2 != nil {
		return nil, errors.Join(err, err2)
	}
	reply := &SOAPReply{Envelope: env}
	if err == nil {
		reply.Logout = l
	}
	return reply, err
}

// readSOAPLogout decodes and authenticates a back-channel LogoutRequest;
// the IdPLogout is nil when the request was not authenticated.
func (s *SP) readSOAPLogout(ctx context.Context, body io.Reader, now time.Time) (*IdPLogout, error) {
	env, err := (&binding.SOAPDecoder{Understood: []string{}}).Decode(body)
	if err != nil {
		return nil, wrap(KindMalformed, err, "SOAP envelope")
	}
	if err := s.cfg.Schema.ValidateElement(env.Body); err != nil {
		return nil, wrap(KindMalformed, err, "schema")
	}
	u, err := peek(env.Body, "LogoutRequest")
	if err != nil {
		return nil, err
	}
	if err := s.checkIssuer(u.Issuer); err != nil {
		return nil, err
	}
	d, err := s.idp(now)
	if err != nil {
		return nil, err
	}
	req, _, err := samlp.VerifyLogoutRequest(env.Body, verifier(d))
	if err != nil {
		return nil, verifyError(err, "LogoutRequest")
	}
	l := newIdPLogout(req, samlp.BindingSOAP, "")
	l.NameID, err = s.checkLogoutRequest(ctx, req, l.Binding, now)
	return l, err
}

// soapLogoutResponse is the signed, schema-checked LogoutResponse in its
// envelope. It has no Destination: SOAP answers in place.
func (s *SP) soapLogoutResponse(l *IdPLogout, status samlp.Status, now time.Time) ([]byte, error) {
	r, err := s.logoutResponse(l, status, "", now)
	if err != nil {
		return nil, err
	}
	el, err := samlp.Sign(r, s.signer)
	if err != nil {
		return nil, wrap(KindInternal, err, "sign LogoutResponse")
	}
	if err := s.cfg.Schema.ValidateElement(el); err != nil {
		return nil, wrap(KindInternal, err, "outgoing LogoutResponse is not schema-valid")
	}
	return envelope(el)
}

// faultReply is the SOAP fault for a request that was not authenticated:
// the decoder's own fault (MustUnderstand, VersionMismatch), Server when
// the SP could not judge it (metadata), Client otherwise.
func faultReply(err error) *SOAPReply {
	var f *binding.Fault
	if !errors.As(err, &f) {
		f = &binding.Fault{Code: binding.FaultClient, String: KindOf(err).String()}
		if k := KindOf(err); k == KindInternal || k == KindMetadata {
			f.Code = binding.FaultServer
		}
	}
	b, _ := envelope(f.Element())
	return &SOAPReply{Envelope: b, Fault: true}
}

func envelope(body *etree.Element) ([]byte, error) {
	b, err := xmlsec.Serialize((&binding.Envelope{Body: body}).Element())
	if err != nil {
		return nil, wrap(KindInternal, err, "SOAP envelope")
	}
	return b, nil
}
