package store

import (
	"context"
	"time"
)

// Session is an IdP session and the service providers that joined it, which
// single logout must reach (SAML 2.0 Profiles §4.4).
type Session struct {
	ID           string
	PrincipalID  string
	AuthnInstant time.Time
	AuthnContext string // AuthnContextClassRef of the authentication
	// CardNumber is the card (or registered soft certificate) the login
	// presented, so that revoking it ends the session; empty when the
	// authentication used none.
	CardNumber   string
	Created      time.Time
	Expires      time.Time // the session's NotOnOrAfter
	Participants []Participant
}

// Participant is a service provider that received an assertion in a
// session, with what a LogoutRequest to it must carry.
type Participant struct {
	ProviderID   string
	SessionIndex string // unique per provider
	NameID       string
	NameIDFormat string
	Joined       time.Time
}

// Validate reports whether every backend can store s.
func (s Session) Validate() error {
	err := firstErr(checkKey("session ID", s.ID), checkKey("principal ID", s.PrincipalID),
		checkSetTime("authn instant", s.AuthnInstant), checkText("authn context", s.AuthnContext), checkText("card number", s.CardNumber),
		checkSetTime("created", s.Created), checkSetTime("expires", s.Expires))
	seen := make(map[string]bool, len(s.Participants))
	for _, p := range s.Participants {
		if err == nil && seen[p.ProviderID] {
			err = invalid("participant", "provider %q twice", p.ProviderID)
		}
		seen[p.ProviderID] = true
		err = firstErr(err, p.Validate())
	}
	return err
}

// Validate reports whether every backend can store p.
func (p Participant) Validate() error {
	return firstErr(checkKey("participant provider ID", p.ProviderID),
		checkKey("session index", p.SessionIndex), checkKey("participant NameID", p.NameID),
		checkText("NameID format", p.NameIDFormat), checkSetTime("joined", p.Joined))
}

// Participant returns the participant for providerID and whether there is one.
func (s Session) Participant(providerID string) (Participant, bool) {
	for _, p := range s.Participants {
		if p.ProviderID == providerID {
			return p, true
		}
	}
	return Participant{}, false
}

// SessionStore keeps the IdP's sessions. Reads return expired sessions too:
// the caller compares Expires with its own now, and GarbageCollect removes
// them.
type SessionStore interface {
	// CreateSession stores s with its participants. It returns ErrNotFound
	// when the principal does not exist and ErrAlreadyExists when the ID or
	// a (provider, session index) is taken.
	CreateSession(ctx context.Context, s Session) error
	// Session returns the session with that ID, or ErrNotFound.
	Session(ctx context.Context, id string) (Session, error)
	// SessionByIndex returns the session a provider knows by sessionIndex.
	SessionByIndex(ctx context.Context, providerID, sessionIndex string) (Session, error)
	// Sessions returns a principal's sessions, oldest first.
	Sessions(ctx context.Context, principalID string) ([]Session, error)
	// UpdateSession applies fn atomically, as UpdateFederation does; the
	// participants fn returns replace the stored ones.
	UpdateSession(ctx context.Context, id string, fn func(Session) (Session, error)) (Session, error)
	// DeleteSession removes the session and returns it as it was; of two
	// concurrent calls exactly one gets it, the other gets ErrNotFound.
	DeleteSession(ctx context.Context, id string) (Session, error)
}
