package conformance_test

import (
	"strings"
	"testing"

	"github.com/renkei-idwsf/renkei/conformance"
	"github.com/renkei-idwsf/renkei/idp"
)

// faultsTag is the build tag under which the IdP's deliberate faults exist.
const faultsTag = "renkei_faults"

// faultsEnv is the variable the faults build reads at start.
const faultsEnv = "RENKEI_IDP_FAULTS"

// TestBrokenIdPsCaught runs the suite against deliberately broken builds of
// Renkei's IdP (one binary built with the faults tag, one fault switched on
// per process) and requires each fault to be caught by the named cases,
// failing with the target as the deviating side and the reason naming what
// went wrong. The same binary with no fault switched on passes every case
// (the control), so the failures come from the faults and not the build.
//
// The accept-stale build is not caught while its fault is masked in the IdP:
// idp/sso_accept.go checkReplay arms the replay key until IssueInstant +
// 2*Skew + 1s, which for a stale request lies in the past, so the replay
// cache refuses the key (store: invalid argument) and the IdP answers
// Responder, a refusal. The fault must also arm the key from now (e.g.
// expiry = max(that, now+Skew)) for the build to accept the stale request.
func TestBrokenIdPsCaught(t *testing.T) {
	tests := []struct {
		fault  string
		caught map[string]string // case ID -> a word its reason must contain
	}{
		{idp.FaultSkipSignature, map[string]string{
			"SAML2-Bind-3.4.4.1/redirect-bad-signature": "",
			"SAML2-Bind-3.4.4.1/redirect-unsigned":      ""}},
		{idp.FaultAcceptStale, map[string]string{"SAML2-Core-3.2.1/stale-issueinstant": ""}},
		{idp.FaultIgnoreACS, map[string]string{"SAML2-Prof-4.1.4.1/acs-not-in-metadata": "attacker.invalid"}},
		{idp.FaultSignSHA1, map[string]string{"SAML2-Bind-3.4/redirect-authnrequest": "sha1"}},
		{idp.FaultAcceptReplay, map[string]string{"SAML2-Core-3.2.1/replayed-request": ""}},
		{idp.FaultArtifactReuse, map[string]string{"SAML2-Bind-3.6.4/artifact-one-time": "second resolution"}},
		{idp.FaultArtifactAnySP, map[string]string{"SAML2-Bind-3.6.5/artifact-other-requester": "another sp"}},
		{idp.FaultArtifactBare, map[string]string{"SAML2-Bind-3.6.5/artifact-response-signed": "not signed"}},
		{idp.FaultReleaseUnlisted, map[string]string{"SAML2-Core-2.7.3/aq-unlisted-sp-gets-none": "released"}},
		{idp.FaultQueryForeignNameID, map[string]string{"SAML2-Core-3.3.2.3/aq-other-sps-nameid": "another sp"}},
		{idp.FaultMappingPlain, map[string]string{"SAML2-Core-3.8/nimap-encrypted": "in clear"}},
	}
	// elsewhere are the faults whose cases lie outside the built scope,
	// caught by a test of their own.
	elsewhere := map[string]string{idp.FaultUnsignedLogout: "TestBrokenIdPLogoutCaught",
		idp.FaultUnsignedTerminate: "TestBrokenIdPTerminateCaught (renkei_faults test build: the engine runs in process)"}
	if len(tests)+len(elsewhere) != len(idp.Faults) {
		t.Fatalf("%d faults exist, %d are tested", len(idp.Faults), len(tests)+len(elsewhere))
	}
	t.Run("ok/control", func(t *testing.T) {
		t.Setenv(faultsEnv, "")
		o := startOwnIdP(t, faultsTag)
		cases := idpCases(t)
		rep := o.run(t, cases)
		checkAllPass(t, rep, cases)
		if t.Failed() {
			logReport(t, rep)
		}
	})
	for _, tt := range tests {
		t.Run("fail/"+tt.fault, func(t *testing.T) {
			t.Setenv(faultsEnv, tt.fault)
			o := startOwnIdP(t, faultsTag)
			rep := o.run(t, idpCases(t))
			requireCaught(t, rep, tt.fault, tt.caught)
			if t.Failed() {
				t.Logf("the IdP logged:\n%s", o.Kit.Stderr())
			}
		})
	}
}

// faultCase is one deliberate fault of a fault build (tag
// renkei_faults) and the cases that must catch it: case ID -> a word its
// reason must contain.
type faultCase struct {
	fault  string
	caught map[string]string
}

// requireBrokenCaught runs the suite (run) against the build with no
// fault switched on, which must pass (pass), and then with each fault of
// tests alone, which its cases must catch; tests must name every one of
// the known faults. set switches faults on, as the engines' SetFaults do.
func requireBrokenCaught(t *testing.T, known []string, set func(...string) error, tests []faultCase,
	run func(*testing.T) *conformance.Report, pass func(*testing.T, *conformance.Report)) {
	t.Helper()
	if len(tests) != len(known) {
		t.Fatalf("%d faults exist, %d are tested", len(known), len(tests))
	}
	t.Cleanup(func() { _ = set() })
	t.Run("ok/control", func(t *testing.T) {
		if err := set(); err != nil {
			t.Fatal(err)
		}
		pass(t, run(t))
	})
	for _, tt := range tests {
		t.Run("fail/"+tt.fault, func(t *testing.T) {
			if err := set(tt.fault); err != nil {
				t.Fatal(err)
			}
			requireCaught(t, run(t), tt.fault, tt.caught)
		})
	}
}

// requireCaught requires each case of caught (case ID -> a word its
// reason must contain) to fail with the target deviating, and the run
// against the fault build to fail; it logs the findings.
func requireCaught(t *testing.T, rep *conformance.Report, fault string, caught map[string]string) {
	t.Helper()
	for id, word := range caught {
		res, ok := rep.Result(id)
		switch {
		case !ok:
			t.Errorf("case %s did not run", id)
		case res.Outcome.Verdict != conformance.Fail || res.Outcome.Side != conformance.SideTarget:
			t.Errorf("fault %s not caught by %s: %s, side %q: %s", fault, id, res.Outcome.Verdict, res.Outcome.Side, res.Outcome.Reason)
		case !strings.Contains(strings.ToLower(res.Outcome.Reason), word):
			t.Errorf("%s fails for another reason than %s (no %q): %s", id, fault, word, res.Outcome.Reason)
		}
	}
	if !rep.Failed() {
		t.Errorf("the run against the %s build passes", fault)
	}
	for _, f := range rep.Findings() {
		t.Logf("%s: %s deviates from %s in %s: %s", fault, f.Side, f.Clause, f.Case, f.Detail)
	}
}
