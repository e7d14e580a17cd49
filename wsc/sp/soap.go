package sp

import (
	"context"
	"io"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/binding"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/saml/samlp"
)

// The SP's own requests over the SAML SOAP binding (SAML Bindings §3.2):
// the ECP login of an SP that is its own enhanced client (the reception
// terminal), the back-channel logout it sends when the card leaves, and
// the ManageNameID NewID of an enrolment. Each Start* makes the signed
// request in its envelope and keeps its ID pending; the caller posts it
// (PostSOAP) and hands the answer to the matching Consume*, which takes
// the pending ID once.

// prefixNIM keeps pending ManageNameIDRequests apart.
const prefixNIM = "sp-nimreq:"

// maxSOAPAnswer bounds an answer of the IdP read by the Consume* calls.
const maxSOAPAnswer = 256 << 10

// SOAPRequest is a signed request on its way to the IdP's SOAP endpoint
// URL: Envelope is the HTTP body; ID is what its Consume* call wants back.
type SOAPRequest struct {
	ID       string
	URL      string
	Envelope []byte
	Expires  time.Time
}

// StartECP makes the signed AuthnRequest of the ECP profile (SAML
// Profiles §4.2.4.2) for the IdP's SOAP SingleSignOnService: the
// ECPACSURL with the PAOS binding, a persistent NameID that may be
// created. The SP being its own enhanced client, the envelope carries
// only the request, as the ECP forwards it (§4.2.4.3).
func (s *SP) StartECP(ctx context.Context) (*SOAPRequest, error) {
	now := s.now()
	if s.cfg.ECPACSURL == "" {
		return nil, errorf(KindInternal, "no ECPACSURL configured")
	}
	h, err := s.soapHeader(now, func(d *md.IDPSSODescriptor) (*md.Endpoint, error) {
		return d.SingleSignOnService(samlp.BindingSOAP)
	})
	if err != nil {
		return nil, err
	}
	req := &samlp.AuthnRequest{RequestHeader: h,
		AssertionConsumerServiceURL: s.cfg.ECPACSURL, ProtocolBinding: samlp.BindingPAOS,
		NameIDPolicy: &samlp.NameIDPolicy{Format: saml.NameIDPersistent, AllowCreate: true},
	}
	return s.sendSOAP(ctx, prefixLogin, h, req, now)
}

// ConsumeECP checks the IdP's answer to StartECP's request requestID, as
// the enhanced client and then the SP must (SAML Profiles §4.2.4.4-5):
// the ecp:Response header names the ECPACSURL (else ErrDestination: the
// IdP would send the assertion elsewhere), then the samlp:Response in the
// Body passes every check of Consume, with the ECPACSURL as its ACS. A
// SOAP fault of the IdP is ErrMalformed, wrapping the *binding.Fault.
func (s *SP) ConsumeECP(ctx context.Context, answer io.Reader, requestID string) (*Login, error) {
	now := s.now()
	env, err := (&binding.SOAPDecoder{MaxBody: maxSOAPAnswer}).Decode(answer)
	if err != nil {
		return nil, wrap(KindMalformed, err, "ECP answer")
	}
	h, err := binding.ReadECPHeaders(env, binding.ECPQuirks{})
	if err != nil {
		return nil, wrap(KindMalformed, err, "ECP headers")
	}
	if h.Response == nil {
		return nil, errorf(KindMalformed, "no ecp:Response header")
	}
	if err := binding.CheckECPResponse(&binding.PAOSRequest{ResponseConsumerURL: s.cfg.ECPACSURL}, h.Response); err != nil {
		return nil, wrap(KindDestination, err, "ecp:Response")
	}
	return s.consume(ctx, env.Body, "", requestID, s.cfg.ECPACSURL, now)
}

