// Package benchkit measures a benchmark's subject next to its floors in
// the same run, interleaved iteration by iteration, so that a slower or
// busier moment of the machine weighs on both alike: Renkei reports speed
// as ratios against raw-crypto floors measured this way, never as
// absolute times.
package benchkit

import (
	"errors"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Interleave runs subject and each floor once per iteration of b.Loop and
// returns the total time each took. Every other iteration the subject runs
// last instead of first, so neither side always follows the other (warm
// caches, a just-finished GC). before, when not nil, runs untimed at the
// start of each iteration (setup the subject needs now and then).
func Interleave(b *testing.B, before, subject func(), floors ...func()) (time.Duration, []time.Duration) {
	var ts time.Duration
	tf := make([]time.Duration, len(floors))
	runFloors := func() {
		for i, f := range floors {
			tf[i] += Time(f)
		}
	}
	for i := 0; b.Loop(); i++ {
		if before != nil {
			b.StopTimer()
			before()
			b.StartTimer()
		}
		if i%2 == 0 {
			ts += Time(subject)
			runFloors()
		} else {
			runFloors()
			ts += Time(subject)
		}
	}
	return ts, tf
}

// InterleaveParallel is Interleave under b.RunParallel, for a subject
// that uses several cores at once: each worker runs subject and floor
// once per iteration, the subject first every other time, and the times
// each took are summed over the workers. With every core busy both ways
// their ratio is one of throughputs. subject and floor must be safe for
// concurrent use.
func InterleaveParallel(b *testing.B, subject, floor func()) (ts, tf time.Duration) {
	var mu sync.Mutex
	b.RunParallel(func(pb *testing.PB) {
		var s, f time.Duration
		for i := 0; pb.Next(); i++ {
			if i%2 == 0 {
				s += Time(subject)
				f += Time(floor)
			} else {
				f += Time(floor)
				s += Time(subject)
			}
		}
		mu.Lock()
		ts, tf = ts+s, tf+f
		mu.Unlock()
	})
	return ts, tf
}

// Time is how long op took.
func Time(op func()) time.Duration {
	t0 := time.Now()
	op()
	return time.Since(t0)
}

// ReportRatio reports subject and floor as ns per iteration, under the
// given unit names, and their ratio as x-floor.
func ReportRatio(b *testing.B, subject, floor time.Duration, subjectUnit, floorUnit string) {
	n := float64(b.N)
	b.ReportMetric(float64(subject.Nanoseconds())/n, subjectUnit)
	b.ReportMetric(float64(floor.Nanoseconds())/n, floorUnit)
	b.ReportMetric(float64(subject)/float64(floor), "x-floor")
}

// ErrCaptured is what a Capture transport answers every request with:
// the client stops once the request is built and kept.
var ErrCaptured = errors.New("benchkit: request captured")

// Capture is an http.RoundTripper that keeps the body of each request
// instead of sending it: a benchmark builds its requests with the real
// client, untimed, and replays them into the receiver it measures.
type Capture struct {
	mu   sync.Mutex
	last []byte
}

// RoundTrip keeps the body and answers ErrCaptured.
func (c *Capture) RoundTrip(r *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.last = body
	c.mu.Unlock()
	return nil, ErrCaptured
}

// Last is the body of the last request captured.
func (c *Capture) Last() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}

// InterleaveThroughput measures a server's throughput against its floor's:
// in rounds, a batch of subject calls runs with inflight of them at once,
// as a server's concurrent clients would keep it busy, then a batch of
// floor calls the same way (every other round the floor first). It
// returns the wall time each side took over b.N calls. Unlike
// InterleaveParallel, whose workers each wait for their own call, a
// subject that waits on the disk (a group commit, an fsync) leaves no
// core idle while other calls are ready: the ratio is the one of queries
// per second at saturation. subject gets the index of its call, from 0 to
// b.N-1; subject and floor must be safe for concurrent use.
func InterleaveThroughput(b *testing.B, inflight int, subject func(i int), floor func()) (ts, tf time.Duration) {
	batch := 16 * inflight
	for done, round := 0, 0; done < b.N; round++ {
		n := min(batch, b.N-done)
		sub := func() { Concurrently(inflight, n, func(i int) { subject(done + i) }) }
		flo := func() { Concurrently(inflight, n, func(int) { floor() }) }
		if round%2 == 0 {
			ts += Time(sub)
			tf += Time(flo)
		} else {
			tf += Time(flo)
			ts += Time(sub)
		}
		done += n
	}
	return ts, tf
}

// Concurrently calls op(0) to op(n-1) on workers goroutines and returns
// once every call has returned.
func Concurrently(workers, n int, op func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(n); i = next.Add(1) - 1 {
				op(int(i))
			}
		})
	}
	wg.Wait()
}
