package main

import (
	"os/exec"
	"syscall"
)

// ownGroup puts cmd in a process group of its own and has the kernel send
// it SIGTERM if the demo dies without stopping it.
func ownGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