// StartLogoutSOAP makes a signed LogoutRequest for the IdP's SOAP
// SingleLogoutService (SAML Profiles §4.4.3.1, back channel): what
// StartLogout sends through the browser, for an SP with no browser.
func (s *SP) StartLogoutSOAP(ctx context.Context, l *Login) (*SOAPRequest, error) {
	now := s.now()
	if l == nil || l.NameID == nil || l.NameID.Value == "" {
		return nil, errorf(KindSubject, "no NameID to log out")
	}
	h, err := s.soapHeader(now, func(d *md.IDPSSODescriptor) (*md.Endpoint, error) {
		return d.SingleLogoutService(samlp.BindingSOAP)
	})
	if err != nil {
		return nil, err
	}
	nid := *l.NameID
	req := &samlp.LogoutRequest{RequestHeader: h, NotOnOrAfter: now.Add(s.cfg.RequestLifetime), Reason: samlp.LogoutUser, NameID: &nid}
	if l.SessionIndex != "" {
		req.SessionIndexes = []string{l.SessionIndex}
	}
	return s.sendSOAP(ctx, prefixLogout, h, req, now)
}

// ConsumeLogoutSOAP checks the IdP's LogoutResponse to StartLogoutSOAP's
// request requestID: schema-valid, from the IdP, signed by it, answering
// the request, taken once. A partial logout or an error status is a
// LogoutResult, not an error.
func (s *SP) ConsumeLogoutSOAP(ctx context.Context, answer io.Reader, requestID string) (*LogoutResult, error) {
	now := s.now()
	el, err := s.readSOAPAnswer(answer, "LogoutResponse", now)
	if err != nil {
		return nil, err
	}
	d, err := s.idp(now)
	if err != nil {
		return nil, err
	}
	resp, _, err := samlp.VerifyLogoutResponse(el, verifier(d))
	if err != nil {
		return nil, verifyError(err, "LogoutResponse")
	}
	if err := s.answeredSOAP(ctx, prefixLogout, &resp.StatusResponseHeader, requestID, now); err != nil {
		return nil, err
	}
	return &LogoutResult{RequestID: requestID, Status: resp.Status}, nil
}

// StartNewID makes a signed ManageNameIDRequest for the IdP's SOAP
// ManageNameIDService (SAML Core §3.6; ARCHITECTURE "Enrolment of a
// link"): the institution gives the IdP its own identifier of the
// principal l names, newID, as the SPProvidedID of their federation. The
// IdP accepts it only shortly after a card login at this SP.
func (s *SP) StartNewID(ctx context.Context, l *Login, newID string) (*SOAPRequest, error) {
	now := s.now()
	if l == nil || l.NameID == nil || l.NameID.Value == "" {
		return nil, errorf(KindSubject, "no NameID to enrol")
	}
	if newID == "" {
		return nil, errorf(KindSubject, "empty NewID")
	}
	h, err := s.soapHeader(now, func(d *md.IDPSSODescriptor) (*md.Endpoint, error) {
		return d.ManageNameIDService(samlp.BindingSOAP)
	})
	if err != nil {
		return nil, err
	}
	nid := *l.NameID
	req := &samlp.ManageNameIDRequest{RequestHeader: h, NameID: &nid, NewID: newID}
	return s.sendSOAP(ctx, prefixNIM, h, req, now)
}

// ConsumeNewID checks the IdP's ManageNameIDResponse to StartNewID's
// request requestID (schema, issuer, signature, InResponseTo, taken once)
// and returns nil for Success, a *StatusError for a refusal (RequestDenied
// outside the enrolment window or for an identifier another principal
// holds, UnknownPrincipal, ...).
func (s *SP) ConsumeNewID(ctx context.Context, answer io.Reader, requestID string) error {
	now := s.now()
	el, err := s.readSOAPAnswer(answer, "ManageNameIDResponse", now)
	if err != nil {
		return err
	}
	d, err := s.idp(now)
	if err != nil {
		return err
	}
	resp, _, err := samlp.VerifyManageNameIDResponse(el, verifier(d))
	if err != nil {
		return verifyError(err, "ManageNameIDResponse")
	}
	if err := s.answeredSOAP(ctx, prefixNIM, &resp.StatusResponseHeader, requestID, now); err != nil {
		return err
	}
	if !resp.Status.Success() {
		return &StatusError{Status: resp.Status}
	}
	return nil
}

