//go:build !linux

package idpkit

import "syscall"

func sysProcAttr() *syscall.SysProcAttr { return nil }
