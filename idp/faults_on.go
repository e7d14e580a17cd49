//go:build renkei_faults

package idp

import (
	"fmt"
	"os"
	"slices"
	"strings"
)

// FaultsEnabled is true: this is a deliberately broken build (faults.go).
const FaultsEnabled = true

// faultsOn holds the faults RENKEI_IDP_FAULTS switched on; an unknown name
// stops the program, so that a typo cannot pass for a conforming build.
var faultsOn = func() map[string]bool {
	on := map[string]bool{}
	for _, name := range strings.Split(os.Getenv("RENKEI_IDP_FAULTS"), ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if !slices.Contains(Faults, name) {
			panic(fmt.Sprintf("idp: RENKEI_IDP_FAULTS names unknown fault %q (known: %s)", name, strings.Join(Faults, ", ")))
		}
		on[name] = true
	}
	fmt.Fprintf(os.Stderr, "idp: DELIBERATELY BROKEN BUILD (renkei_faults), faults on: %q\n", faultNames(on))
	return on
}()

func faultNames(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// faultOn reports whether the named fault is switched on.
func faultOn(name string) bool { return faultsOn[name] }
