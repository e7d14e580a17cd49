//go:build renkei_faults

package idp

// SetFaults switches on exactly the named faults (none: a conforming IdP
// again) for every engine of the process, for a test that runs the engine
// in process; an unknown name is an error, so that a typo cannot pass for
// a conforming build.
func SetFaults(names ...string) error { return faultSet.Switch(names...) }
