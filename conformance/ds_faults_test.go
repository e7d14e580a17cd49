//go:build renkei_faults

package conformance_test

import (
	"testing"

	"github.com/renkei-idwsf/renkei/discovery"
)

// TestBrokenDSCaught runs the suite against deliberately broken builds of
// Renkei's DS (this binary, built with the renkei_faults tag, one fault
// switched on per subtest before the DS starts) and requires each fault to
// be caught by the named cases, failing with the target as the deviating
// side and the reason naming what went wrong. The same build with no
// fault passes every case (the control).
func TestBrokenDSCaught(t *testing.T) {
	tests := []struct {
		fault  string
		caught map[string]string // case ID -> a word its reason must contain
	}{
		{discovery.FaultSkipAssociation, map[string]string{"IDWSF2-Disco-4.1/association-required": "without an association"}},
		{discovery.FaultWrongAudience, map[string]string{"IDWSF2-Disco-4.2/token-audience-subject": "audience"}},
		{discovery.FaultAcceptReplay, map[string]string{"IDWSF2-SB-2.3/messageid-replayed": "accepted"}},
	}
	if len(tests) != len(discovery.Faults) {
		t.Fatalf("%d faults exist, %d are tested", len(discovery.Faults), len(tests))
	}
	t.Cleanup(func() { discovery.SetFaults() })
	t.Run("ok/control", func(t *testing.T) {
		if err := discovery.SetFaults(); err != nil {
			t.Fatal(err)
		}
		_, env := ownDS(t)
		requireAllPass(t, runDS(t, env))
	})
	for _, tt := range tests {
		t.Run("fail/"+tt.fault, func(t *testing.T) {
			if err := discovery.SetFaults(tt.fault); err != nil {
				t.Fatal(err)
			}
			_, env := ownDS(t)
			requireCaught(t, runDS(t, env), tt.fault, tt.caught)
		})
	}
}
