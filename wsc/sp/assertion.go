package sp

import (
	"context"
	"errors"
	"time"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/store"
	"github.com/renkei-idwsf/renkei/wsc"
	"github.com/renkei-idwsf/renkei/wsf"
)

// checkAssertion checks a verified SSO assertion at now (SAML Profiles
// §4.1.4.2-3; SAML2.md §3.3 items 4-9) and reads the login from it:
//   - issued by the IdP (ErrIssuer);
//   - Conditions hold, with Skew, and an AudienceRestriction names this SP
//     (ErrNotYetValid, ErrExpired, ErrAudience);
//   - a bearer SubjectConfirmation for the ACS and requestID (ErrConfirmation);
//   - an AuthnStatement whose SessionNotOnOrAfter has not passed
//     (ErrAuthnStatement, ErrExpired);
//   - a persistent NameID of this IdP for this SP, plain or encrypted
//     (ErrSubject, ErrDecrypt);
//   - a discovery bootstrap, when present, that is an EPR (ErrBootstrap).
//
// It returns how long the assertion's ID must be remembered.
func (s *SP) checkAssertion(a *saml.Assertion, requestID, acs string, now time.Time) (*Login, time.Time, error) {
	if a.Issuer.Value != s.cfg.IdP || a.Issuer.Format != "" && a.Issuer.Format != saml.NameIDEntity {
		return nil, time.Time{}, errorf(KindIssuer, "assertion issued by %+v, not %q", a.Issuer, s.cfg.IdP)
	}
	checked := a
	if s.fault(FaultSkipAudience) {
		checked = s.faultAudience(a)
	}
	if err := checked.CheckConditions(now, s.cfg.Skew, s.cfg.EntityID); err != nil {
		return nil, time.Time{}, conditionError(err)
	}
	bearer, err := s.checkBearer(a.Subject, requestID, acs, now)
	if err != nil {
		return nil, time.Time{}, err
	}
	st, err := s.checkAuthnStatement(a, now)
	if err != nil {
		return nil, time.Time{}, err
	}
	nid, err := s.subject(a.Subject)
	if err != nil {
		return nil, time.Time{}, err
	}
	boot, err := bootstrap(a)
	if err != nil {
		return nil, time.Time{}, err
	}
	l := &Login{IdP: s.cfg.IdP, NameID: nid, SessionIndex: st.SessionIndex, AuthnInstant: st.AuthnInstant,
		AuthnContext: st.ClassRef, SessionNotOnOrAfter: st.SessionNotOnOrAfter, Assertion: a, Bootstrap: boot}
	return l, later(bearer.NotOnOrAfter, a.Conditions.NotOnOrAfter).Add(s.cfg.Skew), nil
}

// checkBearer finds a bearer SubjectConfirmation whose data names the ACS
// as Recipient, requestID as InResponseTo, an unexpired NotOnOrAfter and
// no NotBefore (SAML Profiles §4.1.4.2: it "MUST NOT" have one). The
// Address is not checked: behind the portal's proxies the client address
// is not one the IdP saw.
func (s *SP) checkBearer(sub *saml.Subject, requestID, acs string, now time.Time) (*saml.SubjectConfirmationData, error) {
	var last error = errorf(KindConfirmation, "no bearer SubjectConfirmation")
	for _, c := range sub.ConfirmationsBy(saml.CMBearer) {
		d := c.Data
		switch {
		case d == nil:
			last = errorf(KindConfirmation, "bearer confirmation without SubjectConfirmationData")
		case d.Recipient != acs:
			last = errorf(KindConfirmation, "Recipient %q, the ACS is %q", d.Recipient, acs)
		case d.InResponseTo != requestID:
			last = errorf(KindConfirmation, "InResponseTo %q, the request is %q", d.InResponseTo, requestID)
		case d.NotOnOrAfter.IsZero() || !d.NotBefore.IsZero():
			last = errorf(KindConfirmation, "bearer data needs NotOnOrAfter and no NotBefore")
		case !now.Add(-s.cfg.Skew).Before(d.NotOnOrAfter):
			last = errorf(KindConfirmation, "bearer NotOnOrAfter %s has passed", d.NotOnOrAfter.Format(time.RFC3339))
		default:
			return d, nil
		}
	}
	return nil, last
}

// checkAuthnStatement returns the first AuthnStatement, which the profile
// requires; a SessionNotOnOrAfter already passed means the session the
// portal would open must already be closed.
func (s *SP) checkAuthnStatement(a *saml.Assertion, now time.Time) (*saml.AuthnStatement, error) {
	if len(a.AuthnStatements) == 0 {
		return nil, errorf(KindAuthnStatement, "assertion %s", a.ID)
	}
	st := &a.AuthnStatements[0]
	if end := st.SessionNotOnOrAfter; !end.IsZero() && !now.Add(-s.cfg.Skew).Before(end) {
		return nil, errorf(KindExpired, "SessionNotOnOrAfter %s has passed", end.Format(time.RFC3339))
	}
	return st, nil
}

// subject returns the assertion's persistent NameID, decrypted when it
// came as an EncryptedID.
func (s *SP) subject(sub *saml.Subject) (*saml.NameID, error) {
	if sub == nil {
		return nil, errorf(KindSubject, "no Subject")
	}
	n := sub.NameID
	if sub.EncryptedID != nil {
		var err error
		if n, err = sub.EncryptedID.Decrypt(&s.decrypter); err != nil {
			return nil, wrap(KindDecrypt, err, "EncryptedID")
		}
	}
	if n == nil {
		return nil, errorf(KindSubject, "no NameID")
	}
	return n, s.checkNameID(n)
}

// checkNameID wants a persistent NameID whose qualifiers, when given, are
// the IdP and this SP (SAML Core §8.3.7; SAML2.md §15 item 9).
func (s *SP) checkNameID(n *saml.NameID) error {
	switch {
	case n.Format != saml.NameIDPersistent:
		return errorf(KindSubject, "NameID format %q, want persistent", n.Format)
	case n.NameQualifier != "" && n.NameQualifier != s.cfg.IdP:
		return errorf(KindSubject, "NameQualifier %q", n.NameQualifier)
	case n.SPNameQualifier != "" && n.SPNameQualifier != s.cfg.EntityID:
		return errorf(KindSubject, "SPNameQualifier %q", n.SPNameQualifier)
	}
	return nil
}

// bootstrap returns the assertion's Discovery Service EPR, nil when it
// has none.
func bootstrap(a *saml.Assertion) (*wsf.EPR, error) {
	e, err := wsc.BootstrapOf(a)
	switch {
	case errors.Is(err, wsc.ErrNoBootstrap):
		return nil, nil
	case err != nil:
		return nil, wrap(KindBootstrap, err, "DiscoveryEPR")
	}
	return e, nil
}

// checkReplay records the assertion's ID until expiry: a second
// presentation is refused (SAML Profiles §4.1.4.5). It runs last, so
// that only an assertion that passed every other check uses its ID up.
func (s *SP) checkReplay(ctx context.Context, id string, expiry, now time.Time) error {
	if s.fault(FaultSkipReplayCheck) {
		return nil
	}
	key := store.NewReplayKey(store.ReplayAssertionID, s.cfg.IdP, id)
	err := s.cfg.Store.CheckAndInsert(ctx, key, expiry, now)
	switch {
	case errors.Is(err, store.ErrReplay):
		return wrap(KindReplay, err, "assertion "+id)
	case err != nil:
		return wrap(KindInternal, err, "replay cache")
	}
	return nil
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
