package sqlstore

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/renkei-idwsf/renkei/store"
	"github.com/renkei-idwsf/renkei/store/storetest"
)

// openDSN opens dsn for t and closes it at cleanup.
func openDSN(t testing.TB, dsn string) *DB {
	t.Helper()
	db, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("open %s: %v", dsn, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestConformanceSQLiteMemory(t *testing.T) {
	storetest.RunTests(t, func(t *testing.T) store.Store { return openDSN(t, "sqlite::memory:") })
}

func TestConformanceSQLiteFile(t *testing.T) {
	storetest.RunTests(t, func(t *testing.T) store.Store {
		return openDSN(t, "sqlite://"+filepath.Join(t.TempDir(), "renkei.db"))
	})
}
