package idp

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/binding"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
)

// Defaults of the zero NIMConfig.
const (
	// DefaultEnrolWindow is how long after a certificate authentication at
	// an institution that institution may register its local identifier
	// (ARCHITECTURE "Enrolment of a link": N minutes).
	DefaultEnrolWindow = 5 * time.Minute
	// MaxNewID bounds an SP-provided identifier, in bytes of UTF-8.
	MaxNewID = 256
	// NIMClientTimeout bounds one IdP-initiated ManageNameIDRequest to an
	// SP.
	NIMClientTimeout = 30 * time.Second
)

// NIMConfig is the Name Identifier Management profile (SAML Profiles
// §4.5) of the IdP: its ManageNameIDService, the enrolment window of
// SP-provided identifiers, and the client of the IdP-initiated requests.
type NIMConfig struct {
	// URL is the ManageNameIDService, for the SOAP binding (POST) and the
	// HTTP-Redirect binding (GET); "" disables the profile.
	URL string
	// EnrolWindow is how long after a certificate authentication at an SP
	// its NewID is accepted; zero takes DefaultEnrolWindow.
	EnrolWindow time.Duration
	// Client sends the IdP-initiated SOAP requests, with its transport and
	// TLS configuration; nil means http.DefaultTransport. Whatever the
	// client says, no redirect is followed and each request lasts at most
	// NIMClientTimeout (soapClient).
	Client *HTTPClient
}

func (c NIMConfig) validate() []error {
	if c.EnrolWindow < 0 || c.EnrolWindow > MaxLifetime {
		return []error{fmt.Errorf("sso config: NIM EnrolWindow %v is outside [0, %v]", c.EnrolWindow, MaxLifetime)}
	}
	return nil
}

func (c NIMConfig) window() time.Duration { return orDefault(c.EnrolWindow, DefaultEnrolWindow) }

// NIMInbound is a ManageNameIDRequest as a binding delivered it, not yet
// trusted: the SOAP body, or the decoded HTTP-Redirect query.
type NIMInbound struct {
	Binding  string // samlp.BindingSOAP or samlp.BindingHTTPRedirect
	Element  *etree.Element
	Redirect *binding.RedirectMessage
}

func (in NIMInbound) unverified() *etree.Element {
	if in.Redirect != nil {
		return in.Redirect.Unverified()
	}
	return in.Element
}

// NIMOutcome is the signed samlp:ManageNameIDResponse for the requesting
// SP and, for the HTTP-Redirect binding, the endpoint it goes to.
type NIMOutcome struct {
	SP         string
	Location   string // the SP's Redirect ManageNameIDService; "" for SOAP
	RelayState string
	Response   *etree.Element
}

// nimRequest is a ManageNameIDRequest that passed authentication.
type nimRequest struct {
	req *samlp.ManageNameIDRequest
	sp  *md.SPSSODescriptor
}

// ManageNameID answers an SP's ManageNameIDRequest (SAML Core §3.6, SAML2.md
// §6): the request must be signed by an SP of the metadata, sent to this
// endpoint, fresh and not replayed, and name a persistent NameID this IdP
// issued to that SP. NewID registers the SP's own identifier for the
// principal (SPProvidedID), accepted only within the enrolment window of a
// certificate authentication at that SP; Terminate ends the federation.
// The returned outcome carries a signed response, a non-Success one for
// every refusal after the SP was found; the error is then the private
// cause. With an unknown SP the outcome is nil: nothing may be sent.
func (s *SSO) ManageNameID(ctx context.Context, in NIMInbound, now time.Time) (*NIMOutcome, error) {
	u, sp, out, err := s.nimPeek(in, now)
	if err != nil {
		return out, err
	}
	r, err := s.nimAuthenticate(ctx, in, u, sp, now)
	if err == nil {
		err = s.nimApply(ctx, r, now)
	}
	st := samlp.NewStatus(samlp.StatusSuccess, "")
	if err != nil {
		e := StatusFor(err)
		st = samlp.NewStatus(e.Top, e.Second)
		st.Message = e.Message
	}
	resp, err2 := s.nimResponse(out, inResponseTo(u, r, err), st, now)
	if err2 != nil {
		return nil, err2
	}
	out.Response = resp
	return out, err
}

// errNotSchemaValid marks a request the schema refused: not even its ID
// is trusted to be an xs:ID.
var errNotSchemaValid = errors.New("not schema-valid")

// inResponseTo is the verified request's ID, or the unverified one
// unless the request failed the schema. (A signed request that passed the
// schema but does not decode, such as one with an empty NewID, is
// answered in response to its ID.)
func inResponseTo(u *samlp.Unverified, r *nimRequest, err error) string {
	switch {
	case r != nil:
		return r.req.ID
	case errors.Is(err, errNotSchemaValid):
		return ""
	}
	return u.ID
}

