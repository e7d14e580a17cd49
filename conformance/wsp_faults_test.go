//go:build renkei_faults

package conformance_test

import (
	"testing"

	"github.com/renkei-idwsf/renkei/conformance"
	"github.com/renkei-idwsf/renkei/wsp"
)

// TestBrokenWSPCaught runs the suite against deliberately broken builds of
// Renkei's WSP (this binary, built with the renkei_faults tag, one fault
// switched on per subtest) and requires each fault to be caught by the
// named cases, failing with the target as the deviating side and the
// reason naming what went wrong. The same build with no fault passes
// every case (the control).
func TestBrokenWSPCaught(t *testing.T) {
	requireBrokenCaught(t, wsp.Faults, wsp.SetFaults, []faultCase{
		{wsp.FaultIgnoreSelectPredicate, map[string]string{
			"IDWSF2-DST-5.1/query-select-by-id":    "alone",
			"IDWSF2-DST-5.1/query-select-by-field": "does not match"}},
		{wsp.FaultNoSubjectCheck, map[string]string{"IDWSF2-Sec-3.4/subject-unknown": "doesnotexist"}},
		{wsp.FaultIgnorePurpose, map[string]string{"IDWSF2-SB-2.2/usage-directive-purpose": "served"}},
	}, func(t *testing.T) *conformance.Report { return runWSP(t, ownWSP(t)) }, requireWSPPass)
}
