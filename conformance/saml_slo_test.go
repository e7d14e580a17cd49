package conformance_test

import (
	"context"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/conformance"
	"github.com/renkei-idwsf/renkei/idp"
)

// sloRows are the rows the SLO cases cover: the SP-initiated ones, and
// the IdP-initiated ones through the IdP's hook (GET /slo/init and its
// confirmation form), through the browser and over SOAP.
var (
	sloRows       = []string{"SAML2-Conf/slo-redirect-sp", "SAML2-Conf/slo-soap-sp", "SAML2-Conf/slo-redirect-idp", "SAML2-Conf/slo-soap-idp"}
	sloCaseCount  = 8
	sloScopeGroup = []string{"slo"}
)

// TestOwnIdPSLO runs the SLO cases against Renkei's IdP (the real binary)
// and requires every one to pass with its messages recorded, the
// IdP-initiated cases through the IdP's logout hook, and every SLO row to
// pass.
func TestOwnIdPSLO(t *testing.T) {
	o := startOwnIdP(t)
	cases := append(conformance.SAMLIdPCases(), o.hookCases()...)
	r := &conformance.Runner{Role: conformance.RoleIdP, Mode: conformance.ModeIdP, Cases: cases,
		Rows: conformance.Matrix(), Only: sloScopeGroup, CaseTimeout: 30 * time.Second}
	rep := r.Run(context.Background(), o.env(t))
	if len(rep.Results) != sloCaseCount {
		t.Fatalf("%d SLO cases ran, want %d", len(rep.Results), sloCaseCount)
	}
	for _, res := range rep.Results {
		if res.Outcome.Verdict != conformance.Pass || len(res.Messages) == 0 {
			t.Errorf("%s: %s (%s) with %d messages", res.Case.ID, res.Outcome.Verdict, res.Outcome.Reason, len(res.Messages))
		}
	}
	want := map[string]conformance.Verdict{}
	for _, id := range sloRows {
		want[id] = conformance.Pass
	}
	for _, row := range rep.Rows {
		if v, ok := want[row.Row.ID]; ok && row.Verdict != v {
			t.Errorf("row %s: %s, want %s", row.Row.ID, row.Verdict, v)
		}
	}
	if t.Failed() || testing.Verbose() {
		logReport(t, rep)
	}
}

// TestBrokenIdPLogoutCaught runs the SLO cases against the faults build
// of Renkei's IdP with unsigned-logout switched on: its LogoutRequests
// carry no XML signature, which both IdP-initiated cases must catch, the
// one over SOAP included. (TestBrokenIdPsCaught leaves this fault to this
// test: its runs are scoped to the built rows, which SLO is not among.)
func TestBrokenIdPLogoutCaught(t *testing.T) {
	t.Setenv(faultsEnv, idp.FaultUnsignedLogout)
	o := startOwnIdP(t, faultsTag)
	r := &conformance.Runner{Role: conformance.RoleIdP, Mode: conformance.ModeIdP, Cases: append(conformance.SAMLIdPCases(), o.hookCases()...),
		Rows: conformance.Matrix(), Only: sloScopeGroup, CaseTimeout: 30 * time.Second}
	rep := r.Run(context.Background(), o.env(t))
	requireCaught(t, rep, idp.FaultUnsignedLogout, map[string]string{
		"SAML2-Prof-4.4.3/slo-idp-initiated-soap":  "not signed",
		"SAML2-Prof-4.4.3/slo-idp-initiated-front": "not signed"})
	if t.Failed() {
		t.Logf("the IdP logged:\n%s", o.Kit.Stderr())
	}
}
