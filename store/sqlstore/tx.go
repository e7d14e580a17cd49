package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/renkei-idwsf/renkei/store"
)

// maxAttempts bounds how often a transaction is rerun after a retryable
// failure (a PostgreSQL serialization failure or deadlock, a SQLite lock
// still held after busy_timeout).
const maxAttempts = 5

// tx is a transaction with the dialect's query rewriting.
type tx struct {
	db    *DB
	tx    *sql.Tx
	write bool
	// batched: the transaction is a batch of several callers' (batch.go).
	batched bool
	// unprepared collects, outside a batch, the statement texts the
	// transaction ran without a prepared statement, for its runner to
	// prepare once the transaction has ended and its connection is back in
	// the pool (preparing on the pool inside it could wait for that very
	// connection). nil: not collected.
	unprepared *[]string
}

// stmtCtx is the context a statement of the transaction runs under: in a
// batch, without its caller's cancellation, which would roll back the
// other members' work too.
func (t tx) stmtCtx(ctx context.Context) context.Context {
	if t.batched {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

// forUpdate returns the suffix that locks the rows a SELECT reads until the
// transaction ends; "" in a read-only transaction.
func (t tx) forUpdate() string {
	if !t.write {
		return ""
	}
	return t.db.d.forUpdate
}

// exec runs a statement and returns the number of rows it changed.
func (t tx) exec(ctx context.Context, query string, args ...any) (int64, error) {
	if err := checkArgs(args); err != nil {
		return 0, err
	}
	ctx = t.stmtCtx(ctx)
	var res sql.Result
	s, err := t.txStmt(ctx, t.db.q(query))
	switch {
	case err != nil:
	case s != nil:
		res, err = s.ExecContext(ctx, args...)
		s.Close()
	default:
		res, err = t.tx.ExecContext(ctx, t.db.q(query), args...)
	}
	if err != nil {
		return 0, t.db.d.wrap(err)
	}
	return res.RowsAffected()
}

// queryRow runs a query expected to return at most one row.
func (t tx) queryRow(ctx context.Context, query string, args ...any) scanner {
	if err := checkArgs(args); err != nil {
		return badRow{err}
	}
	ctx = t.stmtCtx(ctx)
	s, err := t.txStmt(ctx, t.db.q(query))
	switch {
	case err != nil:
		return badRow{err}
	case s != nil:
		return s.QueryRowContext(ctx, args...) // closed with the transaction
	}
	return t.tx.QueryRowContext(ctx, t.db.q(query), args...)
}

// query runs a query returning rows.
func (t tx) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if err := checkArgs(args); err != nil {
		return nil, err
	}
	ctx = t.stmtCtx(ctx)
	s, err := t.txStmt(ctx, t.db.q(query))
	if err != nil {
		return nil, t.db.d.wrap(err)
	}
	if s != nil {
		rows, err := s.QueryContext(ctx, args...) // the statement is closed with the transaction
		return rows, t.db.d.wrap(err)
	}
	rows, err := t.tx.QueryContext(ctx, t.db.q(query), args...)
	return rows, t.db.d.wrap(err)
}

// inTx runs fn in a write transaction (BEGIN IMMEDIATE on SQLite) and
// commits it, rerunning it a bounded number of times after a retryable
// failure. fn's own errors come back unchanged.
func (db *DB) inTx(ctx context.Context, fn func(tx) error) (err error) {
	start := time.Now()
	defer func() { db.observed(start, err) }()
	for range maxAttempts {
		err = db.txOnce(ctx, fn)
		if err == nil || !db.d.retry(err) || ctx.Err() != nil {
			return err
		}
	}
	return fmt.Errorf("sqlstore: gave up after %d attempts: %w", maxAttempts, err)
}

// txOnce runs fn in one transaction: a batch's on a SQLite file.
func (db *DB) txOnce(ctx context.Context, fn func(tx) error) error {
	if db.b != nil {
		return db.b.do(ctx, false, fn)
	}
	t, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return db.d.wrap(err)
	}
	defer t.Rollback() // when fn panics; after Commit it does nothing
	var later []string
	if err := fn(tx{db: db, tx: t, write: true, unprepared: &later}); err != nil {
		t.Rollback()
		db.prepare(ctx, db.w, later)
		return err
	}
	err = db.d.wrap(t.Commit())
	db.prepare(ctx, db.w, later)
	return err
}

// read runs fn in a read-only transaction, so that the several queries fn
// makes see one snapshot of the database.
func (db *DB) read(ctx context.Context, fn func(tx) error) (err error) {
	start := time.Now()
	defer func() { db.observed(start, err) }()
	t, err := db.r.BeginTx(ctx, db.d.readOnly)
	if err != nil {
		return db.d.wrap(err)
	}
	var later []string
	err = func() error {
		defer t.Rollback() // also when fn panics; nothing is prepared then
		return fn(tx{db: db, tx: t, unprepared: &later})
	}()
	db.prepare(ctx, db.r, later)
	return err
}

