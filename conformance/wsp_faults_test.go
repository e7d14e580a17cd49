//go:build renkei_faults

package conformance_test

import (
	"testing"

	"github.com/renkei-idwsf/renkei/wsp"
)

// TestBrokenWSPCaught runs the suite against deliberately broken builds of
// Renkei's WSP (this binary, built with the renkei_faults tag, one fault
// switched on per subtest) and requires each fault to be caught by the
// named cases, failing with the target as the deviating side and the
// reason naming what went wrong. The same build with no fault passes
// every case (the control).
func TestBrokenWSPCaught(t *testing.T) {
	tests := []struct {
		fault  string
		caught map[string]string // case ID -> a word its reason must contain
	}{
		{wsp.FaultIgnoreSelectPredicate, map[string]string{
			"IDWSF2-DST-5.1/query-select-by-id":    "alone",
			"IDWSF2-DST-5.1/query-select-by-field": "does not match"}},
		{wsp.FaultNoSubjectCheck, map[string]string{"IDWSF2-Sec-3.4/subject-unknown": "doesnotexist"}},
		{wsp.FaultIgnorePurpose, map[string]string{"IDWSF2-SB-2.2/usage-directive-purpose": "served"}},
	}
	if len(tests) != len(wsp.Faults) {
		t.Fatalf("%d faults exist, %d are tested", len(wsp.Faults), len(tests))
	}
	t.Cleanup(func() { wsp.SetFaults() })
	t.Run("ok/control", func(t *testing.T) {
		if err := wsp.SetFaults(); err != nil {
			t.Fatal(err)
		}
		requireWSPPass(t, runWSP(t, ownWSP(t)))
	})
	for _, tt := range tests {
		t.Run("fail/"+tt.fault, func(t *testing.T) {
			if err := wsp.SetFaults(tt.fault); err != nil {
				t.Fatal(err)
			}
			requireCaught(t, runWSP(t, ownWSP(t)), tt.fault, tt.caught)
		})
	}
}
