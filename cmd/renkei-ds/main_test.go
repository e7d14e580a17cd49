package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/discovery"
	"github.com/renkei-idwsf/renkei/internal/testkit/dskit"
	"github.com/renkei-idwsf/renkei/store"
	"github.com/renkei-idwsf/renkei/store/sqlstore"
)

// TestOperatorCommands: link, links and unlink change and show the relay
// database as an operator would use them, each change audited; a link to
// a provider the metadata does not list is refused.
func TestOperatorCommands(t *testing.T) {
	dir := t.TempDir()
	dsn := "sqlite:" + filepath.Join(dir, "relay.db")
	f := dskit.DSFiles(t, dir, "https://127.0.0.1:8445", dsn)
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "ds.json")
	if err := os.WriteFile(cfg, b, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.CreatePrincipal(ctx, store.Principal{ID: "p-1", Created: time.Now()}); err != nil {
		t.Fatal(err)
	}
	hosp := dskit.Samples()[0]
	cmd := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(ctx, append([]string{"-config", cfg}, args...), &out, slog.New(slog.NewJSONHandler(&out, nil)))
		return out.String(), err
	}
	if out, err := cmd("link", "-principal", "p-1", "-provider", hosp.EntityID, "-local", hosp.LocalID, "-operator", "alice"); err != nil || !strings.Contains(out, "linked p-1") {
		t.Fatalf("link: %v\n%s", err, out)
	}
	if _, err := cmd("link", "-principal", "p-1", "-provider", "https://unknown.renkei.test/metadata", "-local", "x", "-operator", "alice"); err == nil {
		t.Fatal("linked to a provider the metadata does not list")
	}
	out, err := cmd("links", "-principal", "p-1")
	if err != nil || !strings.Contains(out, hosp.EntityID) || !strings.Contains(out, hosp.LocalID) {
		t.Fatalf("links: %v\n%s", err, out)
	}
	if out, err := cmd("unlink", "-principal", "p-1", "-provider", hosp.EntityID, "-operator", "alice"); err != nil {
		t.Fatalf("unlink: %v\n%s", err, out)
	}
	if _, err := cmd("unlink", "-principal", "p-1", "-provider", hosp.EntityID, "-operator", "alice"); err == nil {
		t.Fatal("a terminated link was unlinked twice")
	}
	fed, err := db.Federation(ctx, "p-1", hosp.EntityID)
	if err != nil || fed.Active() {
		t.Fatalf("link after unlink: %+v %v", fed, err)
	}
	page, err := db.AuditEvents(ctx, store.AuditQuery{PrincipalID: "p-1"})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range page.Events {
		if e.Actor != "operator:alice" {
			t.Errorf("event by %q", e.Actor)
		}
		actions = append(actions, e.Action)
	}
	if strings.Join(actions, ",") != discovery.AuditUnlink+","+discovery.AuditLink {
		t.Errorf("audited %v", actions)
	}
}
