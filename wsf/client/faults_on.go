//go:build renkei_faults

package client

// SetFaults switches on exactly the named faults (none: a conforming
// client again) for every Client of the process, from its next call on; an
// unknown name is an error, so that a typo cannot pass for a conforming
// build.
func SetFaults(names ...string) error { return faultSet.Switch(names...) }
