package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/renkei-idwsf/renkei/card/virtual"
	"github.com/renkei-idwsf/renkei/internal/terminalserver"
	"github.com/renkei-idwsf/renkei/internal/testkit/termkit"
)

// TestConfigurationProblems: every problem of the file at once, nothing
// served; the staff page is loopback only.
func TestConfigurationProblems(t *testing.T) {
	ctx := context.Background()
	lg := slog.New(slog.NewJSONHandler(io.Discard, nil))
	if _, err := run(ctx, nil, nil, io.Discard, lg); err == nil || !strings.Contains(err.Error(), "-config is required") {
		t.Fatalf("no -config: %v", err)
	}
	f := &terminalserver.File{EntityID: "hospital-a", BaseURL: "https://127.0.0.1:8449", Listen: "0.0.0.0:8449",
		TokenLife: "soon"}
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "terminal.json")
	if err := os.WriteFile(cfg, b, 0o600); err != nil {
		t.Fatal(err)
	}
	code, err := run(ctx, []string{"-config", cfg}, nil, io.Discard, lg)
	if err == nil || code != exitFailed {
		t.Fatalf("a configuration with problems was accepted (%d)", code)
	}
	for _, want := range []string{`entityID "hospital-a" is not an https URL`, "served on loopback only", "tls needs cert and key",
		"idp and ds", `tokenLife "soon"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the report lacks %q:\n%v", want, err)
		}
	}
	if _, err := run(ctx, []string{"-config", cfg, "check"}, strings.NewReader(""), io.Discard, lg); err == nil ||
		!strings.Contains(err.Error(), "PIN from standard input") {
		t.Fatalf("check without a PIN: %v", err)
	}
}

// TestCheck: `renkei-terminal check` with the card in the reader and the
// PIN on its standard input prints
// the patient's eligibility and exits 0; with the card revoked it fails.
func TestCheck(t *testing.T) {
	d := termkit.New(t)
	people := d.PatientsOnlyAtB(2)
	lg := slog.New(slog.NewJSONHandler(io.Discard, nil))

	p := people[0]
	card := d.Insert(p, 0, virtual.Options{})
	var out bytes.Buffer
	code, err := run(context.Background(), []string{"-config", d.Path, "check"}, strings.NewReader(virtual.DefaultPIN+"\n"), &out, lg)
	if err != nil || code != 0 {
		t.Fatalf("check: %d %v\n%s", code, err, out.String())
	}
	ins := termkit.InsurerFields(p)
	for _, want := range []string{": insured\n", ins[0], "symbol    " + ins[1], "number " + ins[2], "copayment 30%"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the output lacks %q:\n%s", want, out.String())
		}
	}
	d.Remove(card, 0)

	p = people[1]
	d.Fed.IdP.RevokeInRegistry("HIC-" + p.Key)
	d.Insert(p, 0, virtual.Options{})
	out.Reset()
	code, err = run(context.Background(), []string{"-config", d.Path, "check"}, strings.NewReader(virtual.DefaultPIN+"\n"), &out, lg)
	if code != exitFailed || err == nil || !strings.Contains(err.Error(), "revoked") || out.Len() != 0 {
		t.Fatalf("a revoked card: exit %d, %v, printed %q", code, err, out.String())
	}
}
