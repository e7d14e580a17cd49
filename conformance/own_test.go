package conformance_test

import (
	"context"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/conformance"
)

// runOwn runs cases of role, judged in mode, against env, within only
// (none: every group).
func runOwn(env *conformance.Env, role conformance.Role, mode conformance.Mode, cases []conformance.Case, only ...string) *conformance.Report {
	r := &conformance.Runner{Role: role, Mode: mode, Cases: cases, Rows: conformance.Matrix(), Only: only, CaseTimeout: 30 * time.Second}
	return r.Run(context.Background(), env)
}

// requireCasesPass requires want cases to have run, each passing with its
// exchanged messages recorded.
func requireCasesPass(t *testing.T, rep *conformance.Report, want int) {
	t.Helper()
	if len(rep.Results) != want {
		t.Fatalf("%d cases ran, want %d", len(rep.Results), want)
	}
	for _, res := range rep.Results {
		if res.Outcome.Verdict != conformance.Pass {
			t.Errorf("%s (%s): %s, %s deviates: %s", res.Case.ID, res.Case.Clause, res.Outcome.Verdict, res.Outcome.Side, res.Outcome.Reason)
		}
		if len(res.Messages) == 0 {
			t.Errorf("%s: no exchanged message recorded", res.Case.ID)
		}
	}
}

// requireRowsPass requires the report to judge want rows (which: their
// names, for the message), every one passing.
func requireRowsPass(t *testing.T, rep *conformance.Report, want int, which string) {
	t.Helper()
	if len(rep.Rows) != want {
		t.Errorf("%d rows judged, want %d: %s", len(rep.Rows), want, which)
	}
	for _, row := range rep.Rows {
		if row.Verdict != conformance.Pass {
			t.Errorf("row %s: %s (%s)", row.Row.ID, row.Verdict, row.Reason)
		}
	}
}
