package benchkit

import (
	"errors"
	"os"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// TestInterleave: every iteration runs the subject, each floor and before
// once, and each side's total is at least the time it slept (time.Sleep
// pauses at least its duration; no upper bound is asserted, since a busy
// machine may stretch any of them).
func TestInterleave(t *testing.T) {
	var subjects, floors, befores int
	var ts time.Duration
	var tf []time.Duration
	r := testing.Benchmark(func(b *testing.B) {
		subjects, floors, befores = 0, 0, 0
		ts, tf = Interleave(b,
			func() { befores++; time.Sleep(2 * time.Millisecond) },
			func() { subjects++; time.Sleep(2 * time.Millisecond) },
			func() { floors++; time.Sleep(time.Millisecond) })
	})
	if r.N == 0 || subjects != r.N || floors != r.N || befores != r.N || len(tf) != 1 {
		t.Fatalf("N=%d: subject ran %d, floor %d, before %d times", r.N, subjects, floors, befores)
	}
	if n := time.Duration(r.N); ts < 2*time.Millisecond*n || tf[0] < time.Millisecond*n {
		t.Fatalf("N=%d: subject %v, floor %v: less than they slept", r.N, ts, tf[0])
	}
}

// TestInterleaveParallel: over every worker the subject and the floor each
// run b.N times, and each side's total is at least the time it slept.
func TestInterleaveParallel(t *testing.T) {
	var subjects, floors atomic.Int64
	var ts, tf time.Duration
	r := testing.Benchmark(func(b *testing.B) {
		subjects.Store(0)
		floors.Store(0)
		ts, tf = InterleaveParallel(b,
			func() { subjects.Add(1); time.Sleep(2 * time.Millisecond) },
			func() { floors.Add(1); time.Sleep(time.Millisecond) })
	})
	n := int64(r.N)
	if n == 0 || subjects.Load() != n || floors.Load() != n {
		t.Fatalf("N=%d: subject ran %d, floor %d times", n, subjects.Load(), floors.Load())
	}
	if ts < 2*time.Millisecond*time.Duration(n) || tf < time.Millisecond*time.Duration(n) {
		t.Fatalf("N=%d: subject %v, floor %v: less than they slept", n, ts, tf)
	}
}

// TestCPU: work done on a thread shows in ThreadCPU, and this process's
// CPU time (ProcessCPU) does not go down while it works; both within a
// bounded number of rounds, none timed.
func TestCPU(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("Linux only")
	}
	before, err := ProcessCPU(os.Getpid())
	if err != nil || before <= 0 {
		t.Fatalf("ProcessCPU of this process: %v, %v", before, err)
	}
	var spent time.Duration
	for round := 0; spent == 0 && round < 1000; round++ {
		spent, err = ThreadCPU(func() error {
			x := 0
			for i := range 1_000_000 {
				x += i
			}
			if x < 0 {
				return errors.New("overflow")
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if spent <= 0 {
		t.Fatal("ThreadCPU never saw the work")
	}
	after, err := ProcessCPU(os.Getpid())
	if err != nil || after < before {
		t.Fatalf("ProcessCPU went from %v to %v (%v)", before, after, err)
	}
	if _, err := ProcessCPU(-1); err == nil {
		t.Error("fail/no-such-process: ProcessCPU(-1) answered")
	}
	if _, err := ThreadCPU(func() error { return errors.New("op failed") }); err == nil {
		t.Error("fail/op-error: ThreadCPU dropped the op's error")
	}
}
