package pgcluster

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestDurableKeepsFsync(t *testing.T) {
	for _, durable := range []bool{false, true} {
		args := strings.Join((&Cluster{cfg: Config{Durable: durable}}).serverArgs(), " ")
		if strings.Contains(args, "fsync=off") == durable {
			t.Fatalf("Durable=%v: postgres %s", durable, args)
		}
		if !strings.Contains(args, "listen_addresses=127.0.0.1") {
			t.Fatalf("postgres %s listens beyond loopback", args)
		}
	}
}

func TestCreateDatabase(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := Start(ctx, Config{})
	if err != nil {
		t.Fatalf("no PostgreSQL (install Debian's postgresql): %v", err)
	}
	defer func() {
		if err := c.Stop(); err != nil {
			t.Error(err)
		}
		if _, err := os.Stat(c.Dir()); !os.IsNotExist(err) {
			t.Errorf("cluster directory left behind (%v)", err)
		}
	}()
	if _, err := c.CreateDatabase(ctx, "relay; DROP"); err == nil {
		t.Error("fail/bad-name: a name with SQL in it was taken")
	}
	dsn, err := c.CreateDatabase(ctx, "relay")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("ok/new-database-answers: %v", err)
	}
	conn.Close(ctx)
}
