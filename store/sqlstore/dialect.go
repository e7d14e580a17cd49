package sqlstore

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/renkei-idwsf/renkei/store"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// dialect holds what differs between SQLite and PostgreSQL.
type dialect struct {
	name      string
	dollar    bool              // placeholders are $1, $2, ... rather than ?
	forUpdate string            // suffix that locks selected rows until commit
	readOnly  *sql.TxOptions    // options of a transaction that reads one snapshot
	types     *strings.Replacer // DDL type tokens
	// lockMigrations is run first in each migration transaction so that
	// nodes starting together apply each migration once; "" when BEGIN
	// IMMEDIATE already serializes writers.
	lockMigrations string
	// kind maps a driver error to a store sentinel, or returns nil.
	kind func(error) error
	// retry reports errors after which a whole transaction may be rerun.
	retry func(error) bool
}

// sqliteDialect is the dialect of modernc.org/sqlite.
var sqliteDialect = &dialect{
	name:     "sqlite",
	readOnly: &sql.TxOptions{ReadOnly: true},
	types:    strings.NewReplacer("{blob}", "BLOB", "{serial}", "INTEGER PRIMARY KEY AUTOINCREMENT"),
	kind:     sqliteKind,
	retry:    sqliteRetry,
}

// postgresDialect is the dialect of PostgreSQL through pgx. Read-modify-write
// transactions run at READ COMMITTED and lock the row with FOR UPDATE, so a
// second writer waits and then reads the first one's result.
var postgresDialect = &dialect{
	name:      "postgres",
	dollar:    true,
	forUpdate: " FOR UPDATE",
	readOnly:  &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true},
	types:     strings.NewReplacer("{blob}", "BYTEA", "{serial}", "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"),
	// An arbitrary constant: "renkei" in ASCII.
	lockMigrations: "SELECT pg_advisory_xact_lock(125762414126441)",
	kind:           postgresKind,
	retry:          postgresRetry,
}

// sqliteCode returns the extended result code of a SQLite error, or 0.
func sqliteCode(err error) int {
	var e *sqlite.Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return 0
}

// sqliteKind maps SQLite constraint errors to store sentinels.
func sqliteKind(err error) error {
	switch sqliteCode(err) {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return store.ErrAlreadyExists
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return store.ErrNotFound
	}
	return nil
}

// sqliteRetry reports a lock still held by another process after
// busy_timeout.
func sqliteRetry(err error) bool {
	c := sqliteCode(err) & 0xff
	return c == sqlite3.SQLITE_BUSY || c == sqlite3.SQLITE_LOCKED
}

// postgresCode returns the SQLSTATE of a PostgreSQL error, or "".
func postgresCode(err error) string {
	var e *pgconn.PgError
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// postgresKind maps PostgreSQL integrity errors to store sentinels.
func postgresKind(err error) error {
	switch postgresCode(err) {
	case "23505": // unique_violation
		return store.ErrAlreadyExists
	case "23503": // foreign_key_violation
		return store.ErrNotFound
	}
	return nil
}

// postgresRetry reports serialization failures and deadlocks, after which
// PostgreSQL expects the transaction to be run again.
func postgresRetry(err error) bool {
	c := postgresCode(err)
	return c == "40001" || c == "40P01"
}

// wrap turns a driver error into one that matches a store sentinel where
// one applies; other errors, and nil, pass unchanged.
func (d *dialect) wrap(err error) error {
	if err == nil {
		return nil
	}
	if k := d.kind(err); k != nil && !errors.Is(err, k) {
		return fmt.Errorf("%w: %w", k, err)
	}
	return err
}
