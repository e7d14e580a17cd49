//go:build renkei_faults

package conformance_test

import (
	"testing"

	"github.com/renkei-idwsf/renkei/conformance"
	"github.com/renkei-idwsf/renkei/wsc/sp"
)

// TestBrokenSPCaught runs the SP cases against deliberately broken builds
// of My Portal's SP engine (this binary, built with the renkei_faults
// tag, one fault switched on per subtest) and requires each fault to be
// caught by the named case, failing with the target as the deviating
// side and the reason naming what went wrong. The same build with no
// fault passes every case (the control).
func TestBrokenSPCaught(t *testing.T) {
	requireBrokenCaught(t, sp.Faults, sp.SetFaults, []faultCase{
		{sp.FaultSkipAudience, map[string]string{"SAML2-Core-2.5.1.4/sp-wrong-audience": "audience"}},
		{sp.FaultAcceptUnsigned, map[string]string{"SAML2-Prof-4.1.3.5/sp-unsigned": "unsigned"}},
		{sp.FaultSkipReplayCheck, map[string]string{"SAML2-Prof-4.1.4.5/sp-replayed-assertion": "replayed assertion"}},
		{sp.FaultAcceptUnsignedLogout, map[string]string{"SAML2-Prof-4.4.4.1/sp-slo-redirect-unsigned": "unsigned"}},
	}, func(t *testing.T) *conformance.Report { return runSP(t, ownSP(t)) }, requireSPPass)
}
