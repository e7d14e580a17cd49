package idp

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/xmlsec/xmlenc"
)

// NameIDMappingConfig is the NameIDMappingService (SAML Core §3.8; SAML
// Profiles §4.8) over SOAP: its URL ("" disables it) and which requester
// may ask for the principal's NameID at which other provider, by entityID.
// A pair it does not list is refused.
type NameIDMappingConfig struct {
	URL     string
	Allowed map[string][]string
}

func (c NameIDMappingConfig) validate() []error {
	var errs []error
	for req, targets := range c.Allowed {
		if slices.Contains(targets, req) {
			errs = append(errs, fmt.Errorf("sso config: NameIDMapping lets %q map to itself", req))
		}
	}
	return errs
}

// NameIDMapping answers a samlp:NameIDMappingRequest over SOAP (SAML Core
// §3.8): the requester is an SP of the metadata, authenticated by its
// signature or TLS client certificate, the request fresh and not replayed,
// its identifier a NameID this IdP issued to the requester; NameIDPolicy's
// SPNameQualifier names the provider whose identifier is wanted. Only a
// (requester, provider) pair the configuration allows is answered
// (RequestDenied otherwise); the NameID is the principal's persistent one
// at that provider, created only when AllowCreate says so
// (InvalidNameIDPolicy otherwise), and always returned as an EncryptedID
// for the provider's metadata encryption key, so that the requester never
// learns it (SAML Core §3.8.2). The outcome is nil only for an unknown
// requester.
func (s *SSO) NameIDMapping(ctx context.Context, in QueryInbound, now time.Time) (*QueryOutcome, error) {
	u, sp, err := s.queryPeek(in, "NameIDMappingRequest", now)
	if err != nil {
		return nil, err
	}
	r, err := s.mapAuthenticate(ctx, in, u, sp, now)
	resp := &samlp.NameIDMappingResponse{}
	if err == nil {
		err = s.mapAnswer(ctx, r, resp, now)
	}
	var reqID string
	if r != nil {
		reqID = r.ID
	}
	id, err2 := s.p.newID()
	if err2 != nil {
		return nil, err2
	}
	resp.StatusResponseHeader = samlp.StatusResponseHeader{ID: id, InResponseTo: answerTo(u, reqID, err), IssueInstant: now,
		Issuer: &saml.Issuer{Value: s.p.cfg.EntityID}, Status: statusOf(err)}
	if err != nil {
		// The schema of SAML Core requires an identifier in every
		// NameIDMappingResponse, a refusal too, while §3.8.2 has one only
		// on success: a refusal carries an empty NameID, which names no
		// one and which its Status tells the requester to ignore.
		resp.NameID, resp.EncryptedID = &saml.NameID{}, nil
	}
	el, err2 := s.signChecked(resp, "NameIDMappingResponse")
	if err2 != nil {
		return nil, err2
	}
	return &QueryOutcome{SP: u.Issuer.Value, Response: el}, err
}

func (s *SSO) mapAuthenticate(ctx context.Context, in QueryInbound, u *samlp.Unverified, sp *md.SPSSODescriptor, now time.Time) (*samlp.NameIDMappingRequest, error) {
	el, err := s.queryAuthentic(in, u, sp)
	if err != nil {
		return nil, err
	}
	r, err := samlp.DecodeNameIDMappingRequest(el)
	if err != nil {
		return nil, decodeError(err)
	}
	return r, s.checkQueryHeader(ctx, &r.RequestHeader, u, s.cfg.NameIDMapping.URL, now)
}

// mapAnswer checks the policy and sets the mapped identifier of resp.
func (s *SSO) mapAnswer(ctx context.Context, r *samlp.NameIDMappingRequest, resp *samlp.NameIDMappingResponse, now time.Time) error {
	requester, target := r.Issuer.Value, r.Policy.SPNameQualifier
	if err := s.mapPolicy(requester, r.Policy); err != nil {
		return err
	}
	principal, _, err := s.subjectOf(ctx, requester, r.NameID, r.EncryptedID, now)
	if err != nil {
		return err
	}
	rcpt, err := s.recipient(target, now)
	if err != nil {
		return err
	}
	nid, err := s.p.NameID(ctx, principal, target, NameIDPolicy{Format: saml.NameIDPersistent, AllowCreate: r.Policy.AllowCreate}, now)
	if err != nil {
		return err
	}
	if faultOn(FaultMappingPlain) {
		resp.NameID = nid
		return nil
	}
	resp.EncryptedID, err = saml.EncryptNameID(nid, &xmlenc.Encrypter{Rand: s.p.cfg.Rand}, rcpt)
	if err != nil {
		return Wrap(CodeInternal, err, "encrypt NameID for "+target)
	}
	return nil
}

// mapPolicy refuses what the IdP will not map: no target provider or a
// format other than persistent (InvalidNameIDPolicy: SAML Core §3.8.2
// names that status for a policy the IdP cannot meet), a pair the
// configuration does not allow (RequestDenied).
func (s *SSO) mapPolicy(requester string, p samlp.NameIDPolicy) error {
	switch {
	case p.SPNameQualifier == "":
		return Errorf(CodeInvalidNameIDPolicy, "NameIDPolicy names no SPNameQualifier: no provider to map to")
	case p.Format != "" && p.Format != saml.NameIDUnspecified && p.Format != saml.NameIDPersistent:
		return Errorf(CodeInvalidNameIDPolicy, "format %q: only persistent identifiers are mapped", p.Format)
	case !slices.Contains(s.cfg.NameIDMapping.Allowed[requester], p.SPNameQualifier):
		return Errorf(CodeRequestDenied, "%q may not ask for NameIDs at %q", requester, p.SPNameQualifier)
	}
	return nil
}

// recipient is the encryption key of the provider target in the
// metadata: its SP role's, else that of any other role (a WSP, the DS).
// A provider without one gets no mapped identifier: it would travel in
// clear through the requester.
func (s *SSO) recipient(target string, now time.Time) (xmlenc.Recipient, error) {
	e, err := s.cfg.Metadata.Entity(target, now)
	if err != nil {
		return xmlenc.Recipient{}, Wrap(CodeRequestDenied, err, "provider "+target+" is not in the metadata")
	}
	roles := []*md.Role{}
	for _, d := range e.SPSSO {
		roles = append(roles, &d.Role)
	}
	for _, d := range e.Roles {
		roles = append(roles, &d.Role)
	}
	for _, r := range roles {
		if rcpt, err := r.EncryptionRecipient(target); err == nil {
			return rcpt, nil
		}
	}
	return xmlenc.Recipient{}, Errorf(CodeRequestDenied, "provider %q has no encryption key in the metadata", target)
}
