//go:build renkei_faults

package wsp

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
)

// FaultsEnabled is true: this is a deliberately broken build (faults.go).
const FaultsEnabled = true

var (
	faultsMu sync.RWMutex
	faultsOn = map[string]bool{}
)

// SetFaults switches on exactly the named faults (none: a conforming WSP
// again) for every WSP of the process, from its next request on; an
// unknown name is an error, so that a typo cannot pass for a conforming
// build.
func SetFaults(names ...string) error {
	on := map[string]bool{}
	for _, name := range names {
		if !slices.Contains(Faults, name) {
			return fmt.Errorf("wsp: unknown fault %q (known: %s)", name, strings.Join(Faults, ", "))
		}
		on[name] = true
	}
	faultsMu.Lock()
	faultsOn = on
	faultsMu.Unlock()
	fmt.Fprintf(os.Stderr, "wsp: DELIBERATELY BROKEN BUILD (renkei_faults), faults on: %q\n", names)
	return nil
}

// fault reports whether the named fault is switched on.
func (*WSP) fault(name string) bool {
	faultsMu.RLock()
	defer faultsMu.RUnlock()
	return faultsOn[name]
}
