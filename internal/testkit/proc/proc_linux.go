package proc

import (
	"os/exec"
	"syscall"
)

// Signal is the parent-death signal to send.
type Signal = syscall.Signal

// The signals the kits use: SIGKILL for a peer that needs no cleanup,
// SIGTERM for one that must stop cleanly or pass it on.
const (
	Kill Signal = syscall.SIGKILL
	Term Signal = syscall.SIGTERM
)

func dieWithParent(cmd *exec.Cmd, sig Signal) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = sig
}
