package client

import (
	"time"

	"github.com/renkei-idwsf/renkei/internal/faults"
)

// Deliberate faults, for the conformance suite's broken builds only: in a
// build with the renkei_faults tag, SetFaults switches on those it names,
// and each makes the client skip one check of a response a conforming WSC
// must make (IDWSF2 §2.3-2.4), so that the suite's WSC role can show it
// catches that WSC. In every other build fault is a constant false
// (internal/faults) and the checks cannot be switched off.
const (
	FaultIgnoreRelatesTo = "ignore-relatesto"       // accept a response whose wsa:RelatesTo names another message
	FaultAcceptStale     = "accept-stale-timestamp" // accept a response whose wsu:Timestamp is up to two days old
)

// Faults lists every fault name.
var Faults = []string{FaultIgnoreRelatesTo, FaultAcceptStale}

// FaultsEnabled reports a deliberately broken build.
const FaultsEnabled = faults.Enabled

var faultSet = faults.New("wsf/client", Faults...)

// staleWindow is how old a Timestamp FaultAcceptStale lets through.
const staleWindow = 48 * time.Hour
