//go:build renkei_faults

package conformance_test

import (
	"testing"

	"github.com/renkei-idwsf/renkei/conformance"
	"github.com/renkei-idwsf/renkei/discovery"
)

// TestBrokenDSCaught runs the suite against deliberately broken builds of
// Renkei's DS (this binary, built with the renkei_faults tag, one fault
// switched on per subtest before the DS starts) and requires each fault to
// be caught by the named cases, failing with the target as the deviating
// side and the reason naming what went wrong. The same build with no
// fault passes every case (the control).
func TestBrokenDSCaught(t *testing.T) {
	requireBrokenCaught(t, discovery.Faults, discovery.SetFaults, []faultCase{
		{discovery.FaultSkipAssociation, map[string]string{"IDWSF2-Disco-4.1/association-required": "without an association"}},
		{discovery.FaultWrongAudience, map[string]string{"IDWSF2-Disco-4.2/token-audience-subject": "audience"}},
		{discovery.FaultAcceptReplay, map[string]string{"IDWSF2-SB-2.3/messageid-replayed": "accepted"}},
	}, func(t *testing.T) *conformance.Report { return runDS(t, ownDSEnv(t)) }, requireAllPass)
}
