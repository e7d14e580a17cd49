package store

import (
	"context"
	"time"
)

// Artifact is a protocol message waiting to be resolved through the
// HTTP-Artifact binding (SAML 2.0 Bindings §3.6).
type Artifact struct {
	Handle    string // the artifact's MessageHandle, or the whole artifact, as text
	Issuer    string // entity ID of the party that issued the artifact
	Recipient string // entity ID of the only party allowed to resolve it
	Message   []byte // the SAML message, as XML bytes
	Created   time.Time
	Expires   time.Time
}

// Validate reports whether every backend can store a.
func (a Artifact) Validate() error {
	return firstErr(checkKey("artifact handle", a.Handle), checkText("issuer", a.Issuer),
		checkText("recipient", a.Recipient), checkSetTime("created", a.Created),
		checkSetTime("expires", a.Expires))
}

// ArtifactStore holds artifacts until their one resolution.
type ArtifactStore interface {
	// PutArtifact stores a, or returns ErrAlreadyExists for a known handle.
	PutArtifact(ctx context.Context, a Artifact) error
	// ReplaceArtifact stores a in place of any artifact with its handle,
	// live or expired, in one atomic write: a note that each new event
	// renews (the IdP's record of a principal's last card login at an SP)
	// without a take and a put.
	ReplaceArtifact(ctx context.Context, a Artifact) error
	// TakeArtifact removes the artifact and returns it. Bindings §3.6: an
	// artifact is resolved at most once, so of concurrent calls, from any
	// process, exactly one gets it; the others, and any call at or after
	// its expiry, get ErrNotFound. The caller checks Recipient against the
	// requester.
	TakeArtifact(ctx context.Context, handle string, now time.Time) (Artifact, error)
}

// DurableTaker is an ArtifactStore whose TakeArtifact may return before
// the take is durable (a lazy commit: an operating-system crash or power
// cut could bring the row back) and which offers a take that is durable
// when it returns. A SAML artifact's resolution, whose answer nothing
// synced follows, takes through it (Bindings §3.6.4: one resolution).
type DurableTaker interface {
	TakeArtifactDurable(ctx context.Context, handle string, now time.Time) (Artifact, error)
}
