package rolekit

import (
	"os"
	"runtime/debug"
)

// GCPercent is the garbage collector's target (GOGC) the role binaries
// (renkei-idp, -ds, -wsp, -portal, -terminal) run with unless their
// environment sets GOGC.
//
// A role's live heap is small: a few megabytes of metadata, keys and
// caches (the compiled schemas live in libxml2's memory), while each
// request allocates tens to hundreds of kilobytes of XML trees and
// buffers. At Go's default of 100 the heap stays at the runtime's 4 MB
// minimum target, so the collector runs every few requests: about 140
// cycles per 500 IdP logins, 15 to 20 % of the IdP's CPU per login in
// BenchmarkLogin. At 400 the target is 16 MB and the cycles six times
// fewer. The cost is memory: the heap may grow to five times the live
// heap before a cycle, not twice; an operator who wants a bound sets
// GOMEMLIMIT, which the runtime honours beside this.
const GCPercent = 400

// TuneGC sets the collector's target to GCPercent, unless the environment
// names one (GOGC), which the runtime has applied already. Each role
// binary calls it first thing in main.
func TuneGC() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(GCPercent)
	}
}
