package proc

import (
	"os/exec"
	"syscall"
)

// Signal is the parent-death signal to send.
type Signal = syscall.Signal

// Kill is the signal the kits use: their peers need no cleanup (the
// throwaway PostgreSQL, which does, is internal/pgcluster's).
const Kill Signal = syscall.SIGKILL

func dieWithParent(cmd *exec.Cmd, sig Signal) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = sig
}
