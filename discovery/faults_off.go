//go:build !renkei_faults

package discovery

// FaultsEnabled is false: this build has no deliberate faults.
const FaultsEnabled = false

// fault is false: this build has no deliberate faults (see faults.go).
func (*DS) fault(string) bool { return false }
