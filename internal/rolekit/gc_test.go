package rolekit

import (
	"os"
	"runtime/debug"
	"testing"
)

// gcPercent reads the collector's target without changing it.
func gcPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

func TestTuneGC(t *testing.T) {
	defer debug.SetGCPercent(gcPercent())
	old, had := os.LookupEnv("GOGC")
	t.Cleanup(func() {
		if had {
			os.Setenv("GOGC", old)
		} else {
			os.Unsetenv("GOGC")
		}
	})

	os.Unsetenv("GOGC")
	debug.SetGCPercent(100)
	TuneGC()
	if got := gcPercent(); got != GCPercent {
		t.Errorf("without GOGC: target %d, want %d", got, GCPercent)
	}

	// An operator's GOGC, applied by the runtime at start, stays.
	os.Setenv("GOGC", "150")
	debug.SetGCPercent(150)
	TuneGC()
	if got := gcPercent(); got != 150 {
		t.Errorf("with GOGC=150: target %d, want 150 kept", got)
	}
}
