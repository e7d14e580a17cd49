// Package faults is the switchboard of deliberate faults, for the
// conformance suite's broken builds only. An engine lists the faults it
// can commit (each skips one check a conforming implementation must make)
// and asks On before each such check. In a build with the renkei_faults
// tag the faults can be switched on, by name (Switch, for tests that run
// the engine in process) or from an environment variable read once at
// start (FromEnv, for a binary); an unknown name is refused, so that a typo
// cannot pass for a conforming build. In every other build On is a
// constant false and nothing can switch a check off.
package faults

import "sync"

// Set is one engine's faults.
type Set struct {
	role  string
	names []string
	mu    sync.RWMutex
	on    map[string]bool
}

// New returns the faults an engine (role, for messages) can commit.
func New(role string, names ...string) *Set { return &Set{role: role, names: names} }

// Names returns the faults of the set.
func (s *Set) Names() []string { return s.names }
