// Package proc holds what the test kits that run other programs (the
// Lasso peers, the renkei-idp, renkei-ds and renkei-wsp binaries) share: the module's commands built once per test
// process (Binary), a child that dies with the test binary, and a buffer
// its output can be written to while a test reads it.
package proc

import (
	"os/exec"
	"strings"
	"sync"
)

// DieWithParent has the kernel send sig to cmd's process if the test
// binary dies without stopping it (a panic, a timeout's SIGQUIT), so that
// nothing is left running; it does nothing where the kernel offers no
// parent-death signal (then Cleanup alone stops the child). The signal is
// tied to the OS thread that starts cmd, which in Go is long-lived.
func DieWithParent(cmd *exec.Cmd, sig Signal) { dieWithParent(cmd, sig) }

// Output collects a child's output for concurrent writers and readers.
type Output struct {
	mu sync.Mutex
	b  strings.Builder
}

// Write appends p.
func (o *Output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.Write(p)
}

// String returns what was written so far.
func (o *Output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}