// exec runs one statement outside a transaction on the writer pool and
// returns the number of rows it changed.
func (db *DB) exec(ctx context.Context, query string, args ...any) (_ int64, err error) {
	if db.b != nil {
		return db.execBatched(ctx, false, query, args...)
	}
	start := time.Now()
	defer func() { db.observed(start, err) }()
	if err := checkArgs(args); err != nil {
		return 0, err
	}
	res, err := db.execOn(ctx, db.w, db.q(query), args...)
	if err != nil {
		return 0, db.d.wrap(err)
	}
	return res.RowsAffected()
}

// queryRow runs a read query expected to return at most one row.
func (db *DB) queryRow(ctx context.Context, query string, args ...any) scanner {
	return db.queryRowOn(ctx, db.r, query, args...)
}

// queryRowOn runs a query expected to return at most one row on pool p.
func (db *DB) queryRowOn(ctx context.Context, p *sql.DB, query string, args ...any) scanner {
	start := time.Now()
	if err := checkArgs(args); err != nil {
		return db.observeRow(start, badRow{err})
	}
	return db.observeRow(start, db.rowOn(ctx, p, db.q(query), args...))
}

// query runs a read query returning rows.
func (db *DB) query(ctx context.Context, query string, args ...any) (_ *sql.Rows, err error) {
	start := time.Now()
	defer func() { db.observed(start, err) }()
	if err := checkArgs(args); err != nil {
		return nil, err
	}
	rows, err := db.rowsOn(ctx, db.r, db.q(query), args...)
	return rows, db.d.wrap(err)
}

// notFound turns sql.ErrNoRows into an error matching store.ErrNotFound.
func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: %s", store.ErrNotFound, what)
	}
	return err
}

// scanner is a *sql.Row, a *sql.Rows or a badRow.
type scanner interface{ Scan(dest ...any) error }

// badRow is the row of a query that was refused before it ran.
type badRow struct{ err error }

// Scan returns the reason the query was refused.
func (r badRow) Scan(...any) error { return r.err }

// checkArgs refuses text arguments that PostgreSQL would reject (invalid
// UTF-8, NUL) so that both backends answer such lookups alike, with
// store.ErrInvalid.
func checkArgs(args []any) error {
	for i, a := range args {
		s, ok := a.(string)
		if ok && (!utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0) {
			return fmt.Errorf("%w: argument %d is not UTF-8 text without NUL", store.ErrInvalid, i+1)
		}
	}
	return nil
}

// collect scans every row with scan and closes rows.
func collect[T any](rows *sql.Rows, err error, scan func(scanner) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// ts is the stored form of a set instant.
func ts(t time.Time) int64 { return t.UnixNano() }

// nullTS is the stored form of an instant that may be unset (NULL).
func nullTS(t time.Time) sql.NullInt64 {
	return sql.NullInt64{Int64: t.UnixNano(), Valid: !t.IsZero()}
}

// fromTS reads a stored instant.
func fromTS(n int64) time.Time { return time.Unix(0, n).UTC() }

// fromNullTS reads a stored instant that may be NULL.
func fromNullTS(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return fromTS(n.Int64)
}

// blob is the stored form of bytes: never NULL.
func blob(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// execLazy is exec for a write whose durability may wait (batch.go): on a
// SQLite file, a batch of such writes alone commits without its own fsync.
func (db *DB) execLazy(ctx context.Context, query string, args ...any) (_ int64, err error) {
	if db.b == nil {
		return db.exec(ctx, query, args...)
	}
	return db.execBatched(ctx, true, query, args...)
}

// execBatched runs one statement through the batcher (a SQLite file),
// lazy or synced; the member's tx checks the arguments.
func (db *DB) execBatched(ctx context.Context, lazy bool, query string, args ...any) (n int64, err error) {
	start := time.Now()
	defer func() { db.observed(start, err) }()
	err = db.b.do(ctx, lazy, func(t tx) (err error) {
		n, err = t.exec(ctx, query, args...)
		return err
	})
	return n, err
}

// writeRow runs a writing statement that returns one row (RETURNING) and
// scans it into dest: on a SQLite file through the batcher, which is the
// only user of the writer's connection there.
func (db *DB) writeRow(ctx context.Context, dest []any, query string, args ...any) error {
	return db.writeRowLazy(ctx, false, dest, query, args...)
}

// writeRowLazy is writeRow, lazy as execLazy when lazy is set.
func (db *DB) writeRowLazy(ctx context.Context, lazy bool, dest []any, query string, args ...any) error {
	if db.b == nil {
		return db.queryRowOn(ctx, db.w, query, args...).Scan(dest...)
	}
	start := time.Now()
	err := db.b.do(ctx, lazy, func(t tx) error { return t.queryRow(ctx, query, args...).Scan(dest...) })
	db.observed(start, err)
	return err
}
