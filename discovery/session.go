package discovery

import (
	"context"
	"errors"
	"maps"
	"slices"
	"time"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/store"
	"github.com/renkei-idwsf/renkei/wsf/disco"
)

// joinSession makes every WSP of targets that gets a token a participant
// of the IdP session sess (SAML Profiles §4.4: the WSP's SingleLogoutService
// is then sent a LogoutRequest when the session ends), with the pairwise
// persistent NameID its token carries, and sets each target's
// SessionIndex. A WSP that participates already keeps its SessionIndex;
// the session is written only when some WSP has not joined yet, all the
// new ones in one update. Nothing is done when sess is nil. A session
// that ended meanwhile is a *refusal (Forbidden).
func (d *DS) joinSession(ctx context.Context, sess *store.Session, targets map[string]*target, now time.Time) error {
	if sess == nil {
		return nil
	}
	hears, _ := d.cfg.Providers.(SingleLogouts)
	var add []store.Participant
	for _, p := range slices.Sorted(maps.Keys(targets)) {
		t := targets[p]
		if t.err != nil || hears != nil && !hears.HearsLogout(ctx, p) {
			continue // no token, or a WSP no logout could reach
		}
		if part, ok := sess.Participant(p); ok {
			t.sessionIndex = part.SessionIndex
			continue
		}
		index, err := saml.NewID(d.cfg.Rand)
		if err != nil {
			return err
		}
		add = append(add, store.Participant{ProviderID: p, SessionIndex: index,
			NameID: t.nameID.Value, NameIDFormat: t.nameID.Format, Joined: now})
	}
	if len(add) == 0 {
		return nil
	}
	got, err := d.addParticipants(ctx, sess.ID, add, now)
	if err != nil {
		return err
	}
	for p, index := range got {
		targets[p].sessionIndex = index
	}
	return nil
}

// SingleLogouts is implemented by Providers that know which providers
// hear single logout (metadir.Directory: a SOAP SingleLogoutService in an
// SP role of the entity). Only those join the IdP session and get a
// SessionIndex in their tokens: the IdP would count a participant it
// cannot reach as a failure of every logout of the session (a
// PartialLogout), and its tokens would not end with the session anyway.
// Providers that do not implement it let every WSP join.
type SingleLogouts interface {
	HearsLogout(ctx context.Context, entityID string) bool
}

// errSessionEnded stops an update of a session that has run out.
var errSessionEnded = errors.New("discovery: IdP session ended")

// addParticipants adds add to the session in one atomic update, keeping
// the SessionIndex of a provider that joined in between, and returns the
// SessionIndex of each provider of add.
func (d *DS) addParticipants(ctx context.Context, id string, add []store.Participant, now time.Time) (map[string]string, error) {
	var got map[string]string
	_, err := d.cfg.Store.UpdateSession(ctx, id, func(s store.Session) (store.Session, error) {
		got = make(map[string]string, len(add)) // the closure may run again
		if !now.Before(s.Expires) {
			return s, errSessionEnded
		}
		ps := slices.Clone(s.Participants)
		for _, np := range add {
			if old, ok := s.Participant(np.ProviderID); ok {
				got[np.ProviderID] = old.SessionIndex
				continue
			}
			ps = append(ps, np)
			got[np.ProviderID] = np.SessionIndex
		}
		s.Participants = ps
		return s, nil
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, refuse(disco.Forbidden, "IdP session of the token ended (logout) before the WSPs joined")
	case errors.Is(err, errSessionEnded):
		return nil, refuse(disco.Forbidden, "IdP session of the token ran out before the WSPs joined")
	case err != nil:
		return nil, err
	}
	return got, nil
}
