package sample

import (
	"database/sql"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver

	"github.com/renkei-idwsf/renkei/internal/testkit/pg"
)

// TestSQLMappingsRunOnPostgreSQL loads each SQL back office into
// PostgreSQL from GenerateSQL and runs the same mapping files against
// it: a hospital moves to PostgreSQL with its mapping's driver and DSN
// changed, nothing else.
func TestSQLMappingsRunOnPostgreSQL(t *testing.T) {
	_, m := generated(t)
	for _, key := range []string{HospitalA, HospitalB, Insurer} {
		t.Run(key, func(t *testing.T) {
			script, err := GenerateSQL(key, PostgreSQL, Options{})
			if err != nil {
				t.Fatal(err)
			}
			db, err := sql.Open("pgx", pg.NewDatabase(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			if _, err := db.Exec(script); err != nil {
				t.Fatalf("loading the script: %v", err)
			}
			b, err := mappings.ReadFile("mappings/" + key + ".json")
			if err != nil {
				t.Fatal(err)
			}
			runMapping(t, &mappingRun{db: db, dollar: true, m: m, key: key, mp: decodeSQLMapping(t, key, b)})
		})
	}
}
