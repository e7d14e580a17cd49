package sqlstore

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/store"
	"github.com/renkei-idwsf/renkei/store/storetest"
)

// TestObserve: every database call is reported under the exported method
// it serves, a failure with its error, and nothing once the Observer is
// removed.
func TestObserve(t *testing.T) {
	db := openDSN(t, "sqlite::memory:")
	ctx := context.Background()
	var mu sync.Mutex
	got := map[string]int{}
	var failed []string
	db.Observe(func(op string, d time.Duration, err error) {
		mu.Lock()
		defer mu.Unlock()
		got[op]++
		if err != nil {
			failed = append(failed, op)
		}
		if d < 0 {
			t.Errorf("%s took %v", op, d)
		}
	})
	if err := db.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.CreatePrincipal(ctx, store.Principal{ID: "p-1", Created: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Principal(ctx, "p-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Principal(ctx, "p-none"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("fail/unknown-principal: %v", err)
	}
	if _, err := db.GarbageCollect(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, op := range []string{"Ping", "CreatePrincipal", "Principal", "GarbageCollect"} {
		if got[op] == 0 {
			t.Errorf("ok/named: no call reported as %s (%v)", op, got)
		}
	}
	if got["other"] != 0 {
		t.Errorf("ok/named: %d calls reported as other", got["other"])
	}
	if len(failed) == 0 || failed[0] != "Principal" {
		t.Errorf("fail/reported: failures %v, want Principal's", failed)
	}
	db.Observe(nil)
	before := got["Principal"]
	_, _ = db.Principal(ctx, "p-1")
	if got["Principal"] != before {
		t.Error("ok/removed: still observed")
	}
}

// TestObserveCached: calls from one place name their operation from the
// cache, the same each time, and calls of another method through the
// same helper are not confused with them.
func TestObserveCached(t *testing.T) {
	db := openDSN(t, "sqlite::memory:")
	ctx := context.Background()
	var mu sync.Mutex
	var got []string
	db.Observe(func(op string, _ time.Duration, _ error) { mu.Lock(); got = append(got, op); mu.Unlock() })
	for range 3 {
		db.Principal(ctx, "p-none")
		db.Card(ctx, "c-none")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 6 {
		t.Fatalf("%d calls reported, want 6: %v", len(got), got)
	}
	for i, op := range got {
		if want := []string{"Principal", "Card"}[i%2]; op != want {
			t.Fatalf("call %d reported as %s, want %s: %v", i, op, want, got)
		}
	}
}

// TestOperationDepth: over the whole conformance suite, on SQLite in
// memory and on a file, every operation named from opFrames frames is the
// one a walk of 64 frames names (with 3 frames, several are not).
func TestOperationDepth(t *testing.T) {
	var mu sync.Mutex
	var wrong []string
	named := 0
	opCheck = func(op, deep string) {
		mu.Lock()
		defer mu.Unlock()
		named++
		if op != deep {
			wrong = append(wrong, op+" (deep: "+deep+")")
		}
	}
	defer func() { opCheck = nil }()
	ops.Lock()
	clear(ops.m) // every path named anew, under the check
	ops.Unlock()
	observe := func(db *DB) store.Store {
		db.Observe(func(string, time.Duration, error) {})
		return db
	}
	t.Run("memory", func(t *testing.T) {
		storetest.RunTests(t, func(t *testing.T) store.Store { return observe(openDSN(t, "sqlite::memory:")) })
	})
	t.Run("file", func(t *testing.T) {
		storetest.RunTests(t, func(t *testing.T) store.Store {
			return observe(openDSN(t, "sqlite:"+filepath.Join(t.TempDir(), "depth.db")))
		})
	})
	mu.Lock()
	defer mu.Unlock()
	if named == 0 {
		t.Fatal("no operation was named")
	}
	if len(wrong) > 0 {
		t.Errorf("named from %d frames but not from 64: %v", opFrames, wrong)
	}
}
