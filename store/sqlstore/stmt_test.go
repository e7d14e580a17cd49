package sqlstore

import (
	"context"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/store"
)

// TestReadStatementsPrepared: a statement first run inside a read
// transaction is prepared once that transaction has ended, so that the
// next transaction runs it prepared instead of preparing it again
// (database/sql prepares a text for every call otherwise).
func TestReadStatementsPrepared(t *testing.T) {
	ctx := context.Background()
	db := openDSN(t, "sqlite::memory:")
	if err := db.CreatePrincipal(ctx, store.Principal{ID: "p-1", Created: time.Now()}); err != nil {
		t.Fatal(err)
	}
	const q = `SELECT id FROM principals WHERE id = ?`
	cached := func() bool {
		db.stmts.mu.Lock()
		defer db.stmts.mu.Unlock()
		return db.stmts.m[stmtKey{p: db.r, q: db.q(q)}] != nil
	}
	if cached() {
		t.Fatal("statement cached before its first use")
	}
	read := func() {
		t.Helper()
		err := db.read(ctx, func(tx tx) error {
			var id string
			return tx.queryRow(ctx, q, "p-1").Scan(&id)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	read()
	if !cached() {
		t.Fatal("statement not prepared after the read transaction")
	}
	read() // runs prepared
}
