package sqlstore

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/store"
)

// TestTxStatementsPrepared: a statement first run inside a transaction is
// prepared on that transaction's pool once the transaction has ended, so
// that the next transaction runs it prepared instead of preparing it again
// (database/sql prepares a text for every call otherwise): in a read
// transaction on a SQLite file, whose readers and writer are separate
// pools, and in a write transaction outside a batch (SQLite in memory).
func TestTxStatementsPrepared(t *testing.T) {
	ctx := context.Background()
	cached := func(db *DB, p any, q string) bool {
		db.stmts.mu.Lock()
		defer db.stmts.mu.Unlock()
		for k, s := range db.stmts.m {
			if k.q == db.q(q) && s != nil && any(k.p) == p {
				return true
			}
		}
		return false
	}
	t.Run("ok/read-on-file", func(t *testing.T) {
		db := openDSN(t, "sqlite:"+filepath.Join(t.TempDir(), "stmt.db"))
		if db.r == db.w {
			t.Fatal("a SQLite file with one pool for readers and the writer")
		}
		if err := db.CreatePrincipal(ctx, store.Principal{ID: "p-1", Created: time.Now()}); err != nil {
			t.Fatal(err)
		}
		const q = `SELECT id FROM principals WHERE id = ?`
		read := func() {
			t.Helper()
			if err := db.read(ctx, func(tx tx) error {
				var id string
				return tx.queryRow(ctx, q, "p-1").Scan(&id)
			}); err != nil {
				t.Fatal(err)
			}
		}
		read()
		if !cached(db, db.r, q) || cached(db, db.w, q) {
			t.Fatalf("after a read: cached for readers %v, for the writer %v; want readers only", cached(db, db.r, q), cached(db, db.w, q))
		}
		read()
	})
	t.Run("ok/write-outside-batch", func(t *testing.T) {
		db := openDSN(t, "sqlite::memory:")
		if db.b != nil {
			t.Fatal("SQLite in memory batches its writes")
		}
		const q = `INSERT INTO principals (id, created) VALUES (?, ?)`
		if err := db.inTx(ctx, func(tx tx) error {
			_, err := tx.exec(ctx, q, "p-2", time.Now().Unix())
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if !cached(db, db.w, q) {
			t.Fatal("statement not prepared after the write transaction")
		}
	})
	t.Run("fail/panic-in-read", func(t *testing.T) {
		db := openDSN(t, "sqlite::memory:")
		func() {
			defer func() { _ = recover() }()
			_ = db.read(ctx, func(tx tx) error {
				var n int
				_ = tx.queryRow(ctx, `SELECT COUNT(*) FROM principals`).Scan(&n)
				panic("boom")
			})
		}()
		done := make(chan error, 1)
		go func() { done <- db.CreatePrincipal(ctx, store.Principal{ID: "p-3", Created: time.Now()}) }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the store hangs after a panic in a read transaction")
		}
	})
}
