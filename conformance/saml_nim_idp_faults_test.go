//go:build renkei_faults

package conformance_test

import (
	"testing"

	"github.com/renkei-idwsf/renkei/idp"
)

// TestBrokenIdPTerminateCaught switches on unsigned-terminate in the
// in-process engine that pulls the IdP-initiated ManageNameID trigger:
// its Terminate goes unsigned, which the case must catch.
func TestBrokenIdPTerminateCaught(t *testing.T) {
	if err := idp.SetFaults(idp.FaultUnsignedTerminate); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = idp.SetFaults() })
	o := startOwnIdP(t)
	requireCaught(t, o.nimInitiatedRun(t), idp.FaultUnsignedTerminate,
		map[string]string{"SAML2-Prof-4.5/nim-idp-initiated-soap-terminate": "not signed"})
}
