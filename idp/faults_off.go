//go:build !renkei_faults

package idp

// faultOn is false: this build has no deliberate faults (see faults.go).
func faultOn(string) bool { return false }

// FaultsEnabled is false: this build has no deliberate faults.
const FaultsEnabled = false
