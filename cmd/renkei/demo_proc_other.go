//go:build !linux

package main

import (
	"os/exec"
	"syscall"
)

// ownGroup puts cmd in a process group of its own.
func ownGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}
