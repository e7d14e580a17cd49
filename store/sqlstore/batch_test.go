package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/store"
)

// heldBatcher opens a SQLite file and occupies its batcher with a member
// that waits on the returned channel, so that what the test submits next
// queues and runs as one batch once the channel is closed.
func heldBatcher(t *testing.T) (*DB, chan struct{}) {
	t.Helper()
	db := openDSN(t, "sqlite:"+filepath.Join(t.TempDir(), "batch.db"))
	if db.b == nil {
		t.Fatal("a SQLite file has no batcher")
	}
	if _, err := db.w.Exec(`CREATE TABLE t (k TEXT PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	release, running := make(chan struct{}), make(chan struct{})
	go db.b.do(context.Background(), false, func(tx) error { close(running); <-release; return nil })
	<-running
	return db, release
}

// submit runs fns through the batcher, each queued behind the held member
// in the order given, releases it and returns each outcome; the held
// member and the batch of fns make commits COMMITs.
func submit(t *testing.T, db *DB, release chan struct{}, commits int64, fns ...func(tx) error) []error {
	t.Helper()
	out := make([]error, len(fns))
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if v := recover(); v != nil {
					out[i] = fmt.Errorf("panic: %v", v)
				}
			}()
			out[i] = db.b.do(context.Background(), false, fn)
		}()
		for len(db.b.reqs) < i+1 {
			time.Sleep(time.Millisecond) // until it is queued behind the held member, in order
		}
	}
	before := db.b.commits.Load()
	close(release)
	wg.Wait()
	if n := db.b.commits.Load() - before; n != commits {
		t.Errorf("%d COMMITs for the held member and %d queued callers, want %d", n, len(fns), commits)
	}
	return out
}

func insert(k string) func(tx) error {
	return func(t tx) error {
		_, err := t.exec(context.Background(), `INSERT INTO t (k) VALUES (?)`, k)
		return err
	}
}

func keys(t *testing.T, db *DB) map[string]bool {
	t.Helper()
	rows, err := db.r.Query(`SELECT k FROM t`)
	got, err := collect(rows, err, func(s scanner) (k string, err error) { return k, s.Scan(&k) })
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]bool{}
	for _, k := range got {
		m[k] = true
	}
	return m
}

// TestBatchMembersApart: in one batch, a member whose function fails, or
// panics, loses its own writes only; the others commit, and each caller
// gets its own outcome (the panic raised again in its goroutine).
func TestBatchMembersApart(t *testing.T) {
	db, release := heldBatcher(t)
	mine := errors.New("mine")
	failing := func(t tx) error {
		if err := insert("failed")(t); err != nil {
			return err
		}
		return mine
	}
	panicking := func(t tx) error {
		if err := insert("panicked")(t); err != nil {
			return err
		}
		panic("boom")
	}
	res := submit(t, db, release, 2, insert("a"), failing, insert("b"), panicking, insert("a"), insert("c"))
	if res[0] != nil || res[2] != nil || res[5] != nil {
		t.Errorf("good members failed: %v", res)
	}
	if !errors.Is(res[1], mine) {
		t.Errorf("failing member got %v, want its own error", res[1])
	}
	if res[3] == nil || res[3].Error() != "panic: boom" {
		t.Errorf("panicking member got %v, want its panic", res[3])
	}
	if res[4] == nil {
		t.Error("a second insert of a key succeeded")
	}
	want := map[string]bool{"a": true, "b": true, "c": true}
	if got := keys(t, db); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("rows %v, want %v", got, want)
	}
}

// TestBatchReplayOneWinner: callers racing to claim one key through the
// replay cache in the same batch: exactly one is told it is new.
func TestBatchReplayOneWinner(t *testing.T) {
	db, release := heldBatcher(t)
	now := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	key := store.ReplayKey{Kind: store.ReplayMessageID, Value: "urn:uuid:one"}
	var fns []func(tx) error
	var mu sync.Mutex
	won, replays := 0, 0
	for range 8 {
		fns = append(fns, func(t tx) error {
			n, err := t.exec(context.Background(), `INSERT INTO seen_ids (kind, value, expires) VALUES (?, ?, ?)
				ON CONFLICT (kind, value) DO NOTHING`, string(key.Kind), key.Value, ts(now.Add(time.Hour)))
			mu.Lock()
			defer mu.Unlock()
			if n == 1 {
				won++
			} else {
				replays++
			}
			return err
		})
	}
	for _, err := range submit(t, db, release, 2, fns...) {
		if err != nil {
			t.Fatal(err)
		}
	}
	if won != 1 || replays != 7 {
		t.Errorf("%d claims won, %d replays; want 1 and 7", won, replays)
	}
	if err := db.CheckAndInsert(context.Background(), key, now.Add(time.Hour), now); !errors.Is(err, store.ErrReplay) {
		t.Errorf("after the batch, the key is not taken: %v", err)
	}
}

// TestBatchQueuedCancelled: a caller whose context ends while queued is
// not run; a write after Close is refused.
func TestBatchQueuedCancelled(t *testing.T) {
	db, release := heldBatcher(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- db.b.do(ctx, false, insert("never")) }()
	for len(db.b.reqs) < 1 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	close(release)
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled caller got %v", err)
	}
	if err := db.b.do(context.Background(), false, insert("x")); err != nil {
		t.Fatal(err)
	}
	if got := keys(t, db); got["never"] || !got["x"] {
		t.Errorf("rows %v", got)
	}
	db.Close()
	if err := db.b.do(context.Background(), false, insert("y")); !errors.Is(err, errStoreClosed) {
		t.Errorf("write after Close: %v", err)
	}
}

// TestBatchLazy: a batch of lazy writes alone (replay claims) commits with
// synchronous=NORMAL, no fsync of its own; one that holds any other write
// commits with FULL, which also makes the lazy ones before it durable.
func TestBatchLazy(t *testing.T) {
	db := openDSN(t, "sqlite:"+filepath.Join(t.TempDir(), "lazy.db"))
	// SQLite reads the pragma when it prepares the query: each read is a
	// new text, never a cached statement.
	reads := 0
	mode := func(lazy bool) int {
		var m int
		reads++
		err := db.b.do(context.Background(), lazy, func(t tx) error {
			return t.queryRow(context.Background(), fmt.Sprintf(`PRAGMA synchronous /* %d */`, reads)).Scan(&m)
		})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	const normal, full = 1, 2
	if got := mode(true); got != normal {
		t.Errorf("lazy batch: synchronous %d, want NORMAL (%d)", got, normal)
	}
	if got := mode(false); got != full {
		t.Errorf("batch after a lazy one: synchronous %d, want FULL (%d)", got, full)
	}
	now := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	key := store.ReplayKey{Kind: store.ReplayMessageID, Value: "urn:uuid:lazy"}
	if err := db.CheckAndInsert(context.Background(), key, now.Add(time.Hour), now); err != nil {
		t.Fatal(err)
	}
	if err := db.CheckAndInsert(context.Background(), key, now.Add(time.Hour), now); !errors.Is(err, store.ErrReplay) {
		t.Errorf("a lazily claimed ID claimed again: %v", err)
	}
	if got := mode(false); got != full {
		t.Errorf("after CheckAndInsert: synchronous %d, want FULL", got)
	}
}

// TestBatchWholeRollback: a member whose statement makes SQLite roll the
// whole transaction back (INSERT OR ROLLBACK on a taken key stands for a
// full disk or an I/O error) gets its own error; the others in the batch
// are told the batch was aborted, never success and never that error.
func TestBatchWholeRollback(t *testing.T) {
	db, release := heldBatcher(t)
	close(release)
	if err := db.b.do(context.Background(), false, insert("taken")); err != nil {
		t.Fatal(err)
	}
	db2, release2 := db, make(chan struct{})
	running := make(chan struct{})
	go db2.b.do(context.Background(), false, func(tx) error { close(running); <-release2; return nil })
	<-running
	mine := func(t tx) error {
		_, err := t.exec(context.Background(), `INSERT OR ROLLBACK INTO t (k) VALUES (?)`, "taken")
		return err
	}
	res := submit(t, db2, release2, 1, insert("m1"), mine, insert("m3")) // the batch of three has none
	for _, i := range []int{0, 2} {
		if res[i] == nil || errors.Is(res[i], store.ErrAlreadyExists) {
			t.Errorf("member %d: %v, want the batch aborted", i, res[i])
		}
	}
	if res[1] == nil {
		t.Error("the member that rolled everything back got success")
	}
	if got := keys(t, db); got["m1"] || got["m3"] {
		t.Errorf("rows %v: work of an aborted batch kept", got)
	}
}

// TestBatchArtifactsLazy: putting and taking an artifact (a pending
// AuthnRequest) commit without an fsync of their own, still one-use, and
// the session write that follows in a login is synced, making them
// durable with it.
func TestBatchArtifactsLazy(t *testing.T) {
	db := openDSN(t, "sqlite:"+filepath.Join(t.TempDir(), "artifacts.db"))
	ctx := context.Background()
	now := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	commits, synced := db.b.commits.Load(), db.b.synced.Load()
	a := store.Artifact{Handle: "pending-1", Issuer: "https://idp.example", Recipient: "https://sp.example",
		Message: []byte("<AuthnRequest/>"), Created: now, Expires: now.Add(time.Minute)}
	if err := db.PutArtifact(ctx, a); err != nil {
		t.Fatal(err)
	}
	if _, err := db.TakeArtifact(ctx, a.Handle, now); err != nil {
		t.Fatal(err)
	}
	if _, err := db.TakeArtifact(ctx, a.Handle, now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("fail/taken-twice: %v", err)
	}
	if c, s := db.b.commits.Load()-commits, db.b.synced.Load()-synced; c < 2 || s != 0 {
		t.Fatalf("put and take made %d COMMITs, %d of them synced; want lazy ones only", c, s)
	}
	if err := db.CreatePrincipal(ctx, store.Principal{ID: "p-1", Created: now}); err != nil {
		t.Fatal(err)
	}
	synced = db.b.synced.Load()
	err := db.CreateSession(ctx, store.Session{ID: "s-1", PrincipalID: "p-1", AuthnInstant: now, AuthnContext: "x",
		Created: now, Expires: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if s := db.b.synced.Load() - synced; s != 1 {
		t.Fatalf("the session write made %d synced COMMITs, want 1", s)
	}
}

// TestBatchModeSwitches: a run of lazy batches switches the connection to
// synchronous=NORMAL once, and the next batch that must be synced switches
// it back to FULL before it commits.
func TestBatchModeSwitches(t *testing.T) {
	db := openDSN(t, "sqlite:"+filepath.Join(t.TempDir(), "switches.db"))
	ctx := context.Background()
	reads := 0 // a new text each time, as in TestBatchLazy
	mode := func(lazy bool) int {
		var m int
		reads++
		q := fmt.Sprintf(`PRAGMA synchronous /* %d */`, reads)
		if err := db.b.do(ctx, lazy, func(t tx) error { return t.queryRow(ctx, q).Scan(&m) }); err != nil {
			t.Fatal(err)
		}
		return m
	}
	mode(false)
	before := db.b.switches.Load()
	for range 3 {
		if m := mode(true); m != 1 {
			t.Fatalf("lazy batch at synchronous %d, want NORMAL", m)
		}
	}
	if m := mode(false); m != 2 {
		t.Fatalf("fail/synced-at-normal: a batch that must be synced ran at synchronous %d", m)
	}
	if n := db.b.switches.Load() - before; n != 2 {
		t.Fatalf("three lazy batches and a synced one switched the pragma %d times, want 2", n)
	}
}
