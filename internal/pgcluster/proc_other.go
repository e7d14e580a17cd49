//go:build !linux

package pgcluster

import "os/exec"

// dieWithParent does nothing where the kernel offers no parent-death
// signal: Stop alone ends the server.
func dieWithParent(*exec.Cmd) {}
