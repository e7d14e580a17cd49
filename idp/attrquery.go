package idp

import (
	"context"
	"errors"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/saml/samlp"
)

// AttributeQuery answers an SP's samlp:AttributeQuery over SOAP (SAML Core
// §3.3.2.3; SAML Profiles §6.3): the requester is an SP of the metadata,
// authenticated by its signature or TLS client certificate; the request is
// sent to this endpoint, fresh and not replayed; its subject is a NameID
// this IdP issued to that SP (subjectOf). An SP the release policy does not
// list is refused with RequestDenied; otherwise the answer holds an
// assertion about the subject with the released attributes the query asks
// for, signed and, when the SP's metadata has an encryption key, encrypted
// for it, as in SSO. The returned outcome carries a signed Response, a
// non-Success one for every refusal after the SP was found; the error is
// then the private cause. With an unknown SP the outcome is nil.
func (s *SSO) AttributeQuery(ctx context.Context, in QueryInbound, now time.Time) (*QueryOutcome, error) {
	u, sp, err := s.queryPeek(in, "AttributeQuery", now)
	if err != nil {
		return nil, err
	}
	q, err := s.aqAuthenticate(ctx, in, u, sp, now)
	var assertion *etree.Element
	if err == nil {
		assertion, err = s.aqAnswer(ctx, q, sp, now)
	}
	var id string
	if q != nil {
		id = q.ID
	}
	resp, err2 := s.queryResponse(answerTo(u, id, err), statusOf(err), assertion, now)
	if err2 != nil {
		return nil, err2
	}
	return &QueryOutcome{SP: u.Issuer.Value, Response: resp}, err
}

// answerTo is the InResponseTo of an answer: the authenticated request's
// ID, else the unverified one unless the request was malformed (then not
// even its ID is trusted to be an xs:ID).
func answerTo(u *samlp.Unverified, verifiedID string, err error) string {
	switch {
	case verifiedID != "":
		return verifiedID
	case errors.Is(err, ErrInvalidRequest):
		return ""
	}
	return u.ID
}

// aqAuthenticate authenticates the requester and decodes what was
// authenticated.
func (s *SSO) aqAuthenticate(ctx context.Context, in QueryInbound, u *samlp.Unverified, sp *md.SPSSODescriptor, now time.Time) (*samlp.AttributeQuery, error) {
	el, err := s.queryAuthentic(in, u, sp)
	if err != nil {
		return nil, err
	}
	q, err := samlp.DecodeAttributeQuery(el)
	if err != nil {
		return nil, decodeError(err)
	}
	return q, s.checkQueryHeader(ctx, &q.RequestHeader, u, s.cfg.AttributeServiceURL, now)
}

func decodeError(err error) error {
	if errors.Is(err, saml.ErrVersion) {
		return Wrap(CodeVersionMismatch, err, "decode")
	}
	return Wrap(CodeInvalidRequest, err, "decode")
}

// aqAnswer resolves the subject, applies the release policy and makes the
// assertion.
func (s *SSO) aqAnswer(ctx context.Context, q *samlp.AttributeQuery, sp *md.SPSSODescriptor, now time.Time) (*etree.Element, error) {
	requester := q.Issuer.Value
	principal, nid, err := s.subjectOf(ctx, requester, q.NameID, q.EncryptedID, now)
	if err != nil {
		return nil, err
	}
	if !s.p.releases(requester) && !faultOn(FaultReleaseUnlisted) {
		return nil, Errorf(CodeRequestDenied, "the release policy lists no attribute for %q", requester)
	}
	attrs, err := s.p.Release(ctx, principal, requester, q.Attributes)
	if err != nil {
		return nil, err
	}
	return s.queryAssertion(sp, requester, q.ID, nid, attrs, now)
}

// queryAssertion is the signed assertion of an attribute query's answer:
// the subject as queried, the requester as audience, the attributes (an
// assertion with none has no AttributeStatement); encrypted when the SP's
// metadata has an encryption key.
func (s *SSO) queryAssertion(sp *md.SPSSODescriptor, requester, inResponseTo string, nid *saml.NameID, attrs []saml.Attribute, now time.Time) (*etree.Element, error) {
	id, err := s.p.newID()
	if err != nil {
		return nil, err
	}
	end := now.Add(s.p.cfg.AssertionLifetime)
	a := &saml.Assertion{ID: id, IssueInstant: now, Issuer: saml.Issuer{Value: s.p.cfg.EntityID},
		Subject: &saml.Subject{NameID: nid, Confirmations: []saml.SubjectConfirmation{{Method: saml.CMBearer,
			Data: &saml.SubjectConfirmationData{NotOnOrAfter: end, InResponseTo: inResponseTo}}}},
		Conditions: &saml.Conditions{NotBefore: now, NotOnOrAfter: end,
			AudienceRestrictions: []saml.AudienceRestriction{{Audiences: []string{requester}}}},
		AttributeStatements: []saml.AttributeStatement{{Attributes: attrs}}}
	el, err := s.p.sign(a)
	if err != nil {
		return nil, err
	}
	rcpt, err := sp.EncryptionRecipient(requester)
	if errors.Is(err, md.ErrNoKey) {
		return el, nil
	}
	if err != nil {
		return nil, Wrap(CodeInternal, err, "encryption key of "+requester)
	}
	if err := s.p.checkAssertion(el); err != nil {
		return nil, err
	}
	return s.p.encrypt(el, rcpt)
}
