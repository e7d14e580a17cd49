// Package pg gives tests a PostgreSQL database. When RENKEI_TEST_PG_DSN
// names a server (a postgres:// URL whose user may create databases), each
// test gets a new database there; otherwise a throwaway cluster is started
// by internal/pgcluster (Debian's PostgreSQL binaries, a temporary
// directory, a free loopback port, the postgres user when the tests run as
// root) and stopped by PID when the tests end.
// If no server can be had the test fails with the reason; it never skips.
package pg

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/renkei-idwsf/renkei/internal/pgcluster"
)

// EnvDSN names the environment variable holding an existing server's DSN.
const EnvDSN = "RENKEI_TEST_PG_DSN"

// Server is a PostgreSQL server tests may create databases in.
type Server struct {
	// AdminDSN connects to the server's maintenance database.
	AdminDSN string
	cluster  *pgcluster.Cluster // nil for a server named by EnvDSN
	next     atomic.Int64
}

// Config tunes a throwaway cluster (pgcluster.Config: Durable keeps fsync).
type Config = pgcluster.Config

// Start returns the server EnvDSN names, or else starts a throwaway cluster.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if dsn := os.Getenv(EnvDSN); dsn != "" {
		s := &Server{AdminDSN: dsn}
		return s, s.ping(ctx)
	}
	c, err := pgcluster.Start(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &Server{AdminDSN: c.DSN("postgres"), cluster: c}, nil
}

// Stop stops a throwaway cluster and removes its files; it leaves a server
// named by EnvDSN running.
func (s *Server) Stop() error {
	if s.cluster == nil {
		return nil
	}
	return s.cluster.Stop()
}

// PID returns the throwaway cluster's postmaster PID, or 0.
func (s *Server) PID() int {
	if s.cluster == nil {
		return 0
	}
	return s.cluster.PID()
}

// ping checks that the admin DSN accepts connections.
func (s *Server) ping(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, s.AdminDSN)
	if err != nil {
		return fmt.Errorf("pg: connect to %s: %w", EnvDSN, err)
	}
	return conn.Close(ctx)
}

// NewDatabase creates an empty database for t, dropped at cleanup, and
// returns its DSN.
func (s *Server) NewDatabase(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("renkei_test_%d_%d", os.Getpid(), s.next.Add(1))
	if err := s.admin(`CREATE DATABASE ` + name); err != nil {
		t.Fatalf("pg: create database: %v", err)
	}
	t.Cleanup(func() {
		if err := s.admin(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`); err != nil {
			t.Errorf("pg: drop database: %v", err)
		}
	})
	dsn, err := withDatabase(s.AdminDSN, name)
	if err != nil {
		t.Fatalf("pg: %v", err)
	}
	return dsn
}

// admin runs one statement on the maintenance database.
func (s *Server) admin(stmt string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.AdminDSN)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, stmt)
	return err
}

// withDatabase returns dsn, a postgres:// URL, naming database name.
func withDatabase(dsn, name string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", fmt.Errorf("%s must be a postgres:// URL", EnvDSN)
	}
	u.Path = "/" + name
	return u.String(), nil
}

// shared is the one server of this test binary, started on first use; a
// package variable because there is one per process by design.
var shared struct {
	once sync.Once
	srv  *Server
	err  error
}

// NewDatabase creates an empty database for t on this test binary's shared
// server, starting that server on first use, and returns its DSN. The test
// fails, with the reason, when no server can be had.
func NewDatabase(t testing.TB) string {
	t.Helper()
	shared.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		shared.srv, shared.err = Start(ctx, Config{})
	})
	if shared.err != nil {
		t.Fatalf("pg: no PostgreSQL for the tests (set %s, or install Debian's postgresql; make test does): %v",
			EnvDSN, shared.err)
	}
	return shared.srv.NewDatabase(t)
}

// Main runs the tests and then stops the shared server if one was started.
// Call it from TestMain: os.Exit(pg.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	if shared.srv != nil {
		if err := shared.srv.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "pg:", err)
			code = max(code, 1)
		}
	}
	return code
}
