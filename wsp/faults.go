package wsp

import "github.com/renkei-idwsf/renkei/internal/faults"

// Deliberate faults, for the conformance suite's broken builds only: in a
// build with the renkei_faults tag, SetFaults switches on those it names,
// and each makes the WSP skip one check a conforming WSP must make, so
// that the suite can show it catches that WSP. None touches the back
// office. In every other build fault is a constant false (internal/faults)
// and the checks cannot be switched off.
const (
	FaultIgnoreSelectPredicate = "ignore-select-predicate" // answer a Select with a predicate ([@id='v'], [p:Field='v']) with every item of its type
	FaultNoSubjectCheck        = "no-subject-check"        // serve a local identifier the back office does not know instead of DoesNotExist
	FaultIgnorePurpose         = "ignore-purpose"          // serve any purpose of sb:UsageDirective instead of CannotHonourUsageDirective
)

// Faults lists every fault name.
var Faults = []string{FaultIgnoreSelectPredicate, FaultNoSubjectCheck, FaultIgnorePurpose}

// FaultsEnabled reports a deliberately broken build.
const FaultsEnabled = faults.Enabled

var faultSet = faults.New("wsp", Faults...)

// fault reports whether the named fault is switched on.
func (*WSP) fault(name string) bool { return faultSet.On(name) }
