package pg

import (
	"context"
	"errors"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestServer(t *testing.T) {
	ctx := context.Background()
	srv, err := Start(ctx, Config{})
	if err != nil {
		t.Fatalf("no PostgreSQL (set %s or install Debian's postgresql): %v", EnvDSN, err)
	}
	t.Run("ok/new-database-is-empty-and-usable", func(t *testing.T) {
		dsn := srv.NewDatabase(t)
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		var tables int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = 'public'`).Scan(&tables); err != nil {
			t.Fatal(err)
		}
		if tables != 0 {
			t.Fatalf("new database has %d tables", tables)
		}
		if _, err := conn.Exec(ctx, `CREATE TABLE t (x int)`); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("ok/throwaway-cluster-skips-fsync", func(t *testing.T) {
		if os.Getenv(EnvDSN) != "" {
			return
		}
		conn, err := pgx.Connect(ctx, srv.AdminDSN)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		var fsync string
		if err := conn.QueryRow(ctx, `SHOW fsync`).Scan(&fsync); err != nil || fsync != "off" {
			t.Fatalf("fsync = %q (%v), want off", fsync, err)
		}
	})
	t.Run("ok/databases-are-distinct", func(t *testing.T) {
		a, b := srv.NewDatabase(t), srv.NewDatabase(t)
		if a == b {
			t.Fatalf("two databases share the DSN %s", a)
		}
	})
	pid := srv.PID()
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if os.Getenv(EnvDSN) != "" {
		return
	}
	t.Run("ok/stop-ends-the-postmaster", func(t *testing.T) {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Fatalf("postmaster %d still there after Stop (kill 0: %v)", pid, err)
		}
		if _, err := os.Stat(srv.cluster.Dir()); !os.IsNotExist(err) {
			t.Fatalf("cluster directory %s left behind (%v)", srv.cluster.Dir(), err)
		}
		short, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if _, err := pgx.Connect(short, srv.AdminDSN); err == nil {
			t.Fatal("server still accepts connections after Stop")
		}
	})
}
