package server

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/store"
	"github.com/renkei-idwsf/renkei/store/sqlstore"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/internal/wsftest"
)

// storeReplay adapts the store's replay cache to ReplayCache, as the
// engines wire it (wsf imports no storage).
func storeReplay(c store.ReplayCache) ReplayFunc {
	return func(ctx context.Context, sender, messageID string, expiry, now time.Time) error {
		err := c.CheckAndInsert(ctx, store.MessageIDKey(sender, messageID), expiry, now)
		if errors.Is(err, store.ErrReplay) {
			return fmt.Errorf("%w: %w", ErrReplayed, err)
		}
		return err
	}
}

// TestStoreReplayAcrossNodes: two WSP nodes, each with its own handle on
// one SQLite file, serve a message once; a copy sent to either node, or
// to both at once, is DuplicateMsg.
func TestStoreReplayAcrossNodes(t *testing.T) {
	k := wsftest.Keys(t)
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "replay.db")
	node := func() *fixture {
		db, err := sqlstore.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return newFixture(t, wsf.Strict, func(c *Config) { c.Replay = storeReplay(db) })
	}
	a, b := node(), node()
	first := a.request(hok(a, nil))
	a.wantOK(a.receive(first, k.WSC.Cert))
	wantCode(t, b.receive(first, k.WSC.Cert), wsf.DuplicateMsg)

	r := hok(a, nil)
	r.header = func(h *wsf.Header) { h.MessageID = "urn:uuid:11111111-2222-4333-8444-555555555555" }
	second := a.request(r)
	var wg sync.WaitGroup
	for _, n := range []*fixture{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n.receive(second, k.WSC.Cert)
		}()
	}
	wg.Wait()
	if served := a.calls.Load() + b.calls.Load(); served != 2 {
		t.Fatalf("served %d times in all, want 2 (the first message and one copy of the second)", served)
	}
}
