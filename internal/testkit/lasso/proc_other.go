//go:build !linux

package lasso

import "syscall"

// sysProcAttr: only Linux can tie a child's life to its parent; elsewhere
// Cleanup alone stops the peers.
func sysProcAttr() *syscall.SysProcAttr { return nil }
