package lasso

import "syscall"

// sysProcAttr makes the kernel kill a peer whose test binary died without
// running Cleanup (a panic, a timeout), so no python is left behind.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
