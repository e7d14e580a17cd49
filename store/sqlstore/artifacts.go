package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/renkei-idwsf/renkei/store"
)

// PutArtifact implements store.ArtifactStore.
func (db *DB) PutArtifact(ctx context.Context, a store.Artifact) error {
	if err := a.Validate(); err != nil {
		return err
	}
	_, err := db.execLazy(ctx, `INSERT INTO artifacts (handle, issuer, recipient, message, created, expires)
		VALUES (?, ?, ?, ?, ?, ?)`, a.Handle, a.Issuer, a.Recipient, blob(a.Message), ts(a.Created), ts(a.Expires))
	return err
}

// ReplaceArtifact implements store.ArtifactStore with one upsert, lazy like
// PutArtifact.
func (db *DB) ReplaceArtifact(ctx context.Context, a store.Artifact) error {
	if err := a.Validate(); err != nil {
		return err
	}
	_, err := db.execLazy(ctx, `INSERT INTO artifacts (handle, issuer, recipient, message, created, expires)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (handle) DO UPDATE SET issuer = excluded.issuer, recipient = excluded.recipient,
			message = excluded.message, created = excluded.created, expires = excluded.expires`,
		a.Handle, a.Issuer, a.Recipient, blob(a.Message), ts(a.Created), ts(a.Expires))
	return err
}

// TakeArtifact implements store.ArtifactStore with one DELETE ... RETURNING:
// both SQLite and PostgreSQL let only one statement delete the row, so only
// one caller receives it. Like PutArtifact, it is a lazy write (batch.go).
func (db *DB) TakeArtifact(ctx context.Context, handle string, now time.Time) (store.Artifact, error) {
	return db.takeArtifact(ctx, true, handle, now)
}

// TakeArtifactDurable implements store.DurableTaker: TakeArtifact with a
// synced commit, for a take that no synced write follows.
func (db *DB) TakeArtifactDurable(ctx context.Context, handle string, now time.Time) (store.Artifact, error) {
	return db.takeArtifact(ctx, false, handle, now)
}

var _ store.DurableTaker = (*DB)(nil)

func (db *DB) takeArtifact(ctx context.Context, lazy bool, handle string, now time.Time) (store.Artifact, error) {
	if err := store.ValidateNow(now); err != nil {
		return store.Artifact{}, err
	}
	a := store.Artifact{Handle: handle}
	var created, expires int64
	err := db.writeRowLazy(ctx, lazy, []any{&a.Issuer, &a.Recipient, &a.Message, &created, &expires},
		`DELETE FROM artifacts WHERE handle = ? RETURNING issuer, recipient, message, created, expires`, handle)
	if err != nil {
		return store.Artifact{}, notFound(db.d.wrap(err), "artifact")
	}
	a.Created, a.Expires = fromTS(created), fromTS(expires)
	if !now.Before(a.Expires) {
		return store.Artifact{}, fmt.Errorf("%w: artifact expired at %v", store.ErrNotFound, a.Expires)
	}
	return a, nil
}

// CheckAndInsert implements store.ReplayCache with one upsert: a new key is
// inserted, an expired one re-armed, and a live one left alone, which the
// statement reports as zero rows changed. Both backends run it atomically,
// so one caller wins whichever process it is in.
func (db *DB) CheckAndInsert(ctx context.Context, key store.ReplayKey, expiry, now time.Time) error {
	if err := key.ValidateUse(expiry, now); err != nil {
		return err
	}
	n, err := db.execLazy(ctx, `INSERT INTO seen_ids (kind, value, expires) VALUES (?, ?, ?)
		ON CONFLICT (kind, value) DO UPDATE SET expires = excluded.expires
		WHERE seen_ids.expires <= ?`, string(key.Kind), key.Value, ts(expiry), ts(now))
	if err == nil && n == 0 {
		err = fmt.Errorf("%w: %s", store.ErrReplay, key.Kind)
	}
	return err
}

// Seen implements store.ReplayCache.
func (db *DB) Seen(ctx context.Context, key store.ReplayKey, now time.Time) (bool, error) {
	if err := key.Validate(); err != nil {
		return false, err
	}
	if err := store.ValidateNow(now); err != nil {
		return false, err
	}
	var n int
	err := db.queryRow(ctx, `SELECT COUNT(*) FROM seen_ids WHERE kind = ? AND value = ? AND expires > ?`,
		string(key.Kind), key.Value, ts(now)).Scan(&n)
	return n > 0, err
}

// GarbageCollect implements store.Collector.
func (db *DB) GarbageCollect(ctx context.Context, now time.Time) (store.GCResult, error) {
	var r store.GCResult
	err := store.ValidateNow(now)
	if err != nil {
		return r, err
	}
	n := ts(now)
	if r.Sessions, err = db.exec(ctx, `DELETE FROM sessions WHERE expires <= ?`, n); err != nil {
		return r, err
	}
	if r.Artifacts, err = db.exec(ctx, `DELETE FROM artifacts WHERE expires <= ?`, n); err != nil {
		return r, err
	}
	r.SeenIDs, err = db.exec(ctx, `DELETE FROM seen_ids WHERE expires <= ?`, n)
	return r, err
}
