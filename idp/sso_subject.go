package idp

import (
	"context"
	"errors"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/store"
	"github.com/renkei-idwsf/renkei/xmlsec/xmlenc"
)

// requestedSubject is the NameID of the verified request's saml:Subject,
// decrypted when it is an EncryptedID, or nil when the request names no
// subject (SAML Core §3.4.1).
func (s *SSO) requestedSubject(sub *saml.Subject) (*saml.NameID, error) {
	switch {
	case sub == nil:
		return nil, nil
	case sub.EncryptedID != nil && s.p.cfg.EncryptionKey == nil:
		return nil, Errorf(CodeRequestUnsupported, "Subject with an EncryptedID and no decryption key")
	case sub.EncryptedID != nil:
		nid, err := sub.EncryptedID.Decrypt(&xmlenc.Decrypter{Key: s.p.cfg.EncryptionKey, EntityID: s.p.cfg.EntityID})
		if err != nil {
			return nil, Wrap(CodeUnknownPrincipal, err, "Subject's EncryptedID")
		}
		return nid, nil
	case sub.NameID == nil || sub.NameID.Value == "":
		return nil, Errorf(CodeUnknownPrincipal, "Subject without a NameID")
	}
	return sub.NameID, nil
}

// checkSubject enforces SAML Core §3.4.1.4: when the request named a
// subject, the assertion's subject must strongly match it (SAML Core
// §3.3.4: the same identifier), so that it names the same principal and
// carries that very NameID. The requested NameID is one this IdP gave the
// SP: a persistent one of an active federation, or the transient one the
// SP holds in sess. checkSubject returns the NameID to issue, nil when the
// request named no subject. A principal other than principalID is
// ErrSubjectMismatch (a new login may satisfy it); a NameID that names
// nobody is ErrUnknownPrincipal.
func (s *SSO) checkSubject(ctx context.Context, pend *Pending, principalID string, sess *Session) (*saml.NameID, error) {
	n := pend.Subject
	if n == nil {
		return nil, nil
	}
	switch {
	case n.NameQualifier != "" && n.NameQualifier != s.p.cfg.EntityID:
		return nil, Errorf(CodeUnknownPrincipal, "requested Subject's NameQualifier %q", n.NameQualifier)
	case n.SPNameQualifier != "" && n.SPNameQualifier != pend.SP:
		return nil, Errorf(CodeUnknownPrincipal, "requested Subject's SPNameQualifier %q", n.SPNameQualifier)
	}
	who, nid, err := s.subjectPrincipal(ctx, pend.SP, n, sess)
	if err != nil {
		return nil, err
	}
	if who != principalID {
		return nil, Errorf(CodeSubjectMismatch, "request names the subject %q of another principal than %q", n.Value, principalID)
	}
	return nid, nil
}

// subjectPrincipal is the principal the SP knows by n, and n as this IdP
// issues it: the federation's persistent NameID, or the transient one of
// sess's participant sp.
func (s *SSO) subjectPrincipal(ctx context.Context, sp string, n *saml.NameID, sess *Session) (string, *saml.NameID, error) {
	switch subjectFormat(n) {
	case saml.NameIDPersistent:
		f, err := s.p.cfg.Federations.FederationByNameID(ctx, sp, n.Value)
		if errors.Is(err, store.ErrNotFound) || err == nil && !f.Active() {
			return "", nil, Errorf(CodeUnknownPrincipal, "requested Subject %q names no federation with %q", n.Value, sp)
		}
		if err != nil {
			return "", nil, Wrap(CodeInternal, err, "federation of the requested Subject")
		}
		return f.PrincipalID, s.p.federated(f), nil
	case saml.NameIDTransient:
		if sess != nil {
			if p, ok := sess.Participant(sp); ok && p.NameID == n.Value && p.NameIDFormat == saml.NameIDTransient {
				return sess.PrincipalID, &saml.NameID{Value: p.NameID, Format: saml.NameIDTransient,
					NameQualifier: s.p.cfg.EntityID, SPNameQualifier: sp}, nil
			}
		}
		return "", nil, Errorf(CodeUnknownPrincipal, "requested transient Subject %q is not one %q holds in this session", n.Value, sp)
	}
	return "", nil, Errorf(CodeUnknownPrincipal, "requested Subject of format %q", n.Format)
}

// subjectFormat is the format of a requested NameID, an omitted or
// unspecified one read as persistent (the only other kind this IdP issues
// to a requester that can name it later; SAML Core §8.3).
func subjectFormat(n *saml.NameID) string {
	if n.Format == "" || n.Format == saml.NameIDUnspecified {
		return saml.NameIDPersistent
	}
	return n.Format
}

// policyConflicts reports whether the NameIDPolicy Format of pend cannot
// be met by the NameID its Subject requires (SAML Core §3.4.1.4 with
// §3.4.1.1): a policy that names a format must name the Subject's.
func policyConflicts(pend *Pending) bool {
	if pend.Subject == nil || pend.NameIDFormat == "" || pend.NameIDFormat == saml.NameIDUnspecified {
		return false
	}
	switch f := subjectFormat(pend.Subject); f {
	case saml.NameIDPersistent, saml.NameIDTransient:
		return pend.NameIDFormat != f
	}
	return false // a Subject of another format is refused by checkSubject
}

// otherSubject reports whether the browser's session is of another
// principal than the request's Subject names, so that a card login must
// come first (SAML Core §3.4.1.4: the IdP may re-authenticate); a passive
// request cannot, and fails with the mismatch.
func (s *SSO) otherSubject(ctx context.Context, pend *Pending, sess *Session) (bool, error) {
	_, err := s.checkSubject(ctx, pend, sess.PrincipalID, sess)
	switch {
	case err == nil:
		return false, nil
	case errors.Is(err, ErrSubjectMismatch) && !pend.IsPassive:
		return true, nil
	}
	return false, err
}
