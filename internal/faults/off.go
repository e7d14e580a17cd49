//go:build !renkei_faults

package faults

// Enabled is false: this build has no deliberate faults.
const Enabled = false

// FromEnv does nothing: this build has no deliberate faults.
func (s *Set) FromEnv(string) *Set { return s }

// On is false: this build has no deliberate faults.
func (*Set) On(string) bool { return false }
