//go:build renkei_faults

package discovery

// SetFaults switches on exactly the named faults (none: a conforming DS
// again) for every DS of the process; an unknown name is an error, so
// that a typo cannot pass for a conforming build. A fault read when the
// DS is mounted (FaultAcceptReplay) takes effect for DSs mounted after.
func SetFaults(names ...string) error { return faultSet.Switch(names...) }
