package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/internal/testkit/wspkit"
	"github.com/renkei-idwsf/renkei/wsf/audit"
	"github.com/renkei-idwsf/renkei/wsp/sample"
)

// TestSampleAndPensionOffice: `sample` writes the institutions an
// operator starts from, and `pension-office` serves the pension records
// on loopback until stopped.
func TestSampleAndPensionOffice(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "samples")
	var out bytes.Buffer
	if err := run(context.Background(), []string{"sample", "-out", dir}, &out, slog.New(slog.NewJSONHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	m, err := sample.ReadManifest(filepath.Join(dir, sample.ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range m.Institutions {
		if !strings.Contains(out.String(), in.Name) {
			t.Errorf("output does not name %s:\n%s", in.Name, out.String())
		}
		if _, err := os.Stat(filepath.Join(dir, in.Mapping)); err != nil {
			t.Errorf("%s: %v", in.Key, err)
		}
	}
	if err := run(context.Background(), []string{"pension-office", "-data", filepath.Join(dir, sample.PensionData), "-listen", "0.0.0.0:0"},
		io.Discard, slog.New(slog.NewJSONHandler(io.Discard, nil))); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("listening beyond loopback: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"pension-office", "-data", filepath.Join(dir, sample.PensionData), "-listen", "127.0.0.1:0"},
			io.Discard, slog.New(slog.NewJSONHandler(pw, nil)))
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, pr)
	var rec struct {
		Msg, On string
	}
	if err := json.Unmarshal([]byte(line), &rec); err != nil || rec.Msg != "pension office" {
		t.Fatalf("first log line %q: %v", line, err)
	}
	url := rec.On
	number := m.Person("p01").Local[sample.Pension]
	resp, err := http.Get(url + "/persons/" + number)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /persons/%s: %s", number, resp.Status)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the pension office did not stop")
	}
}

// TestRegisterCommand: `register` with a running WSP's configuration file
// finds its SvcMDs at the DS current and says so, one line a service type.
func TestRegisterCommand(t *testing.T) {
	k := wspkit.Start(t, wspkit.Options{Institutions: []string{sample.Insurer}})
	f := *k.WSPs[sample.Insurer][0].File
	f.TrustedRoots = filepath.Join(k.Dir, "roots.pem")
	if err := os.WriteFile(f.TrustedRoots, k.Fed.Keys.CA.CertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(k.Dir, "insurer-wsp.json")
	if err := os.WriteFile(cfg, b, 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"-config", cfg, "register"}, &out, slog.New(slog.NewJSONHandler(io.Discard, nil))); err != nil {
		t.Fatalf("register: %v\n%s", err, out.String())
	}
	ids := k.WSPs[sample.Insurer][0].Registration().IDs
	for _, typ := range append(k.Manifest.Institution(sample.Insurer).Services, audit.NS) {
		if want := typ + "\t" + ids[typ] + "\tunchanged"; !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// TestConfigurationProblemsAtOnce: every problem of a configuration file
// is reported in one go.
func TestConfigurationProblemsAtOnce(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "wsp.json")
	if err := os.WriteFile(cfg, []byte(`{"entityID": "", "baseURL": "http://x", "backend": {"kind": "ftp"},
		"services": [{"type": "urn:renkei:svc:nothing:1.0"}], "mechanisms": ["urn:x"]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	err := run(context.Background(), []string{"-config", cfg}, io.Discard, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err == nil {
		t.Fatal("a broken configuration was accepted")
	}
	for _, want := range []string{"entityID", "baseURL", "backend.kind", "backend.mapping", "tls", "signing", "encryption",
		"urn:renkei:svc:nothing:1.0", "mechanisms"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not name %s: %v", want, err)
		}
	}
}
