package sqlstore

import (
	"database/sql"
	"fmt"
	"strings"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/renkei-idwsf/renkei/store"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// target is a parsed DSN.
type target struct {
	path  string // SQLite file, or ":memory:"
	pgDSN string // PostgreSQL connection string
}

// parseDSN reads the DSN forms Open documents.
func parseDSN(dsn string) (target, error) {
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return target{pgDSN: dsn}, nil
	case strings.HasPrefix(dsn, "sqlite:"):
		return parseSQLite(strings.TrimPrefix(dsn, "sqlite:"))
	}
	return target{}, fmt.Errorf("%w: DSN must start with sqlite: or postgres://", store.ErrInvalid)
}

// parseSQLite reads what follows "sqlite:".
func parseSQLite(rest string) (target, error) {
	path := strings.TrimPrefix(rest, "//")
	switch {
	case path == "":
		return target{}, fmt.Errorf("%w: sqlite DSN without a path", store.ErrInvalid)
	case strings.ContainsAny(path, "?#"), strings.HasPrefix(path, "file:"):
		return target{}, fmt.Errorf("%w: sqlite path %q: options and file: URIs are not supported",
			store.ErrInvalid, path)
	}
	return target{path: path}, nil
}

// SQLite connection settings. busy_timeout lets a writer wait for another
// process's transaction; synchronous=FULL makes a committed one-time use
// survive a power cut (replay claims excepted, batch.go); writers take the lock at BEGIN (IMMEDIATE) so that a
// read-modify-write never has to upgrade a read lock and fail.
const (
	sqliteCommon = "_busy_timeout=10000&_foreign_keys=1"
	sqliteWriter = sqliteCommon + "&_txlock=immediate&_synchronous=FULL"
	sqliteReader = sqliteCommon + "&_query_only=1"
)

// open creates the connection pools for t.
func (t target) open() (*DB, error) {
	switch {
	case t.pgDSN != "":
		return openPostgres(t.pgDSN)
	case t.path == ":memory:":
		return openSQLiteMemory()
	}
	return openSQLiteFile(t.path)
}

// openPostgres opens one pool for reads and writes.
func openPostgres(dsn string) (*DB, error) {
	p, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: %w", err)
	}
	p.SetMaxOpenConns(16)
	p.SetMaxIdleConns(16)
	return &DB{w: p, r: p, d: postgresDialect}, nil
}

// openSQLiteMemory opens an in-memory database on a single connection that
// is never closed: each connection to ":memory:" is a database of its own.
func openSQLiteMemory() (*DB, error) {
	p, err := sql.Open("sqlite", ":memory:?"+sqliteWriter)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: %w", err)
	}
	p.SetMaxOpenConns(1)
	p.SetMaxIdleConns(1)
	p.SetConnMaxLifetime(0)
	p.SetConnMaxIdleTime(0)
	return &DB{w: p, r: p, d: sqliteDialect}, nil
}

// openSQLiteFile opens a file in WAL mode with one writer connection, so
// writers of this process queue in Go rather than in SQLite's busy loop,
// and a pool of read-only connections that WAL lets run beside it.
func openSQLiteFile(path string) (*DB, error) {
	w, err := sql.Open("sqlite", path+"?"+sqliteWriter+"&_journal_mode=WAL")
	if err != nil {
		return nil, fmt.Errorf("sqlstore: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	r, err := sql.Open("sqlite", path+"?"+sqliteReader)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlstore: %w", err)
	}
	r.SetMaxOpenConns(4)
	r.SetMaxIdleConns(4)
	db := &DB{w: w, r: r, d: sqliteDialect}
	db.b = newBatcher(db)
	return db, nil
}
