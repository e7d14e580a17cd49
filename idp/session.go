package idp

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"time"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/store"
)

// cookieBytes is the randomness of a session cookie: 256 bits.
const cookieBytes = 32

// maxCookieLen bounds the cookie text hashed on lookup.
const maxCookieLen = 128

// Session is an IdP session (SAML Profiles §4.4: the state single logout
// needs) with the cookie that names it in the browser. The store keeps
// only the SHA-256 of the cookie as the session ID, so a copy of the
// database cannot be replayed as cookies.
type Session struct {
	store.Session
	// Cookie is the secret cookie value; it is set only when the session
	// is made (StartSession, newSession).
	Cookie string
	// unsaved: made by newSession and not stored yet. The first join
	// stores it with its first participants, in one write (SSO.join);
	// saveSession stores it without.
	unsaved bool
}

// sessionID is the stored ID of the session a cookie names.
func sessionID(cookie string) string {
	h := sha256.Sum256([]byte(cookie))
	return hex.EncodeToString(h[:])
}

// StartSession opens a session for a at now, lasting SessionLifetime, and
// returns it with its fresh random cookie.
func (p *IdP) StartSession(ctx context.Context, a Authn, now time.Time) (*Session, error) {
	return p.startSession(ctx, a, p.cfg.SessionLifetime, now)
}

// startSession opens a session for a at now lasting life (newSession,
// then saveSession).
func (p *IdP) startSession(ctx context.Context, a Authn, life time.Duration, now time.Time) (*Session, error) {
	s, err := p.newSession(a, life, now)
	if err != nil {
		return nil, err
	}
	if err := p.saveSession(ctx, s); err != nil {
		return nil, err
	}
	return s, nil
}

// newSession makes a session for a at now lasting life, with its fresh
// random cookie, without storing it. An ECP session (life = ECPLifetime)
// gets a cookie too, which nobody is given: it is found only by the
// SessionIndexes of its participants.
func (p *IdP) newSession(a Authn, life time.Duration, now time.Time) (*Session, error) {
	raw, err := p.randomBytes(cookieBytes)
	if err != nil {
		return nil, err
	}
	cookie := base64.RawURLEncoding.EncodeToString(raw)
	s := store.Session{ID: sessionID(cookie), PrincipalID: a.PrincipalID, AuthnInstant: a.Instant,
		AuthnContext: a.ClassRef, CardNumber: a.CardNumber, Created: now, Expires: now.Add(life)}
	return &Session{Session: s, Cookie: cookie, unsaved: true}, nil
}

// saveSession stores a session newSession made, with the participants it
// holds. A session found stored under its ID was stored by this login:
// the ID is the hash of a fresh 256-bit cookie, so only a write of its own
// that the store reported failed but committed (a connection lost at
// COMMIT) can have made it.
func (p *IdP) saveSession(ctx context.Context, s *Session) error {
	err := p.cfg.Sessions.CreateSession(ctx, s.Session)
	if errors.Is(err, store.ErrAlreadyExists) {
		if _, gerr := p.cfg.Sessions.Session(ctx, s.ID); gerr == nil {
			s.unsaved = false
			return nil
		}
	}
	if errors.Is(err, store.ErrNotFound) {
		return Wrap(CodeUnknownPrincipal, err, "principal "+s.PrincipalID)
	}
	if err != nil {
		return storeError(err, "create session")
	}
	s.unsaved = false
	return nil
}

// SessionByCookie returns the live session a cookie names:
// ErrNoSession for an unknown (or malformed) cookie, ErrSessionExpired
// when it ended at or before now, and ErrCertRevoked when the card its login
// presented is no longer in service (revoked, or replaced by a reissue):
// that session is ended, so a card reported lost stops opening sessions
// at once, not when the session would have run out.
func (p *IdP) SessionByCookie(ctx context.Context, cookie string, now time.Time) (*Session, error) {
	if cookie == "" || len(cookie) > maxCookieLen {
		return nil, Errorf(CodeNoSession, "cookie of %d bytes", len(cookie))
	}
	s, err := p.cfg.Sessions.Session(ctx, sessionID(cookie))
	if err != nil {
		return nil, storeError(err, "session")
	}
	if !now.Before(s.Expires) {
		return nil, Errorf(CodeSessionExpired, "session of %q ended at %s", s.PrincipalID, s.Expires.Format(time.RFC3339))
	}
	if err := p.cardInService(ctx, s); err != nil {
		return nil, err
	}
	return &Session{Session: s}, nil
}

// cardInService checks that the card s's login presented is still issued;
// otherwise it ends s and says why.
func (p *IdP) cardInService(ctx context.Context, s store.Session) error {
	if s.CardNumber == "" {
		return nil
	}
	c, err := p.cfg.Cards.Card(ctx, s.CardNumber)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return Wrap(CodeInternal, err, "card lookup")
	}
	if err == nil && c.Status == store.CardIssued {
		return nil
	}
	if _, err := p.cfg.Sessions.DeleteSession(ctx, s.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return Wrap(CodeInternal, err, "end session")
	}
	return Errorf(CodeCertRevoked, "card %q of session of %q is no longer in service; session ended", s.CardNumber, s.PrincipalID)
}

