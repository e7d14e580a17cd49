package secmech

import (
	"context"
	"crypto"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
	"github.com/renkei-idwsf/renkei/xmlsec/wire"
	"github.com/renkei-idwsf/renkei/xmlsec/xmlenc"
)

// Token is a SAML 2.0 token that passed the checks of IDWSF2 §3.4: its
// issuer's signature, issuer trust, audience and time window. Confirmation
// against the message is judged by the mechanism (Verify).
type Token struct {
	Assertion *saml.Assertion
	Element   *etree.Element // the verified standalone copy
	Issuer    *wsf.Peer
	// Subject is the principal as this provider knows it: the NameID, or
	// the EncryptedID decrypted with this provider's key (item 9).
	Subject *saml.NameID
}

// TokenChecker checks tokens addressed to Self.
type TokenChecker struct {
	Self      string
	Directory wsf.Directory
	Decrypter *xmlenc.Decrypter // this provider's key: EncryptedAssertion, EncryptedID
	Skew      time.Duration
	// Sessions, when set, reports the IdP sessions single logout ended at
	// Self: a token whose AuthnStatement names one is refused as expired.
	Sessions EndedSessions
}

// EndedSessions reports the IdP sessions that single logout ended at a
// provider (SAML Profiles §4.4: a session participant that received a
// LogoutRequest no longer honours what the session gave).
type EndedSessions interface {
	// Ended reports whether the session sessionIndex names at this
	// provider was logged out, as of now.
	Ended(ctx context.Context, sessionIndex string, now time.Time) (bool, error)
	// Remembers is how long an ended session is remembered: a token of
	// a session that lives longer could outlive the record of its
	// logout, and is refused.
	Remembers() time.Duration
}

// Check verifies a token element (saml:Assertion, or
// saml:EncryptedAssertion when allowEncrypted) at now: decrypt if
// encrypted (item 3), select the issuer's keys by the unverified
// saml:Issuer, verify the enveloped signature with them, require the
// verified Issuer to be that peer and a token issuer (item 4), check
// audience and validity (items 5-6) and read the subject (item 9). The
// token is verified as a standalone copy: it is a signed object of its own,
// and IDs elsewhere in the message it travels in are no concern of its
// signature.
func (c *TokenChecker) Check(ctx context.Context, el *etree.Element, now time.Time, allowEncrypted bool) (*Token, error) {
	el, err := c.plain(xmlsec.DetachCopy(el), allowEncrypted)
	if err != nil {
		return nil, err
	}
	peer, err := c.issuer(ctx, el)
	if err != nil {
		return nil, err
	}
	v := &dsig.Verifier{Trust: peer.Keys, Policy: peer.Profile.Policy()}
	a, verified, err := saml.VerifyAssertion(el, v)
	if err != nil {
		return nil, err
	}
	if a.Issuer.Value != peer.EntityID {
		return nil, saml.Errorf(saml.KindIssuer, "signed issuer %q is not %q", a.Issuer.Value, peer.EntityID)
	}
	if err := a.CheckConditions(now, c.Skew, c.Self); err != nil {
		return nil, err
	}
	if err := c.checkSession(ctx, a, now); err != nil {
		return nil, err
	}
	t := &Token{Assertion: a, Element: verified, Issuer: peer}
	t.Subject, err = c.subject(a)
	return t, err
}

// checkSession refuses a token of a logged-out session as an expired one
// (saml.ErrExpired): to the presenter the token has simply ended.
func (c *TokenChecker) checkSession(ctx context.Context, a *saml.Assertion, now time.Time) error {
	if c.Sessions == nil {
		return nil
	}
	for _, st := range a.AuthnStatements {
		if st.SessionIndex == "" {
			continue
		}
		if a.Conditions != nil && a.Conditions.NotOnOrAfter.After(now.Add(c.Sessions.Remembers()+c.Skew)) {
			return saml.Errorf(saml.KindExpired, "the token of session %q lives until %s, beyond the %v its logout would be remembered",
				st.SessionIndex, a.Conditions.NotOnOrAfter.Format(time.RFC3339), c.Sessions.Remembers())
		}
		ended, err := c.Sessions.Ended(ctx, st.SessionIndex, now)
		if err != nil {
			return err
		}
		if ended {
			return saml.Errorf(saml.KindExpired, "session %q was ended by single logout", st.SessionIndex)
		}
	}
	return nil
}

func (c *TokenChecker) plain(el *etree.Element, allowEncrypted bool) (*etree.Element, error) {
	if !wire.Is(el, wsf.NSSAML, "EncryptedAssertion") {
		return el, nil
	}
	if !allowEncrypted || c.Decrypter == nil {
		return nil, saml.Errorf(saml.KindSubject, "EncryptedAssertion not accepted here")
	}
	return c.Decrypter.Decrypt(el)
}

// issuer finds the token issuer's peer entry from the unverified
// saml:Issuer: it only selects the keys the signature must verify with.
func (c *TokenChecker) issuer(ctx context.Context, el *etree.Element) (*wsf.Peer, error) {
	iss, err := wire.Required(el, wsf.NSSAML, "Issuer")
	if err != nil {
		return nil, err
	}
	name, err := wire.URI(iss)
	if err != nil {
		return nil, err
	}
	peer, err := c.Directory.Peer(ctx, name)
	if err != nil {
		return nil, saml.Errorf(saml.KindIssuer, "issuer %q not in the metadata", name)
	}
	if !peer.TokenIssuer {
		return nil, saml.Errorf(saml.KindIssuer, "%q may not issue tokens", name)
	}
	return peer, nil
}

func (c *TokenChecker) subject(a *saml.Assertion) (*saml.NameID, error) {
	s := a.Subject
	switch {
	case s == nil:
		return nil, saml.Errorf(saml.KindSubject, "token without Subject")
	case s.NameID != nil:
		return s.NameID, nil
	case s.EncryptedID != nil && c.Decrypter != nil:
		return s.EncryptedID.Decrypt(c.Decrypter)
	}
	return nil, saml.Errorf(saml.KindSubject, "no NameID this provider can read")
}

// HolderOfKeys returns the keys the token's holder-of-key confirmations
// (still valid at now) confirm (IDWSF2 §3.4 item 7).
func (t *Token) HolderOfKeys(now time.Time, skew time.Duration) []crypto.PublicKey {
	var keys []crypto.PublicKey
	for _, sc := range t.Assertion.Subject.ConfirmationsBy(saml.CMHolderOfKey) {
		if sc.Data == nil || sc.Data.CheckWindow(now, skew) != nil {
			continue
		}
		for _, ki := range sc.Data.KeyInfos {
			keys = append(keys, ki.Keys()...)
		}
	}
	return keys
}

// IsBearer reports whether the token has a bearer confirmation valid at
// now, or, with withoutConfirmation (IDWSF2 §11 item 9), no confirmation
// at all.
func (t *Token) IsBearer(now time.Time, skew time.Duration, withoutConfirmation bool) bool {
	s := t.Assertion.Subject
	if len(s.Confirmations) == 0 {
		return withoutConfirmation
	}
	for _, sc := range s.ConfirmationsBy(saml.CMBearer) {
		if sc.Data.CheckWindow(now, skew) == nil {
			return true
		}
	}
	return false
}

// keyIn reports whether pub equals one of keys.
func keyIn(pub crypto.PublicKey, keys []crypto.PublicKey) bool {
	e, ok := pub.(interface{ Equal(crypto.PublicKey) bool })
	if !ok {
		return false
	}
	for _, k := range keys {
		if e.Equal(k) {
			return true
		}
	}
	return false
}
