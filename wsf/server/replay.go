package server

import (
	"context"
	"errors"
	"sync"
	"time"
)

// ErrReplayed is what a ReplayCache returns (or wraps) for a pair it has
// recorded before.
var ErrReplayed = errors.New("server: (sender, MessageID) already recorded")

// ReplayCache remembers (sender, MessageID) pairs for the timestamp window
// (IDWSF2 §2.3 step 6). CheckAndInsert records the pair until expiry, or
// returns ErrReplayed when it is recorded and not expired; of concurrent
// calls with one pair, from any process, exactly one succeeds. The store
// package's ReplayCache provides this across processes; engines adapt it
// with ReplayFunc, since wsf imports no storage:
//
//	server.ReplayFunc(func(ctx context.Context, sender, mid string, expiry, now time.Time) error {
//		err := st.CheckAndInsert(ctx, store.MessageIDKey(sender, mid), expiry, now)
//		if errors.Is(err, store.ErrReplay) {
//			return fmt.Errorf("%w: %w", server.ErrReplayed, err)
//		}
//		return err
//	})
type ReplayCache interface {
	CheckAndInsert(ctx context.Context, sender, messageID string, expiry, now time.Time) error
}

// ReplayFunc adapts a function to ReplayCache.
type ReplayFunc func(ctx context.Context, sender, messageID string, expiry, now time.Time) error

// CheckAndInsert calls f.
func (f ReplayFunc) CheckAndInsert(ctx context.Context, sender, messageID string, expiry, now time.Time) error {
	return f(ctx, sender, messageID, expiry, now)
}

// MemoryReplayCache is a ReplayCache for one process, for tests and
// single-node tools: a mutex-guarded map whose expired pairs are dropped
// as it grows.
type MemoryReplayCache struct {
	mu   sync.Mutex
	seen map[[2]string]time.Time
}

var _ ReplayCache = (*MemoryReplayCache)(nil)

// NewMemoryReplayCache returns an empty cache.
func NewMemoryReplayCache() *MemoryReplayCache {
	return &MemoryReplayCache{seen: map[[2]string]time.Time{}}
}

// CheckAndInsert records the pair or returns ErrReplayed.
func (m *MemoryReplayCache) CheckAndInsert(_ context.Context, sender, messageID string, expiry, now time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := [2]string{sender, messageID}
	if exp, ok := m.seen[k]; ok && exp.After(now) {
		return ErrReplayed
	}
	if len(m.seen) >= 1024 {
		m.prune(now)
	}
	m.seen[k] = expiry
	return nil
}

func (m *MemoryReplayCache) prune(now time.Time) {
	for k, exp := range m.seen {
		if !exp.After(now) {
			delete(m.seen, k)
		}
	}
}

// Len returns how many pairs are recorded, expired ones included.
func (m *MemoryReplayCache) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.seen)
}

// memo keeps the first response to each (sender, MessageID) with the
// fingerprint of its request (signed Body digest and TLS client key), so
// that an identical retransmission gets the same answer instead of
// DuplicateMsg. It is per process and bounded: a retransmission that
// reaches another node, or comes after eviction, gets DuplicateMsg, which
// is safe because the ReplayCache, not the memo, decides what is processed.
type memo struct {
	mu      sync.Mutex
	max     int
	entries map[[2]string]memoEntry
}

type memoEntry struct {
	fingerprint [32]byte
	status      int
	response    []byte
	expiry      time.Time
}

// newMemo keeps up to max responses: 0 means DefaultMemoSize, a
// negative max none.
func newMemo(max int) *memo {
	if max == 0 {
		max = DefaultMemoSize
	}
	return &memo{max: max, entries: map[[2]string]memoEntry{}}
}

// lookup returns the stored entry for the pair, if not expired at now.
func (m *memo) lookup(sender, mid string, now time.Time) (memoEntry, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[[2]string{sender, mid}]
	if !ok || !e.expiry.After(now) {
		return memoEntry{}, false
	}
	return e, true
}

func (m *memo) put(sender, mid string, e memoEntry, now time.Time) {
	if m.max < 0 {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.entries) >= m.max {
		m.evict(now)
	}
	m.entries[[2]string{sender, mid}] = e
}

// evict drops expired entries, then, if still full, the one expiring
// first.
func (m *memo) evict(now time.Time) {
	var oldest [2]string
	var oldestExp time.Time
	for k, e := range m.entries {
		if !e.expiry.After(now) {
			delete(m.entries, k)
			continue
		}
		if oldestExp.IsZero() || e.expiry.Before(oldestExp) {
			oldest, oldestExp = k, e.expiry
		}
	}
	if len(m.entries) >= m.max {
		delete(m.entries, oldest)
	}
}
