//go:build !linux

package proc

import (
	"os/exec"
	"syscall"
)

// Signal is the parent-death signal to send; unused on this system.
type Signal = syscall.Signal

// Kill is the signal the kits use.
const Kill Signal = syscall.SIGKILL

func dieWithParent(*exec.Cmd, Signal) {}
