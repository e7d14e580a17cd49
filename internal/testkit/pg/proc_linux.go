package pg

import (
	"os/exec"
	"syscall"
)

// dieWithParent has the kernel send SIGTERM to cmd (runuser passes it on to
// postgres) if the test binary dies without stopping the cluster.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
