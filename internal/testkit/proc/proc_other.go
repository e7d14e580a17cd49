//go:build !linux

package proc

import (
	"os/exec"
	"syscall"
)

// Signal is the parent-death signal to send; unused on this system.
type Signal = syscall.Signal

// The signals the kits use.
const (
	Kill Signal = syscall.SIGKILL
	Term Signal = syscall.SIGTERM
)

func dieWithParent(*exec.Cmd, Signal) {}
