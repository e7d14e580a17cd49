package benchkit

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The CPU time of a server process a benchmark drives (ProcessCPU), and
// of a floor measured on one thread of the benchmark's own (ThreadCPU):
// on a shared machine the wall clock counts the time others took, CPU
// time only the work done.

// clockTicks is the unit of /proc/PID/stat's times (USER_HZ, 100 on every
// Linux architecture Go supports).
const clockTicks = 100

// ProcessCPU is the user and system time process pid has used so far
// (proc(5): fields 14 and 15 of /proc/PID/stat), to the clock tick
// (10 ms): read it before and after a bounded loop of many requests.
func ProcessCPU(pid int) (time.Duration, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(raw)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("benchkit: /proc/%d/stat: %q", pid, s)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("benchkit: /proc/%d/stat: %w", pid, err)
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// ThreadCPU runs op on one locked OS thread and returns that thread's CPU
// time for it (getrusage RUSAGE_THREAD), which a busy machine does not
// stretch as it stretches the wall clock.
func ThreadCPU(op func() error) (time.Duration, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var r0, r1 syscall.Rusage
	const rusageThread = 1 // RUSAGE_THREAD
	if err := syscall.Getrusage(rusageThread, &r0); err != nil {
		return 0, err
	}
	err := op()
	if err := errors.Join(err, syscall.Getrusage(rusageThread, &r1)); err != nil {
		return 0, err
	}
	return time.Duration(r1.Utime.Nano() + r1.Stime.Nano() - r0.Utime.Nano() - r0.Stime.Nano()), nil
}
