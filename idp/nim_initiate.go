package idp

import (
	"context"
	"time"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
)

// TerminateFederation ends the federation of principalID with sp at the
// IdP's initiative (SAML Profiles §4.5, Core §3.6.3): the federation is
// terminated in the relay database first, so that no later SSO uses it
// whatever the SP answers, then a signed ManageNameIDRequest with
// Terminate goes to the SP's SOAP ManageNameIDService. The SP's signed
// response must verify with its metadata keys and report Success; any
// other outcome is an error, with the federation terminated all the same.
func (s *SSO) TerminateFederation(ctx context.Context, principalID, sp string, now time.Time) error {
	d, err := s.lookupSP(sp, now)
	if err != nil {
		return err
	}
	ep, err := d.ManageNameIDService(samlp.BindingSOAP)
	if err != nil {
		return Wrap(CodeUnsupportedBinding, err, sp+" has no SOAP ManageNameIDService")
	}
	f, err := s.p.cfg.Federations.Federation(ctx, principalID, sp)
	if err != nil {
		return fedError(err, "federation")
	}
	if err := s.terminate(ctx, f, now); err != nil {
		return err
	}
	id, err := s.p.newID()
	if err != nil {
		return err
	}
	req := &samlp.ManageNameIDRequest{RequestHeader: samlp.RequestHeader{ID: id, IssueInstant: now, Destination: ep.Location,
		Issuer: &saml.Issuer{Value: s.p.cfg.EntityID}}, Terminate: true,
		NameID: &saml.NameID{Value: f.NameID, Format: saml.NameIDPersistent, NameQualifier: s.p.cfg.EntityID, SPNameQualifier: sp, SPProvidedID: f.SPProvidedID}}
	return s.sendTerminate(ctx, req, d.TrustSet(), ep.Location, now)
}

// sendTerminate signs req, posts it in a SOAP envelope and checks the
// answer: schema-valid, signed by the SP, in response to req, Success.
func (s *SSO) sendTerminate(ctx context.Context, req *samlp.ManageNameIDRequest, trust *xmlsec.TrustSet, loc string, now time.Time) error {
	el, err := samlp.Sign(req, s.signer())
	if faultOn(FaultUnsignedTerminate) {
		el, err = req.Element(), nil
	}
	if err != nil {
		return Wrap(CodeInternal, err, "sign ManageNameIDRequest")
	}
	body, err := s.soap.call(ctx, loc, el) // checks the whole envelope before it leaves
	if err != nil {
		return err
	}
	if err := s.cfg.Schema.ValidateElement(body); err != nil {
		return Wrap(CodeInternal, err, "SP's answer is not schema-valid")
	}
	pol := xmlsec.Policy{AllowSHA1: s.quirks(req.NameID.SPNameQualifier).AllowSHA1} // the SP's quirks: it signed the answer
	resp, _, err := samlp.VerifyManageNameIDResponse(body, &dsig.Verifier{Trust: trust, Policy: pol})
	if err != nil {
		return Wrap(CodeInternal, err, "SP's ManageNameIDResponse")
	}
	if resp.InResponseTo != req.ID || resp.Issuer == nil || resp.Issuer.Value != req.NameID.SPNameQualifier {
		return Errorf(CodeInternal, "SP's response is not for request %s", req.ID)
	}
	if !resp.Status.Success() {
		return Errorf(CodeInternal, "SP answered %s %s", resp.Status.Code.Value, resp.Status.Second())
	}
	return nil
}
