package proc

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// Module is the main module, whose commands Binary builds.
const Module = "github.com/renkei-idwsf/renkei"

// builds caches one binary per command and set of build tags for the test
// process.
var builds = struct {
	sync.Mutex
	dir  string
	bins map[string]string
}{bins: map[string]string{}}

// Binary builds the main module's command (a directory relative to the
// module's root, such as "./cmd/renkei-idp") with tags, once per test
// process, command and tag set, and returns the executable's path. The
// build runs in the main module's directory (found with go list, so a
// nested module that replaces it works too) into a temporary directory
// named after this process; directories left by dead test processes are
// removed.
func Binary(command string, tags []string) (string, error) {
	builds.Lock()
	defer builds.Unlock()
	key := command + " " + strings.Join(tags, ",")
	if bin, ok := builds.bins[key]; ok {
		return bin, nil
	}
	if builds.dir == "" {
		dir, err := buildDir()
		if err != nil {
			return "", err
		}
		builds.dir = dir
	}
	bin := filepath.Join(builds.dir, fmt.Sprintf("%s-%d", filepath.Base(command), len(builds.bins)))
	if err := goBuild(bin, command, tags); err != nil {
		return "", err
	}
	builds.bins[key] = bin
	return bin, nil
}

func goBuild(bin, command string, tags []string) error {
	root, err := moduleDir()
	if err != nil {
		return err
	}
	args := []string{"build", "-o", bin}
	if len(tags) > 0 {
		args = append(args, "-tags", strings.Join(tags, ","))
	}
	cmd := exec.Command("go", append(args, command)...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("proc: go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

// moduleDir is the main module's directory as the go command resolves it
// from the test's working directory.
func moduleDir() (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", Module).Output()
	if err != nil {
		return "", fmt.Errorf("proc: go list -m %s: %w", Module, err)
	}
	dir := string(bytes.TrimSpace(out))
	if dir == "" {
		return "", fmt.Errorf("proc: the go command knows no directory for %s", Module)
	}
	return dir, nil
}

// buildDir makes this process's directory and sweeps those of processes
// that no longer run.
func buildDir() (string, error) {
	base := filepath.Join(os.TempDir(), "renkei-testkit-bin")
	if err := os.MkdirAll(base, 0o700); err != nil {
		return "", err
	}
	ents, _ := os.ReadDir(base)
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err == nil && pid != os.Getpid() && !alive(pid) {
			os.RemoveAll(filepath.Join(base, e.Name()))
		}
	}
	dir := filepath.Join(base, strconv.Itoa(os.Getpid()))
	return dir, os.MkdirAll(dir, 0o700)
}

// alive reports whether a process with that PID exists.
func alive(pid int) bool {
	_, err := os.Stat(filepath.Join("/proc", strconv.Itoa(pid)))
	return err == nil
}
