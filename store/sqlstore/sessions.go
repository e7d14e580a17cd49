package sqlstore

import (
	"context"
	"fmt"

	"github.com/renkei-idwsf/renkei/store"
)

// sessionColumns lists the columns scanSession reads, in order.
const sessionColumns = `id, principal_id, authn_instant, authn_context, card_number, created, expires`

// participantColumns lists the columns scanParticipant reads, in order.
const participantColumns = `provider_id, session_index, name_id, name_id_format, joined`

// scanSession reads one row of sessionColumns.
func scanSession(s scanner) (store.Session, error) {
	var v store.Session
	var instant, created, expires int64
	err := s.Scan(&v.ID, &v.PrincipalID, &instant, &v.AuthnContext, &v.CardNumber, &created, &expires)
	v.AuthnInstant, v.Created, v.Expires = fromTS(instant), fromTS(created), fromTS(expires)
	return v, err
}

// scanParticipant reads one row of participantColumns.
func scanParticipant(s scanner) (store.Participant, error) {
	var p store.Participant
	var joined int64
	err := s.Scan(&p.ProviderID, &p.SessionIndex, &p.NameID, &p.NameIDFormat, &joined)
	p.Joined = fromTS(joined)
	return p, err
}

// CreateSession implements store.SessionStore.
func (db *DB) CreateSession(ctx context.Context, s store.Session) error {
	if err := s.Validate(); err != nil {
		return err
	}
	return db.inTx(ctx, func(t tx) error {
		if err := t.principalExists(ctx, s.PrincipalID); err != nil {
			return err
		}
		_, err := t.exec(ctx, `INSERT INTO sessions (`+sessionColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			s.ID, s.PrincipalID, ts(s.AuthnInstant), s.AuthnContext, s.CardNumber, ts(s.Created), ts(s.Expires))
		if err != nil {
			return err
		}
		return t.insertParticipants(ctx, s)
	})
}

// insertParticipants stores s's participants.
func (t tx) insertParticipants(ctx context.Context, s store.Session) error {
	for _, p := range s.Participants {
		_, err := t.exec(ctx, `INSERT INTO session_participants (session_id, `+participantColumns+`)
			VALUES (?, ?, ?, ?, ?, ?)`, s.ID, p.ProviderID, p.SessionIndex, p.NameID, p.NameIDFormat, ts(p.Joined))
		if err != nil {
			return err
		}
	}
	return nil
}

// Session implements store.SessionStore.
func (db *DB) Session(ctx context.Context, id string) (store.Session, error) {
	var s store.Session
	err := db.read(ctx, func(t tx) (err error) {
		s, err = t.session(ctx, `WHERE id = ?`, id)
		return err
	})
	return s, err
}

// SessionByIndex implements store.SessionStore.
func (db *DB) SessionByIndex(ctx context.Context, providerID, sessionIndex string) (store.Session, error) {
	var s store.Session
	err := db.read(ctx, func(t tx) (err error) {
		s, err = t.session(ctx, `WHERE id = (SELECT session_id FROM session_participants
			WHERE provider_id = ? AND session_index = ?)`, providerID, sessionIndex)
		return err
	})
	return s, err
}

// session reads the session that where selects, with its participants.
func (t tx) session(ctx context.Context, where string, args ...any) (store.Session, error) {
	s, err := scanSession(t.queryRow(ctx, `SELECT `+sessionColumns+` FROM sessions `+where+
		t.forUpdate(), args...))
	if err != nil {
		return s, notFound(err, "session")
	}
	rows, err := t.query(ctx, `SELECT `+participantColumns+` FROM session_participants
		WHERE session_id = ? ORDER BY joined, provider_id`, s.ID)
	s.Participants, err = collect(rows, err, scanParticipant)
	return s, err
}

// Sessions implements store.SessionStore.
func (db *DB) Sessions(ctx context.Context, principalID string) ([]store.Session, error) {
	var out []store.Session
	err := db.read(ctx, func(t tx) error {
		rows, err := t.query(ctx, `SELECT id FROM sessions WHERE principal_id = ? ORDER BY created, id`, principalID)
		ids, err := collect(rows, err, func(s scanner) (id string, err error) { return id, s.Scan(&id) })
		for _, id := range ids {
			s, err := t.session(ctx, `WHERE id = ?`, id)
			if err != nil {
				return err
			}
			out = append(out, s)
		}
		return err
	})
	return out, err
}

// UpdateSession implements store.SessionStore.
func (db *DB) UpdateSession(ctx context.Context, id string,
	fn func(store.Session) (store.Session, error)) (store.Session, error) {
	var out store.Session
	err := db.inTx(ctx, func(t tx) error {
		old, err := t.session(ctx, `WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if out, err = fn(old); err != nil {
			return err
		}
		return t.replaceSession(ctx, old, out)
	})
	return out, err
}

// replaceSession stores s and its participants in place of old.
func (t tx) replaceSession(ctx context.Context, old, s store.Session) error {
	if s.ID != old.ID || s.PrincipalID != old.PrincipalID {
		return fmt.Errorf("%w: an update must not change the session's ID or principal", store.ErrInvalid)
	}
	if err := s.Validate(); err != nil {
		return err
	}
	_, err := t.exec(ctx, `UPDATE sessions SET authn_instant = ?, authn_context = ?, card_number = ?,
		created = ?, expires = ? WHERE id = ?`, ts(s.AuthnInstant), s.AuthnContext, s.CardNumber, ts(s.Created), ts(s.Expires), s.ID)
	if err == nil {
		_, err = t.exec(ctx, `DELETE FROM session_participants WHERE session_id = ?`, s.ID)
	}
	if err == nil {
		err = t.insertParticipants(ctx, s)
	}
	return err
}

// DeleteSession implements store.SessionStore.
func (db *DB) DeleteSession(ctx context.Context, id string) (store.Session, error) {
	var out store.Session
	err := db.inTx(ctx, func(t tx) (err error) {
		if out, err = t.session(ctx, `WHERE id = ?`, id); err != nil {
			return err
		}
		_, err = t.exec(ctx, `DELETE FROM sessions WHERE id = ?`, id)
		return err
	})
	return out, err
}
