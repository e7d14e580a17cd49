package discovery

import (
	"context"
	"time"

	"github.com/renkei-idwsf/renkei/internal/faults"
	"github.com/renkei-idwsf/renkei/wsf/secmech"
)

// Deliberate faults, for the conformance suite's broken builds only: in a
// build with the renkei_faults tag, SetFaults switches on those it names,
// and each makes the DS skip one check a conforming Discovery Service must
// make, so that the suite can show it catches that DS. In every other
// build fault is a constant false (internal/faults) and the checks cannot be
// switched off.
const (
	FaultSkipAssociation = "skip-association" // answer a Query with every linked institution's services, associated or not
	FaultWrongAudience   = "wrong-audience"   // mint each token for the WSC's entityID while the EPR names the WSP
	FaultAcceptReplay    = "accept-replay"    // forget every MessageID: a replayed request is served
)

// Faults lists every fault name.
var Faults = []string{FaultSkipAssociation, FaultWrongAudience, FaultAcceptReplay}

// FaultsEnabled reports a deliberately broken build.
const FaultsEnabled = faults.Enabled

var faultSet = faults.New("discovery", Faults...)

// fault reports whether the named fault is switched on.
func (*DS) fault(name string) bool { return faultSet.On(name) }

// misaddress re-addresses a token request to another provider
// (FaultWrongAudience); the subject stays encrypted for the right WSP.
func misaddress(req *secmech.TokenRequest, other string) {
	n := *req.NameID
	n.SPNameQualifier = other
	req.Audience, req.NameID, req.Target.EntityID = other, &n, other
}

// forgetfulReplay is a replay cache that remembers nothing
// (FaultAcceptReplay).
type forgetfulReplay struct{}

func (forgetfulReplay) CheckAndInsert(context.Context, string, string, time.Time, time.Time) error {
	return nil
}
