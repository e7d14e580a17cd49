package pgcluster

import (
	"os/exec"
	"syscall"
)

// dieWithParent has the kernel send SIGTERM to cmd's process (runuser or
// postgres; runuser passes it on) if the process that started it dies
// without stopping it, so that no server is left running. The signal is
// tied to the OS thread that starts cmd, which in Go is long-lived.
func dieWithParent(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGTERM
}
