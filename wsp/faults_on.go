//go:build renkei_faults

package wsp

// SetFaults switches on exactly the named faults (none: a conforming WSP
// again) for every WSP of the process, from its next request on; an
// unknown name is an error, so that a typo cannot pass for a conforming
// build.
func SetFaults(names ...string) error { return faultSet.Switch(names...) }
