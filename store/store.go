// Package store is Renkei's persistence contract: the relay database of
// identifier links (principals, their cards and their federations with each
// provider), single-logout sessions, SAML artifacts, replay caches, ID-WSF
// service metadata and associations, and the audit log.
//
// Each consumer declares the small interface it needs (an IdP a
// FederationStore and a SessionStore, a WSP a ReplayCache and an AuditLog);
// a backend such as store/sqlstore implements them all and Store composes
// them. Every backend returns the same sentinel errors, applies
// read-modify-write closures atomically, and passes the one conformance
// suite in store/storetest.
//
// XML is kept as bytes: this package imports no wire package.
package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// Sentinel errors every backend returns; match them with errors.Is.
var (
	// ErrNotFound reports that the record, or a record it refers to, does
	// not exist (or has expired, for artifacts).
	ErrNotFound = errors.New("store: not found")
	// ErrAlreadyExists reports that a record with the same key, or with the
	// same value in a unique field, already exists.
	ErrAlreadyExists = errors.New("store: already exists")
	// ErrReplay reports a second use of a one-time identifier. It matches
	// ErrAlreadyExists too.
	ErrReplay = fmt.Errorf("%w: identifier already used", ErrAlreadyExists)
	// ErrConflict reports that the record's state forbids the change, such
	// as revoking a card that is already revoked.
	ErrConflict = errors.New("store: conflicting state")
	// ErrInvalid reports an argument no backend can store faithfully: an
	// empty key, text that is not UTF-8 or holds NUL, a time out of range.
	ErrInvalid = errors.New("store: invalid argument")
)

// Store is everything a backend provides. Consumers should depend on the
// smaller interfaces it embeds, never on Store itself.
type Store interface {
	PrincipalStore
	FederationStore
	SessionStore
	ArtifactStore
	ReplayCache
	SvcMDStore
	AssociationStore
	AuditLog
	Collector
	io.Closer
}

// Collector removes expired rows.
type Collector interface {
	// GarbageCollect deletes the sessions, artifacts and seen identifiers
	// whose expiry is at or before now, and reports how many of each.
	GarbageCollect(ctx context.Context, now time.Time) (GCResult, error)
}

// ValidateNow reports whether every backend can compare stored expiries
// with now.
func ValidateNow(now time.Time) error { return checkSetTime("now", now) }

// GCResult counts the rows one GarbageCollect removed.
type GCResult struct {
	Sessions  int64
	Artifacts int64
	SeenIDs   int64
}
