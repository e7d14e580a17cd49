// Package wsfstore joins the ID-WSF receiver to the shared store: the
// replay cache of wsf/server kept in store.ReplayCache, so that every node
// of a role (and every process over one database) refuses a MessageID
// another already accepted. The wire and framework packages import no
// storage; the roles' assemblies use this.
package wsfstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/renkei-idwsf/renkei/store"
	"github.com/renkei-idwsf/renkei/wsf/server"
)

// Replay returns the wsf/server replay cache over c: (sender, MessageID)
// pairs as store.MessageIDKey, a second use reported as
// server.ErrReplayed.
func Replay(c store.ReplayCache) server.ReplayCache {
	return server.ReplayFunc(func(ctx context.Context, sender, messageID string, expiry, now time.Time) error {
		err := c.CheckAndInsert(ctx, store.MessageIDKey(sender, messageID), expiry, now)
		if errors.Is(err, store.ErrReplay) {
			return fmt.Errorf("%w: %w", server.ErrReplayed, err)
		}
		return err
	})
}
