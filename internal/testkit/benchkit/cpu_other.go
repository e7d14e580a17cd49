//go:build !linux

package benchkit

import (
	"errors"
	"time"
)

var errNoCPU = errors.New("benchkit: CPU times are read from Linux's /proc and getrusage")

// ProcessCPU is unavailable on this system.
func ProcessCPU(int) (time.Duration, error) { return 0, errNoCPU }

// ThreadCPU is unavailable on this system.
func ThreadCPU(func() error) (time.Duration, error) { return 0, errNoCPU }
