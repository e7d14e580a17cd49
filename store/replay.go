package store

import (
	"context"
	"strconv"
	"strings"
	"time"
)

// ReplayKind names the kind of a one-time identifier.
type ReplayKind string

// The kinds of one-time identifiers Renkei remembers.
const (
	ReplayRequestID   ReplayKind = "request-id"   // a SAML request's ID, per issuer
	ReplayAssertionID ReplayKind = "assertion-id" // an assertion's ID, per issuer (Profiles §4.1.4.5)
	ReplayMessageID   ReplayKind = "message-id"   // a WS-Addressing MessageID, per sender
	// ReplayEndedSession is a SessionIndex that single logout ended at
	// this provider, per IdP: a token naming it is refused until it
	// expires (SAML Profiles §4.4).
	ReplayEndedSession ReplayKind = "ended-session"
)

// ReplayKey identifies one use of a one-time identifier.
type ReplayKey struct {
	Kind  ReplayKind
	Value string
}

// NewReplayKey returns the key of kind for the scope (an issuer or sender
// entity ID) and the identifier. Distinct (scope, id) pairs give distinct
// keys, so one sender cannot use up another sender's identifiers.
func NewReplayKey(kind ReplayKind, scope, id string) ReplayKey {
	return ReplayKey{Kind: kind, Value: strconv.Itoa(len(scope)) + ":" + scope + id}
}

// MessageIDKey returns the key of a (sender, MessageID) pair: the ID-WSF SOAP
// Binding 2.0 receiver remembers that pair for the timestamp window and
// answers a repeat with DuplicateMsg.
func MessageIDKey(sender, messageID string) ReplayKey {
	return NewReplayKey(ReplayMessageID, sender, messageID)
}

// SplitReplayKey reverses NewReplayKey, reporting false for a value it did
// not produce.
func SplitReplayKey(k ReplayKey) (scope, id string, ok bool) {
	n, rest, found := strings.Cut(k.Value, ":")
	size, err := strconv.Atoi(n)
	if !found || err != nil || size < 0 || size > len(rest) || strconv.Itoa(size) != n {
		return "", "", false
	}
	return rest[:size], rest[size:], true
}

// Validate reports whether every backend can store k.
func (k ReplayKey) Validate() error {
	return firstErr(checkKey("replay kind", string(k.Kind)), checkKey("replay value", k.Value))
}

// ValidateUse reports whether every backend can record a use of k that
// lasts from now until expiry; expiry must be after now, or the use would
// be forgotten at once and a replay would pass.
func (k ReplayKey) ValidateUse(expiry, now time.Time) error {
	err := firstErr(k.Validate(), checkSetTime("expiry", expiry), checkSetTime("now", now))
	if err == nil && !expiry.After(now) {
		err = invalid("expiry", "%v is not after now %v", expiry, now)
	}
	return err
}

// ReplayCache remembers one-time identifiers until they expire.
type ReplayCache interface {
	// CheckAndInsert records key as used until expiry, which must be after
	// now. It returns ErrReplay when key was recorded before and its expiry
	// is still after now; of concurrent calls with one key, from any
	// process, exactly one returns nil.
	CheckAndInsert(ctx context.Context, key ReplayKey, expiry, now time.Time) error
	// Seen reports whether key is recorded with an expiry after now,
	// without recording anything.
	Seen(ctx context.Context, key ReplayKey, now time.Time) (bool, error)
}
