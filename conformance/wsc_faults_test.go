//go:build renkei_faults

package conformance_test

import (
	"testing"

	"github.com/renkei-idwsf/renkei/wsf/client"
)

// TestBrokenWSCCaught runs the WSC cases against deliberately broken
// builds of the client My Portal's WSC sends with (wsf/client, built with
// the renkei_faults tag, one fault switched on per subtest) and requires
// each fault to be caught by the named case, failing with the target as
// the deviating side and the reason naming what went wrong. The same
// build with no fault passes every case (the control).
func TestBrokenWSCCaught(t *testing.T) {
	tests := []struct {
		fault  string
		caught map[string]string // case ID -> a word its reason must contain
	}{
		{client.FaultIgnoreRelatesTo, map[string]string{"IDWSF2-2.3/wsc-wrong-relatesto": "relating to another message"}},
		{client.FaultAcceptStale, map[string]string{"IDWSF2-2.4/wsc-stale-timestamp": "hour-old timestamp"}},
	}
	if len(tests) != len(client.Faults) {
		t.Fatalf("%d faults exist, %d are tested", len(client.Faults), len(tests))
	}
	t.Cleanup(func() { client.SetFaults() })
	t.Run("ok/control", func(t *testing.T) {
		if err := client.SetFaults(); err != nil {
			t.Fatal(err)
		}
		requireWSCPass(t, runWSC(t, ownWSC(t)))
	})
	for _, tt := range tests {
		t.Run("fail/"+tt.fault, func(t *testing.T) {
			if err := client.SetFaults(tt.fault); err != nil {
				t.Fatal(err)
			}
			requireCaught(t, runWSC(t, ownWSC(t)), tt.fault, tt.caught)
		})
	}
}
