//go:build renkei_faults

package faults

import (
	"fmt"
	"os"
	"slices"
	"strings"
)

// Enabled is true: this is a deliberately broken build.
const Enabled = true

// Switch switches on exactly the named faults (none: a conforming engine
// again) for every instance of the engine in the process; an unknown name
// is an error.
func (s *Set) Switch(names ...string) error {
	on := map[string]bool{}
	for _, name := range names {
		if !slices.Contains(s.names, name) {
			return fmt.Errorf("%s: unknown fault %q (known: %s)", s.role, name, strings.Join(s.names, ", "))
		}
		on[name] = true
	}
	s.mu.Lock()
	s.on = on
	s.mu.Unlock()
	fmt.Fprintf(os.Stderr, "%s: DELIBERATELY BROKEN BUILD (renkei_faults), faults on: %q\n", s.role, names)
	return nil
}

// FromEnv switches on the comma-separated faults the environment variable
// names, once, at start; an unknown name stops the program.
func (s *Set) FromEnv(variable string) *Set {
	var names []string
	for _, name := range strings.Split(os.Getenv(variable), ",") {
		if name = strings.TrimSpace(name); name != "" {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	if err := s.Switch(names...); err != nil {
		panic(fmt.Sprintf("%s names %v", variable, err))
	}
	return s
}

// On reports whether the named fault is switched on.
func (s *Set) On(name string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.on[name]
}
