package sqlstore

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/internal/testkit/pg"
	"github.com/renkei-idwsf/renkei/store"
)

func TestParseDSN(t *testing.T) {
	tests := []struct {
		name, dsn, path, pgDSN string
	}{
		{"ok/sqlite-absolute", "sqlite:///var/lib/renkei/relay.db", "/var/lib/renkei/relay.db", ""},
		{"ok/sqlite-relative", "sqlite:data/relay.db", "data/relay.db", ""},
		{"ok/sqlite-relative-slashes", "sqlite://relay.db", "relay.db", ""},
		{"ok/sqlite-memory", "sqlite::memory:", ":memory:", ""},
		{"ok/sqlite-memory-slashes", "sqlite://:memory:", ":memory:", ""},
		{"ok/postgres", "postgres://renkei@127.0.0.1:5432/relay", "", "postgres://renkei@127.0.0.1:5432/relay"},
		{"ok/postgresql", "postgresql://127.0.0.1/relay?sslmode=disable", "", "postgresql://127.0.0.1/relay?sslmode=disable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseDSN(tc.dsn)
			if err != nil || got.path != tc.path || got.pgDSN != tc.pgDSN {
				t.Fatalf("parseDSN(%q) = %+v, %v", tc.dsn, got, err)
			}
		})
	}
	for name, dsn := range map[string]string{
		"fail/empty": "", "fail/unknown-scheme": "mysql://127.0.0.1/relay", "fail/sqlite-no-path": "sqlite:",
		"fail/sqlite-options": "sqlite:relay.db?_pragma=journal_mode(DELETE)", "fail/sqlite-file-uri": "sqlite:file:relay.db",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Open(context.Background(), dsn); !errors.Is(err, store.ErrInvalid) {
				t.Fatalf("Open(%q) error = %v, want ErrInvalid", dsn, err)
			}
		})
	}
}

func TestOpenUnreachablePostgresFails(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	db, err := Open(ctx, "postgres://postgres@127.0.0.1:1/relay?sslmode=disable&connect_timeout=5")
	if err == nil {
		db.Close()
		t.Fatal("Open succeeded with no server listening")
	}
}

func TestSQLiteFileIsWAL(t *testing.T) {
	db := openDSN(t, "sqlite://"+filepath.Join(t.TempDir(), "relay.db"))
	var mode string
	must(t, db.r.QueryRow(`PRAGMA journal_mode`).Scan(&mode))
	if mode != "wal" {
		t.Fatalf("journal_mode = %q, want wal", mode)
	}
}

// migrationDSNs returns a fresh SQLite file and a fresh PostgreSQL database.
func migrationDSNs(t *testing.T) map[string]string {
	return map[string]string{
		"sqlite-file": "sqlite://" + filepath.Join(t.TempDir(), "relay.db"),
		"postgres":    pg.NewDatabase(t),
	}
}

// versionRows counts the rows of schema_version.
func versionRows(t *testing.T, db *DB) int {
	t.Helper()
	var n int
	must(t, db.queryRow(context.Background(), `SELECT COUNT(*) FROM schema_version`).Scan(&n))
	return n
}

func TestMigrations(t *testing.T) {
	ctx := context.Background()
	for backend, dsn := range migrationDSNs(t) {
		t.Run("ok/reopen-keeps-data-and-applies-nothing-twice/"+backend, func(t *testing.T) {
			db := openDSN(t, dsn)
			p := store.Principal{ID: "p-1", Created: raceT0}
			must(t, db.CreatePrincipal(ctx, p))
			db.Close()
			again := openDSN(t, dsn)
			got, err := again.Principal(ctx, "p-1")
			if err != nil || got != p {
				t.Fatalf("after reopening: %+v, %v", got, err)
			}
			v, err := again.SchemaVersion(ctx)
			if err != nil || v != len(migrations) || versionRows(t, again) != len(migrations) {
				t.Fatalf("schema version %d (%v) in %d rows, want %d", v, err, versionRows(t, again), len(migrations))
			}
		})
	}
	for backend, dsn := range migrationDSNs(t) {
		t.Run("ok/nodes-starting-together-migrate-once/"+backend, func(t *testing.T) {
			testConcurrentStart(t, dsn)
		})
	}
	for backend, dsn := range migrationDSNs(t) {
		t.Run("fail/schema-newer-than-build/"+backend, func(t *testing.T) {
			db := openDSN(t, dsn)
			_, err := db.exec(ctx, `INSERT INTO schema_version (version, name) VALUES (?, ?)`, 99, "from the future")
			must(t, err)
			db.Close()
			if again, err := Open(ctx, dsn); err == nil || !strings.Contains(err.Error(), "newer") {
				if again != nil {
					again.Close()
				}
				t.Fatalf("Open of a newer schema: %v, want a refusal", err)
			}
		})
	}
}

// testConcurrentStart opens one fresh database from four nodes at once.
func testConcurrentStart(t *testing.T, dsn string) {
	const nodes = 4
	dbs := make([]*DB, nodes)
	errs := make([]error, nodes)
	var wg sync.WaitGroup
	for i := range nodes {
		wg.Go(func() { dbs[i], errs[i] = Open(context.Background(), dsn) })
	}
	wg.Wait()
	for i := range nodes {
		if errs[i] != nil {
			t.Fatalf("node %d: %v", i, errs[i])
		}
		defer dbs[i].Close()
	}
	if n := versionRows(t, dbs[0]); n != len(migrations) {
		t.Fatalf("schema_version has %d rows, want %d", n, len(migrations))
	}
}
