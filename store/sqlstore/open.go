// Package sqlstore is the SQL backend of package store: embedded SQLite
// (modernc.org/sqlite, pure Go) by default and PostgreSQL (pgx) when several
// nodes share one database. One implementation serves both; the few
// differences between the two dialects live in dialect.go.
//
// Instants are stored as signed 64-bit nanoseconds since 1970 (UTC) and
// unset ones as NULL, so both backends keep them exactly.
package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/renkei-idwsf/renkei/store"
)

// DB is a store.Store over an SQL database.
type DB struct {
	w  *sql.DB // writes and read-modify-write transactions
	r  *sql.DB // plain reads; the same pool as w except for a SQLite file
	d  *dialect
	qs sync.Map // query text written with '?' -> text for this dialect
	// stmts are the prepared statements of each pool (stmt.go).
	stmts stmtCache
	// b batches the write transactions of a SQLite file (batch.go).
	b *batcher
	// observer is told of every database call (observe.go).
	observer atomic.Pointer[Observer]
}

var _ store.Store = (*DB)(nil)

// Open connects to the database that dsn names and brings its schema up to
// date. Accepted forms:
//
//	sqlite:///absolute/path/renkei.db   a SQLite file, in WAL mode
//	sqlite:relative/path/renkei.db      the same, relative to the working directory
//	sqlite::memory:                     a private in-memory SQLite database
//	sqlite://:memory:                   the same
//	postgres://user@host:port/db?...    PostgreSQL (also postgresql://), as pgx reads it
//
// Several processes may open one SQLite file or one PostgreSQL database at
// once; the one-use guarantees of store.ReplayCache and store.ArtifactStore
// hold across them.
func Open(ctx context.Context, dsn string) (*DB, error) {
	t, err := parseDSN(dsn)
	if err != nil {
		return nil, err
	}
	db, err := t.open()
	if err != nil {
		return nil, err
	}
	if err := db.ping(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// ping checks that both pools can reach the database. A first connection
// to a SQLite file another node is creating at the same moment may find it
// locked (switching a new file to WAL does not wait for busy_timeout); such
// a connection is tried again, for at most pingWait.
func (db *DB) ping(ctx context.Context) error {
	for _, p := range []*sql.DB{db.w, db.r} {
		deadline := time.Now().Add(pingWait)
		for {
			err := p.PingContext(ctx)
			if err == nil {
				break
			}
			if !db.d.retry(err) || time.Now().After(deadline) || ctx.Err() != nil {
				return fmt.Errorf("sqlstore: connect to %s: %w", db.d.name, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return nil
}

// pingWait bounds how long ping tries a busy database again.
const pingWait = 10 * time.Second

// Close closes the database's connections.
func (db *DB) Close() error {
	if db.b != nil {
		db.b.close()
	}
	db.closeStmts()
	err := db.w.Close()
	if db.r != db.w {
		if rerr := db.r.Close(); err == nil {
			err = rerr
		}
	}
	return err
}

// Dialect names the backend: "sqlite" or "postgres".
func (db *DB) Dialect() string { return db.d.name }

// q returns query, written with '?' placeholders, in this dialect's form.
func (db *DB) q(query string) string {
	if !db.d.dollar {
		return query
	}
	if v, ok := db.qs.Load(query); ok {
		return v.(string)
	}
	v := dollarPlaceholders(query)
	db.qs.Store(query, v)
	return v
}

// dollarPlaceholders rewrites '?' placeholders as $1, $2, ... for
// PostgreSQL. Renkei's queries hold no '?' inside literals.
func dollarPlaceholders(query string) string {
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r != '?' {
			b.WriteRune(r)
			continue
		}
		n++
		fmt.Fprintf(&b, "$%d", n)
	}
	return b.String()
}
