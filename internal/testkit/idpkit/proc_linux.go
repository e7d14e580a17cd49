package idpkit

import "syscall"

// sysProcAttr kills the IdP when the test binary dies, even when Cleanup
// never runs (a panic, a timeout's SIGQUIT).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
