// Package benchkit measures a benchmark's subject next to its floors in
// the same run, interleaved iteration by iteration, so that a slower or
// busier moment of the machine weighs on both alike: Renkei reports speed
// as ratios against raw-crypto floors measured this way, never as
// absolute times.
package benchkit

import (
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
