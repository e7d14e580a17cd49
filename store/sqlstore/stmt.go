package sqlstore

import (
	"context"
	"database/sql"
	"sync"
	"time"
)

// Prepared statements. Every call of the store runs one of a fixed set of
// query texts; preparing each on every call made SQLite parse and plan it
// again each time (a profile of the WSP's and the IdP's hot paths put
// SQLite's parser among their costs). Each pool keeps its statements,
// prepared on first use; database/sql prepares a statement again on
// whichever connection runs it, and a transaction uses the one prepared on
// its connection.

// maxStmts bounds the cache: the store's query texts are constants, but a
// text built at run time must not grow it without end.
const maxStmts = 512

type stmtKey struct {
	p *sql.DB
	q string
}

type stmtCache struct {
	mu sync.Mutex
	m  map[stmtKey]*sql.Stmt
}

// stmt returns the prepared statement of query (in this dialect's form) on
// pool p, preparing it on first use; nil when the cache is full, and the
// caller runs the text as it is.
func (db *DB) stmt(ctx context.Context, p *sql.DB, query string) (*sql.Stmt, error) {
	k := stmtKey{p: p, q: query}
	c := &db.stmts
	c.mu.Lock()
	s, ok := c.m[k]
	full := len(c.m) >= maxStmts
	c.mu.Unlock()
	if ok || full {
		return s, nil
	}
	s, err := p.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.m[k]; ok { // prepared meanwhile by another call
		s.Close()
		return old, nil
	}
	if c.m == nil {
		c.m = map[stmtKey]*sql.Stmt{}
	}
	c.m[k] = s
	return s, nil
}

// closeStmts closes every prepared statement.
func (db *DB) closeStmts() {
	c := &db.stmts
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, s := range c.m {
		s.Close()
		delete(c.m, k)
	}
}

// execOn runs a statement on pool p.
func (db *DB) execOn(ctx context.Context, p *sql.DB, query string, args ...any) (sql.Result, error) {
	s, err := db.stmt(ctx, p, query)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return p.ExecContext(ctx, query, args...)
	}
	return s.ExecContext(ctx, args...)
}

// rowOn runs a query expected to return at most one row on pool p.
func (db *DB) rowOn(ctx context.Context, p *sql.DB, query string, args ...any) scanner {
	s, err := db.stmt(ctx, p, query)
	if err != nil {
		return badRow{err}
	}
	if s == nil {
		return p.QueryRowContext(ctx, query, args...)
	}
	return s.QueryRowContext(ctx, args...)
}

// rowsOn runs a query returning rows on pool p.
func (db *DB) rowsOn(ctx context.Context, p *sql.DB, query string, args ...any) (*sql.Rows, error) {
	s, err := db.stmt(ctx, p, query)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return p.QueryContext(ctx, query, args...)
	}
	return s.QueryContext(ctx, args...)
}

// txStmt returns the transaction's statement of query when its pool (the
// writer's, or the readers' for a read-only transaction) has it prepared
// already (on the transaction's connection it is then reused, or prepared
// once more), or nil to run the text. It never prepares on the pool
// itself: a SQLite writer pool has one connection, which the transaction
// holds; the batcher prepares what its batches ran as text afterwards.
func (t tx) txStmt(ctx context.Context, query string) (*sql.Stmt, error) {
	c := &t.db.stmts
	c.mu.Lock()
	s := c.m[stmtKey{p: t.pool(), q: query}]
	c.mu.Unlock()
	if s == nil {
		switch {
		case t.batched:
			t.db.b.unprepared[query] = true // prepared after the batch
		case t.unprepared != nil:
			*t.unprepared = append(*t.unprepared, query) // prepared after the transaction
		}
		return nil, nil
	}
	return t.tx.StmtContext(ctx, s), nil
}

// prepare prepares and caches the statements of texts on pool p, once a
// transaction that ran them unprepared has ended and given its connection
// back. It waits for a connection at most prepareWait, whatever ctx's own
// deadline (the caller's work is done; a cancelled caller still lets the
// statement be prepared for the next). A text that fails to prepare still
// runs as text next time, and is noted again.
func (db *DB) prepare(ctx context.Context, p *sql.DB, texts []string) {
	if len(texts) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), prepareWait)
	defer cancel()
	for _, q := range texts {
		if _, err := db.stmt(ctx, p, q); err != nil {
			return
		}
	}
}

// prepareWait bounds how long prepare waits for the pool.
const prepareWait = time.Second

// pool is the pool the transaction's connection belongs to.
func (t tx) pool() *sql.DB {
	if t.write {
		return t.db.w
	}
	return t.db.r
}
