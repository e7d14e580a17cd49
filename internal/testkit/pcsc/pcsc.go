// Package pcsc leases a reader of the real PC/SC stack (pcscd with the
// vpcd driver, internal/vpcd) for a test, and gives it back when the test
// ends.
package pcsc

import (
	"testing"

	"github.com/renkei-idwsf/renkei/internal/vpcd"
)

// AcquireT leases a reader entry for a test or benchmark and releases it
// in Cleanup. It fails the test, never skips it, when PC/SC is missing.
func AcquireT(tb testing.TB) *vpcd.Slot {
	tb.Helper()
	s, err := vpcd.Acquire()
	if err != nil {
		tb.Fatalf("pcsc: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Release(); err != nil {
			tb.Errorf("pcsc: release: %v", err)
		}
	})
	return s
}