// Authn returns the authentication the session remembers, for an SSO
// served from the session without a new login.
func (s *Session) Authn() Authn {
	return Authn{PrincipalID: s.PrincipalID, CardNumber: s.CardNumber, ClassRef: s.AuthnContext, Instant: s.AuthnInstant}
}

// Join records that sp received an assertion with nameID in the session
// and returns the SessionIndex to put in its AuthnStatement. An SP that
// joined before keeps its SessionIndex; its NameID is updated to the one
// sent last, which is what a LogoutRequest to it must carry (a transient
// NameID changes with every assertion).
func (p *IdP) Join(ctx context.Context, sessionID, sp string, nameID *saml.NameID, now time.Time) (string, error) {
	got, err := p.join(ctx, sessionID, []joining{{sp, nameID}}, now)
	if err != nil {
		return "", err
	}
	return got[0], nil
}

// joining is a provider joining a session with the NameID it received.
type joining struct {
	sp     string
	nameID *saml.NameID
}

// join is Join for several providers at once, in one write of the
// session: an SSO that carries a discovery bootstrap joins the SP and the
// DS together. It returns their SessionIndexes in the order of js.
func (p *IdP) join(ctx context.Context, sessionID string, js []joining, now time.Time) ([]string, error) {
	fresh, err := p.freshIndexes(len(js)) // made once: UpdateSession may run fn again
	if err != nil {
		return nil, err
	}
	var got []string
	_, err = p.cfg.Sessions.UpdateSession(ctx, sessionID, func(s store.Session) (store.Session, error) {
		if !now.Before(s.Expires) {
			return s, Errorf(CodeSessionExpired, "session ended at %s", s.Expires.Format(time.RFC3339))
		}
		s.Participants, got = withJoined(s.Participants, js, fresh, now)
		return s, nil
	})
	if err != nil {
		return nil, storeError(err, "join session")
	}
	return got, nil
}

// joinNew stores the unsaved session s with js as its first
// participants, in one write, and returns their SessionIndexes.
func (p *IdP) joinNew(ctx context.Context, s *Session, js []joining, now time.Time) ([]string, error) {
	fresh, err := p.freshIndexes(len(js))
	if err != nil {
		return nil, err
	}
	saved := s.Participants
	var got []string
	s.Participants, got = withJoined(saved, js, fresh, now)
	if err := p.saveSession(ctx, s); err != nil {
		s.Participants = saved
		return nil, err
	}
	return got, nil
}

// freshIndexes makes n new SessionIndexes.
func (p *IdP) freshIndexes(n int) ([]string, error) {
	out := make([]string, n)
	for i := range out {
		index, err := p.newID()
		if err != nil {
			return nil, err
		}
		out[i] = index
	}
	return out, nil
}

// withJoined returns ps with each of js joined (joined), a new participant
// taking its SessionIndex from fresh, and the SessionIndexes js have, in
// their order.
func withJoined(ps []store.Participant, js []joining, fresh []string, now time.Time) ([]store.Participant, []string) {
	got := make([]string, len(js))
	for i, j := range js {
		ps, got[i] = joined(ps, store.Participant{ProviderID: j.sp, SessionIndex: fresh[i],
			NameID: j.nameID.Value, NameIDFormat: j.nameID.Format, Joined: now})
	}
	return ps, got
}

// joined returns ps with np added, or with the existing participant of the
// same provider updated, and the SessionIndex that provider has.
func joined(ps []store.Participant, np store.Participant) ([]store.Participant, string) {
	out := append([]store.Participant(nil), ps...)
	for i := range out {
		if out[i].ProviderID == np.ProviderID {
			out[i].NameID, out[i].NameIDFormat, out[i].Joined = np.NameID, np.NameIDFormat, np.Joined
			return out, out[i].SessionIndex
		}
	}
	return append(out, np), np.SessionIndex
}

// SessionByIndex returns the session sp knows by sessionIndex, as a
// LogoutRequest names it.
func (p *IdP) SessionByIndex(ctx context.Context, sp, sessionIndex string) (*Session, error) {
	s, err := p.cfg.Sessions.SessionByIndex(ctx, sp, sessionIndex)
	if err != nil {
		return nil, storeError(err, "session by index")
	}
	return &Session{Session: s}, nil
}

// EndSession removes the session and returns it as it was, with the
// participants single logout must now reach. Of two concurrent calls one
// gets the session and the other ErrNoSession.
func (p *IdP) EndSession(ctx context.Context, sessionID string) (*Session, error) {
	s, err := p.cfg.Sessions.DeleteSession(ctx, sessionID)
	if err != nil {
		return nil, storeError(err, "end session")
	}
	return &Session{Session: s}, nil
}

// storeError keeps an engine error from a closure, reads ErrNotFound as
// ErrNoSession and anything else as internal.
func storeError(err error, what string) error {
	var e *Error
	switch {
	case errors.As(err, &e):
		return err
	case errors.Is(err, store.ErrNotFound):
		return Wrap(CodeNoSession, err, what)
	}
	return Wrap(CodeInternal, err, what)
}
