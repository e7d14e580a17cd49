// Package xmlsec1 runs the xmlsec1 command line (Debian's xmlsec1, the
// OpenSSL build) as an independent XML-DSig and XML-Enc oracle in tests.
package xmlsec1

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Tool runs xmlsec1 with files in a private directory.
type Tool struct {
	t   testing.TB
	Dir string
}

// New returns a Tool with a fresh temporary directory. The test fails (never
// skips) when xmlsec1 is missing: `make test` installs it.
func New(t testing.TB) *Tool {
	t.Helper()
	if _, err := exec.LookPath("xmlsec1"); err != nil {
		t.Fatalf("xmlsec1 not found (install Debian package xmlsec1; make test does): %v", err)
	}
	return &Tool{t: t, Dir: t.TempDir()}
}

// File writes data to name inside the tool's directory and returns its path.
func (x *Tool) File(name string, data []byte) string {
	x.t.Helper()
	p := filepath.Join(x.Dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		x.t.Fatal(err)
	}
	return p
}

// Run runs xmlsec1 with args, returning stdout; err carries stderr.
func (x *Tool) Run(args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "xmlsec1", args...)
	cmd.Dir = x.Dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("xmlsec1 %v: %w\n%s", args, err, stderr.Bytes())
	}
	return stdout.Bytes(), nil
}
