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
// subject, the assertion's subject must strongly match it, that is name
// the same principal. The requested NameID is one this IdP gave the SP: a
// persistent one of an active federation, or the transient one the SP
// holds in sess. A principal other than principalID is ErrSubjectMismatch
// (a new login may satisfy it); a NameID that names nobody is
// ErrUnknownPrincipal.
func (s *SSO) checkSubject(ctx context.Context, pend *Pending, principalID string, sess *Session) error {
	n := pend.Subject
	if n == nil {
		return nil
	}
	switch {
	case n.NameQualifier != "" && n.NameQualifier != s.p.cfg.EntityID:
		return Errorf(CodeUnknownPrincipal, "requested Subject's NameQualifier %q", n.NameQualifier)
	case n.SPNameQualifier != "" && n.SPNameQualifier != pend.SP:
		return Errorf(CodeUnknownPrincipal, "requested Subject's SPNameQualifier %q", n.SPNameQualifier)
	}
	who, err := s.subjectPrincipal(ctx, pend.SP, n, sess)
	if err != nil {
		return err
	}
	if who != principalID {
		return Errorf(CodeSubjectMismatch, "request names the subject %q of another principal than %q", n.Value, principalID)
	}
	return nil
}

// subjectPrincipal is the principal the SP knows by n.
func (s *SSO) subjectPrincipal(ctx context.Context, sp string, n *saml.NameID, sess *Session) (string, error) {
	switch n.Format {
	case "", saml.NameIDUnspecified, saml.NameIDPersistent:
		f, err := s.p.cfg.Federations.FederationByNameID(ctx, sp, n.Value)
		if errors.Is(err, store.ErrNotFound) || err == nil && !f.Active() {
			return "", Errorf(CodeUnknownPrincipal, "requested Subject %q names no federation with %q", n.Value, sp)
		}
		if err != nil {
			return "", Wrap(CodeInternal, err, "federation of the requested Subject")
		}
		return f.PrincipalID, nil
	case saml.NameIDTransient:
		if sess != nil {
			if p, ok := sess.Participant(sp); ok && p.NameID == n.Value && p.NameIDFormat == saml.NameIDTransient {
				return sess.PrincipalID, nil
			}
		}
		return "", Errorf(CodeUnknownPrincipal, "requested transient Subject %q is not one %q holds in this session", n.Value, sp)
	}
	return "", Errorf(CodeUnknownPrincipal, "requested Subject of format %q", n.Format)
}

// otherSubject reports whether the browser's session is of another
// principal than the request's Subject names, so that a card login must
// come first (SAML Core §3.4.1.4: the IdP may re-authenticate); a passive
// request cannot, and fails with the mismatch.
func (s *SSO) otherSubject(ctx context.Context, pend *Pending, sess *Session) (bool, error) {
	err := s.checkSubject(ctx, pend, sess.PrincipalID, sess)
	switch {
	case err == nil:
		return false, nil
	case errors.Is(err, ErrSubjectMismatch) && !pend.IsPassive:
		return true, nil
	}
	return false, err
}
