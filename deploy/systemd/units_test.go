// Package systemd holds the example systemd units of the role binaries;
// its test keeps them true to the commands they start.
package systemd

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestUnits checks each unit against the tree (it starts a binary of
// cmd/ with the -config flag that binary reads, there is one unit per
// role binary) and has systemd-analyze verify it (make deps installs it).
func TestUnits(t *testing.T) {
	units, err := filepath.Glob("*.service")
	if err != nil || len(units) == 0 {
		t.Fatalf("no units: %v", err)
	}
	want := map[string]bool{"renkei-idp": true, "renkei-ds": true, "renkei-wsp": true, "renkei-portal": true, "renkei-terminal": true}
	exe := regexp.MustCompile(`(?m)^ExecStart=/usr/local/bin/(renkei-[a-z]+) -config /etc/renkei/[a-z%-]+\.json$`)
	for _, u := range units {
		b, err := os.ReadFile(u)
		if err != nil {
			t.Fatal(err)
		}
		m := exe.FindSubmatch(b)
		if m == nil {
			t.Errorf("%s: no ExecStart of a role binary with -config", u)
			continue
		}
		bin := string(m[1])
		if !strings.HasPrefix(u, bin) {
			t.Errorf("%s starts %s", u, bin)
		}
		main, err := os.ReadFile(filepath.Join("..", "..", "cmd", bin, "main.go"))
		if err != nil {
			t.Errorf("%s: %v", u, err)
		} else if !strings.Contains(string(main), `"config"`) {
			t.Errorf("%s: cmd/%s reads no -config flag", u, bin)
		}
		delete(want, bin)
	}
	for bin := range want {
		t.Errorf("no unit starts %s", bin)
	}
	verify(t, units)
}

// verify runs systemd-analyze verify on copies of the units whose
// ExecStart points at a stand-in executable.
func verify(t *testing.T, units []string) {
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Fatalf("systemd-analyze not installed (make deps installs Debian's systemd): %v", err)
	}
	dir := t.TempDir()
	stand := filepath.Join(dir, "bin")
	if err := os.WriteFile(stand, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, u := range units {
		b, _ := os.ReadFile(u)
		s := regexp.MustCompile(`/usr/local/bin/renkei-[a-z]+`).ReplaceAllString(string(b), stand)
		name := strings.Replace(u, "@.service", "@example.service", 1)
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(u, "@") {
			if err := os.WriteFile(filepath.Join(dir, u), []byte(s), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		paths = append(paths, p)
	}
	cmd := exec.Command(sa, append([]string{"verify"}, paths...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "SYSTEMD_UNIT_PATH="+dir+":")
	if out, err := cmd.CombinedOutput(); err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}
