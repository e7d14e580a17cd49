package sqlstore

import (
	"context"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/internal/testkit/pg"
	"github.com/renkei-idwsf/renkei/store"
)

// benchSeq makes every benchmark key unique across the b.N ramp.
var benchSeq atomic.Int64

// BenchmarkReplayCheckAndInsert measures replay-cache check-and-insert per
// second on each backend next to its floor: a bare INSERT of a row of the
// same shape on the same connection pool, measured in the same run. The
// x-floor metric is check-and-insert's time per operation over the floor's.
func BenchmarkReplayCheckAndInsert(b *testing.B) {
	backends := []struct {
		name string
		dsn  func(b *testing.B) string
	}{
		{"sqlite-memory", func(*testing.B) string { return "sqlite::memory:" }},
		{"sqlite-file-wal", func(b *testing.B) string { return "sqlite://" + filepath.Join(b.TempDir(), "bench.db") }},
		{"postgres", durableDatabase},
	}
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			db := openDSN(b, be.dsn(b))
			_, err := db.exec(context.Background(), `CREATE TABLE bench_floor (kind TEXT NOT NULL,
				value TEXT NOT NULL, expires BIGINT NOT NULL, PRIMARY KEY (kind, value))`)
			must(b, err)
			var floor time.Duration
			b.Run("floor-bare-insert", func(b *testing.B) { floor = benchFloor(b, db) })
			b.Run("check-and-insert", func(b *testing.B) { benchCheckAndInsert(b, db, floor) })
			b.Run("check-and-insert-8-goroutines", func(b *testing.B) { benchParallel(b, db, floor) })
		})
	}
}

// durableDatabase returns a database on a throwaway cluster that, unlike
// the tests' shared one, fsyncs each commit as a deployment would (or on the
// server RENKEI_TEST_PG_DSN names).
func durableDatabase(b *testing.B) string {
	srv, err := pg.Start(context.Background(), pg.Config{Durable: true})
	if err != nil {
		b.Fatalf("no PostgreSQL (set %s, or install Debian's postgresql): %v", pg.EnvDSN, err)
	}
	b.Cleanup(func() { must(b, srv.Stop()) })
	return srv.NewDatabase(b)
}

// benchFloor inserts b.N rows with one plain statement each and returns the
// time per insert.
func benchFloor(b *testing.B, db *DB) time.Duration {
	ctx := context.Background()
	query := db.q(`INSERT INTO bench_floor (kind, value, expires) VALUES (?, ?, ?)`)
	for b.Loop() {
		v := strconv.FormatInt(benchSeq.Add(1), 10)
		if _, err := db.w.ExecContext(ctx, query, "message-id", v, int64(1)); err != nil {
			b.Fatal(err)
		}
	}
	perOp := b.Elapsed() / time.Duration(b.N)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "inserts/s")
	return perOp
}

// benchParallel is benchCheckAndInsert from 8 goroutines per CPU at once,
// as the request handlers of a busy node would call it.
func benchParallel(b *testing.B, db *DB, floor time.Duration) {
	ctx := context.Background()
	now := time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			k := store.MessageIDKey("https://wsc.example.jp", strconv.FormatInt(benchSeq.Add(1), 10))
			if err := db.CheckAndInsert(ctx, k, now.Add(time.Hour), now); err != nil {
				b.Error(err)
				return
			}
		}
	})
	reportRate(b, floor)
}

// reportRate reports operations per second and, when the floor was
// measured, the time per operation over the floor's.
func reportRate(b *testing.B, floor time.Duration) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "inserts/s")
	if floor > 0 {
		b.ReportMetric(float64(b.Elapsed()/time.Duration(b.N))/float64(floor), "x-floor")
	}
}

// benchCheckAndInsert runs b.N first uses of distinct keys and reports the
// rate and, when the floor was measured, the ratio to it.
func benchCheckAndInsert(b *testing.B, db *DB, floor time.Duration) {
	ctx := context.Background()
	now := time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)
	for b.Loop() {
		k := store.MessageIDKey("https://wsc.example.jp", strconv.FormatInt(benchSeq.Add(1), 10))
		if err := db.CheckAndInsert(ctx, k, now.Add(time.Hour), now); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b, floor)
}