// soapHeader is the header of a request of this SP for the IdP's SOAP
// endpoint pick finds in its metadata (https only): a fresh ID, now, the
// endpoint as Destination.
func (s *SP) soapHeader(now time.Time, pick func(*md.IDPSSODescriptor) (*md.Endpoint, error)) (samlp.RequestHeader, error) {
	d, err := s.idp(now)
	if err != nil {
		return samlp.RequestHeader{}, err
	}
	ep, err := pick(d)
	if err != nil {
		return samlp.RequestHeader{}, wrap(KindMetadata, err, s.cfg.IdP)
	}
	if !isHTTPS(ep.Location) {
		return samlp.RequestHeader{}, errorf(KindMetadata, "%s: endpoint %q is not https", s.cfg.IdP, ep.Location)
	}
	id, err := saml.NewID(s.cfg.Rand)
	if err != nil {
		return samlp.RequestHeader{}, wrap(KindInternal, err, "request ID")
	}
	return samlp.RequestHeader{ID: id, IssueInstant: now, Destination: ep.Location, Issuer: &saml.Issuer{Value: s.cfg.EntityID}}, nil
}

// sendSOAP signs m, whose header is h (enveloped), checks it against the
// schema, puts it in its envelope for h's Destination and keeps h's ID
// pending under prefix.
func (s *SP) sendSOAP(ctx context.Context, prefix string, h samlp.RequestHeader, m samlp.Message, now time.Time) (*SOAPRequest, error) {
	el, err := samlp.Sign(m, s.signer)
	if err != nil {
		return nil, wrap(KindInternal, err, "sign request")
	}
	if err := s.cfg.Schema.ValidateElement(el); err != nil {
		return nil, wrap(KindInternal, err, "outgoing request is not schema-valid")
	}
	env, err := envelope(el)
	if err != nil {
		return nil, err
	}
	expires := now.Add(s.cfg.RequestLifetime)
	if err := s.park(ctx, prefix, h.ID, pending{}, now, expires); err != nil {
		return nil, err
	}
	return &SOAPRequest{ID: h.ID, URL: h.Destination, Envelope: env, Expires: expires}, nil
}

// readSOAPAnswer decodes the IdP's SOAP answer, checks its Body against
// the schema, wants a samlp message named name from the IdP, and returns
// it unverified. A SOAP fault is ErrMalformed wrapping the *binding.Fault.
func (s *SP) readSOAPAnswer(answer io.Reader, name string, now time.Time) (*etree.Element, error) {
	env, err := (&binding.SOAPDecoder{MaxBody: maxSOAPAnswer, Understood: []string{}}).Decode(answer)
	if err != nil {
		return nil, wrap(KindMalformed, err, "SOAP answer")
	}
	if err := s.cfg.Schema.ValidateElement(env.Body); err != nil {
		return nil, wrap(KindMalformed, err, "schema")
	}
	u, err := peek(env.Body, name)
	if err != nil {
		return nil, err
	}
	if !u.Signed {
		return nil, errorf(KindSignature, "unsigned %s", name)
	}
	return env.Body, s.checkIssuer(u.Issuer)
}

// answeredSOAP wants the verified answer to name requestID, and takes it.
func (s *SP) answeredSOAP(ctx context.Context, prefix string, h *samlp.StatusResponseHeader, requestID string, now time.Time) error {
	if h.InResponseTo != requestID {
		return errorf(KindUnknownRequest, "the answer is to %q, the request was %q", h.InResponseTo, requestID)
	}
	_, err := s.take(ctx, prefix, requestID, now)
	return err
}
