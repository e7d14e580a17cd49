//go:build renkei_faults

package conformance_test

import (
	"testing"

	"github.com/renkei-idwsf/renkei/conformance"
	"github.com/renkei-idwsf/renkei/wsf/client"
)

// TestBrokenWSCCaught runs the WSC cases against deliberately broken
// builds of the client My Portal's WSC sends with (wsf/client, built with
// the renkei_faults tag, one fault switched on per subtest) and requires
// each fault to be caught by the named case, failing with the target as
// the deviating side and the reason naming what went wrong. The same
// build with no fault passes every case (the control).
func TestBrokenWSCCaught(t *testing.T) {
	requireBrokenCaught(t, client.Faults, client.SetFaults, []faultCase{
		{client.FaultIgnoreRelatesTo, map[string]string{"IDWSF2-2.3/wsc-wrong-relatesto": "relating to another message"}},
		{client.FaultAcceptStale, map[string]string{"IDWSF2-2.4/wsc-stale-timestamp": "hour-old timestamp"}},
	}, func(t *testing.T) *conformance.Report { return runWSC(t, ownWSC(t)) }, requireWSCPass)
}
