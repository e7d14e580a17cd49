package sp

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/renkei-idwsf/renkei/saml/binding"
	"github.com/renkei-idwsf/renkei/store"
)

// Prefixes keep the SP's pending requests apart from each other and from
// anything else in a shared ArtifactStore.
const (
	prefixLogin  = "sp-authnreq:"
	prefixLogout = "sp-logoutreq:"
)

// maxRequestID bounds a request ID taken from a browser or a message
// before it reaches the store: ours are 33 characters.
const maxRequestID = 128

// pending is what the SP remembers of a request until its answer.
type pending struct {
	RelayState string `json:"relayState,omitempty"`
}

// park keeps p under prefix+id until expires. A handle already present is
// an internal error: IDs are 128 random bits.
func (s *SP) park(ctx context.Context, prefix, id string, p pending, now, expires time.Time) error {
	msg, err := json.Marshal(p)
	if err != nil {
		return wrap(KindInternal, err, "pending request")
	}
	a := store.Artifact{Handle: prefix + id, Issuer: s.cfg.EntityID, Recipient: s.cfg.IdP, Message: msg,
		Created: now, Expires: expires}
	if err := s.cfg.Store.PutArtifact(ctx, a); err != nil {
		return wrap(KindInternal, err, "park request")
	}
	return nil
}

// take removes and returns the request pending under prefix+id: once, from
// any node. Unknown, taken or expired is ErrUnknownRequest.
func (s *SP) take(ctx context.Context, prefix, id string, now time.Time) (*pending, error) {
	if id == "" || len(id) > maxRequestID {
		return nil, errorf(KindUnknownRequest, "request ID of %d bytes", len(id))
	}
	a, err := s.cfg.Store.TakeArtifact(ctx, prefix+id, now)
	if errors.Is(err, store.ErrNotFound) {
		return nil, wrap(KindUnknownRequest, err, id)
	}
	if err != nil {
		return nil, wrap(KindInternal, err, "take request")
	}
	var p pending
	if err := json.Unmarshal(a.Message, &p); err != nil || a.Recipient != s.cfg.IdP || a.Issuer != s.cfg.EntityID {
		return nil, errorf(KindInternal, "stored request %s is corrupt or not ours", id)
	}
	return &p, nil
}

// checkRelayState refuses a RelayState other than the one sent with the
// request: the binding does not protect it (SAML Bindings §3.4.3, §3.5.3:
// the IdP returns it unchanged), and the portal may act on it.
func checkRelayState(got string, p *pending) error {
	if got != p.RelayState {
		return errorf(KindRelayState, "RelayState %q came back as %q", p.RelayState, got)
	}
	return nil
}

// checkRelayStateOut refuses a RelayState the bindings cannot carry.
func checkRelayStateOut(rs string) error {
	if len(rs) > binding.MaxRelayState {
		return errorf(KindRelayState, "%d bytes, the bindings carry %d", len(rs), binding.MaxRelayState)
	}
	return nil
}