// nimPeek finds the issuing SP and where its answer goes, before any
// check of the message.
func (s *SSO) nimPeek(in NIMInbound, now time.Time) (*samlp.Unverified, *md.SPSSODescriptor, *NIMOutcome, error) {
	u, err := samlp.Peek(in.unverified())
	if err != nil {
		return nil, nil, nil, Wrap(CodeInvalidRequest, err, "peek")
	}
	if u.Name != "ManageNameIDRequest" {
		return nil, nil, nil, Errorf(CodeInvalidRequest, "a %s, not a ManageNameIDRequest", u.Name)
	}
	if u.Issuer == nil || u.Issuer.Value == "" || u.Issuer.Format != "" && u.Issuer.Format != saml.NameIDEntity {
		return nil, nil, nil, Errorf(CodeUnknownSP, "no entity Issuer")
	}
	sp, err := s.lookupSP(u.Issuer.Value, now)
	if err != nil {
		return nil, nil, nil, err
	}
	out := &NIMOutcome{SP: u.Issuer.Value}
	if in.Redirect != nil {
		ep, err := sp.ManageNameIDService(samlp.BindingHTTPRedirect)
		if err != nil || safeURL(responseLocation(ep)) != nil {
			return nil, nil, nil, Errorf(CodeACSNotInMetadata, "%q has no https Redirect ManageNameIDService", u.Issuer.Value)
		}
		out.Location, out.RelayState = responseLocation(ep), in.Redirect.RelayState
	}
	return u, sp, out, nil
}

func responseLocation(ep *md.Endpoint) string {
	if ep.ResponseLocation != "" {
		return ep.ResponseLocation
	}
	return ep.Location
}

// nimAuthenticate checks schema, version, the signature (always required:
// SAML Profiles §4.5.4.2 wants the request authenticated, and this IdP
// relies on nothing else), the Destination, freshness and replay.
func (s *SSO) nimAuthenticate(ctx context.Context, in NIMInbound, u *samlp.Unverified, sp *md.SPSSODescriptor, now time.Time) (*nimRequest, error) {
	if err := s.cfg.Schema.ValidateElement(u.Element); err != nil {
		return nil, Wrap(CodeInvalidRequest, fmt.Errorf("%w: %w", errNotSchemaValid, err), "schema")
	}
	if u.Version != saml.Version {
		return nil, Errorf(CodeVersionMismatch, "version %q", u.Version)
	}
	req, err := s.nimVerify(in, u, sp)
	if err != nil {
		return nil, err
	}
	if req.Issuer == nil || req.Issuer.Value != u.Issuer.Value {
		return nil, Errorf(CodeRequestDenied, "verified Issuer differs from %q", u.Issuer.Value)
	}
	switch {
	case req.Destination == "" && in.Redirect != nil:
		return nil, Errorf(CodeRequestDenied, "signed Redirect request without Destination")
	case req.Destination != "" && req.Destination != s.cfg.NIM.URL:
		return nil, Errorf(CodeRequestDenied, "Destination %q, this endpoint is %q", req.Destination, s.cfg.NIM.URL)
	}
	if err := s.checkFresh(&req.RequestHeader, now); err != nil {
		return nil, err
	}
	return &nimRequest{req: req, sp: sp}, s.checkReplay(ctx, &req.RequestHeader, now)
}

// nimVerify verifies the XML signature (SOAP) or the query signature
// (Redirect) with the SP's metadata keys and decodes only what was signed.
func (s *SSO) nimVerify(in NIMInbound, u *samlp.Unverified, sp *md.SPSSODescriptor) (*samlp.ManageNameIDRequest, error) {
	pol := xmlsec.Policy{AllowSHA1: s.quirks(u.Issuer.Value).AllowSHA1}
	if faultOn(FaultSkipSignature) {
		return nimDecode(samlp.DecodeManageNameIDRequest(in.unverified()))
	}
	if in.Redirect != nil {
		if !in.Redirect.Signed() {
			return nil, Errorf(CodeRequestDenied, "unsigned Redirect ManageNameIDRequest from %q", u.Issuer.Value)
		}
		el, _, err := in.Redirect.Verify(sp.TrustSet(), pol)
		if err != nil {
			return nil, signatureError(err)
		}
		return nimDecode(samlp.DecodeManageNameIDRequest(el))
	}
	if !u.Signed {
		return nil, Errorf(CodeRequestDenied, "unsigned ManageNameIDRequest from %q", u.Issuer.Value)
	}
	signed, err := (&dsig.Verifier{Trust: sp.TrustSet(), Policy: pol}).Verify(u.Element)
	if err != nil {
		return nil, signatureError(err)
	}
	// Decoded apart from the signature check, so that a signed request
	// that is malformed (an empty NewID) is refused as malformed, not as
	// a bad signature.
	req, err := nimDecode(samlp.DecodeManageNameIDRequest(signed))
	if err != nil {
		return nil, err
	}
	req.Signed = true
	return req, nil
}

func nimDecode(req *samlp.ManageNameIDRequest, err error) (*samlp.ManageNameIDRequest, error) {
	switch {
	case errors.Is(err, saml.ErrVersion):
		return nil, Wrap(CodeVersionMismatch, err, "decode")
	case err != nil:
		return nil, Wrap(CodeInvalidRequest, err, "decode")
	}
	return req, nil
}

// nimResponse builds, signs and schema-checks the ManageNameIDResponse.
func (s *SSO) nimResponse(out *NIMOutcome, inResponseTo string, st samlp.Status, now time.Time) (*etree.Element, error) {
	id, err := s.p.newID()
	if err != nil {
		return nil, err
	}
	r := &samlp.ManageNameIDResponse{StatusResponseHeader: samlp.StatusResponseHeader{ID: id, InResponseTo: inResponseTo,
		IssueInstant: now, Destination: out.Location, Issuer: &saml.Issuer{Value: s.p.cfg.EntityID}, Status: st}}
	el, err := samlp.Sign(r, s.signer())
	if err != nil {
		return nil, Wrap(CodeInternal, err, "sign ManageNameIDResponse")
	}
	if err := s.cfg.Schema.ValidateElement(el); err != nil {
		return nil, Wrap(CodeInternal, err, "outgoing ManageNameIDResponse is not schema-valid")
	}
	return el, nil
}
