//go:build !renkei_faults

package wsp

// FaultsEnabled is false: this build has no deliberate faults.
const FaultsEnabled = false

// fault is false: this build has no deliberate faults (see faults.go).
func (*WSP) fault(string) bool { return false }
