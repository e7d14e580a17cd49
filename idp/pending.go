package idp

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"time"

	"github.com/renkei-idwsf/renkei/store"
)

// pendingPrefix keeps pending-request handles apart from SAML artifacts in
// the shared ArtifactStore.
const pendingPrefix = "authnreq:"

// handleBytes is the randomness of a pending-request handle: 256 bits.
const handleBytes = 32

// maxHandleLen bounds the handle text a client may send.
const maxHandleLen = 64

// Park keeps pend in the store for PendingLifetime and returns the random
// handle the card-login URL carries. The store is the ArtifactStore:
// one use and an expiry are exactly what a pending request needs, and
// every IdP node sharing the store can finish the login.
func (s *SSO) Park(ctx context.Context, pend *Pending, now time.Time) (string, error) {
	raw, err := s.p.randomBytes(handleBytes)
	if err != nil {
		return "", err
	}
	handle := base64.RawURLEncoding.EncodeToString(raw)
	msg, err := json.Marshal(pend)
	if err != nil {
		return "", Wrap(CodeInternal, err, "pending request")
	}
	a := store.Artifact{Handle: pendingPrefix + handle, Issuer: s.p.cfg.EntityID, Recipient: pend.SP,
		Message: msg, Created: now, Expires: now.Add(s.cfg.PendingLifetime)}
	if err := s.cfg.Pending.PutArtifact(ctx, a); err != nil {
		return "", Wrap(CodeInternal, err, "park request")
	}
	return handle, nil
}

// Resume takes the pending request handle names, once: a second use, an
// unknown or an expired handle is ErrUnknownRequest.
func (s *SSO) Resume(ctx context.Context, handle string, now time.Time) (*Pending, error) {
	if handle == "" || len(handle) > maxHandleLen {
		return nil, Errorf(CodeUnknownRequest, "handle of %d bytes", len(handle))
	}
	a, err := s.cfg.Pending.TakeArtifact(ctx, pendingPrefix+handle, now)
	if errors.Is(err, store.ErrNotFound) {
		return nil, Wrap(CodeUnknownRequest, err, "pending request")
	}
	if err != nil {
		return nil, Wrap(CodeInternal, err, "take pending request")
	}
	var pend Pending
	if err := json.Unmarshal(a.Message, &pend); err != nil || pend.SP != a.Recipient {
		return nil, Errorf(CodeInternal, "stored pending request is corrupt")
	}
	return &pend, nil
}
