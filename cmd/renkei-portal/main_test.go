package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/renkei-idwsf/renkei/internal/portalserver"
)

// TestConfigurationProblems: the binary reports every problem of its
// configuration at once and serves nothing.
func TestConfigurationProblems(t *testing.T) {
	ctx := context.Background()
	lg := slog.New(slog.NewJSONHandler(io.Discard, nil))
	if err := run(ctx, nil, lg); err == nil || !strings.Contains(err.Error(), "-config is required") {
		t.Fatalf("no -config: %v", err)
	}
	dir := t.TempDir()
	f := &portalserver.File{EntityID: "https://portal.example.org/metadata", BaseURL: "https://elsewhere.example.org",
		Timeout: "soon", Mechanisms: []string{"urn:example:none"}}
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "portal.json")
	if err := os.WriteFile(cfg, b, 0o600); err != nil {
		t.Fatal(err)
	}
	err = run(ctx, []string{"-config", cfg}, lg)
	if err == nil {
		t.Fatal("a configuration with problems was accepted")
	}
	for _, want := range []string{"not on the host of baseURL", "tls needs cert and key", "signing needs cert and key",
		"idp (the IdP's entityID) is empty", "ds (the Discovery Service's entityID) is empty", `timeout "soon"`,
		`"urn:example:none" is not a mechanism`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the report lacks %q:\n%v", want, err)
		}
	}
}
