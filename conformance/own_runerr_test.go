package conformance_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/conformance"
)

// TestOwnIdPRunErrorsNotBlamed: when the suite itself cannot judge (its
// xmlsec1 missing, the IdP-initiated trigger failing with nothing
// received), the SLO and NIM cases are errors of the run, never failures
// of Renkei's IdP.
func TestOwnIdPRunErrorsNotBlamed(t *testing.T) {
	check := func(t *testing.T, rep *conformance.Report, ids ...string) {
		t.Helper()
		for _, id := range ids {
			res, ok := rep.Result(id)
			if !ok {
				t.Fatalf("%s did not run", id)
			}
			if res.Outcome.Verdict != conformance.Error {
				t.Errorf("%s: %s %s (%s), want an error of the run", id, res.Outcome.Verdict, res.Outcome.Side, res.Outcome.Reason)
			}
		}
		for _, res := range rep.Results {
			if res.Outcome.Verdict == conformance.Fail {
				t.Errorf("%s: fails the target (%s) though the suite could not judge", res.Case.ID, res.Outcome.Reason)
			}
		}
	}
	t.Run("no-xmlsec1", func(t *testing.T) {
		o := startOwnIdP(t)
		cases := append(conformance.SAMLIdPCases(), o.hookCases()...)
		cases = append(cases, conformance.SAMLIdPInitiatedNIMCases(o.terminateTrigger(t), o.Back)...)
		r := &conformance.Runner{Role: conformance.RoleIdP, Mode: conformance.ModeIdP, Cases: cases,
			Rows: conformance.Matrix(), Only: []string{"slo", "nim"}, CaseTimeout: 30 * time.Second}
		env := o.env(t)
		env.Oracle = conformance.Oracle{Command: "renkei-no-such-xmlsec1"}
		check(t, r.Run(context.Background(), env), "SAML2-Prof-4.4.3/slo-idp-initiated-soap", "SAML2-Prof-4.5/nim-idp-initiated-soap-terminate")
	})
	t.Run("trigger-fails", func(t *testing.T) {
		o := startOwnIdP(t)
		trigger := func(context.Context, string, string) error { return errors.New("the admin call was refused") }
		cases := append(conformance.SAMLIdPCases(), conformance.SAMLIdPInitiatedNIMCases(trigger, o.Back)...)
		r := &conformance.Runner{Role: conformance.RoleIdP, Mode: conformance.ModeIdP, Cases: cases,
			Rows: conformance.Matrix(), Only: []string{"nim"}, CaseTimeout: 30 * time.Second}
		check(t, r.Run(context.Background(), o.env(t)), "SAML2-Prof-4.5/nim-idp-initiated-soap-terminate")
	})
}

// TestOwnIdPResolverServerError: an ArtifactResolutionService answering
// 502 has not refused an unauthenticated ArtifactResolve; the case is an
// error of the run, not a pass.
func TestOwnIdPResolverServerError(t *testing.T) {
	o := startOwnIdP(t)
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "bad gateway", http.StatusBadGateway)
	}))
	t.Cleanup(bad.Close)
	env := o.env(t)
	for i := range env.Target.IDP.ArtifactResolution {
		env.Target.IDP.ArtifactResolution[i].Location = bad.URL
	}
	r := &conformance.Runner{Role: conformance.RoleIdP, Mode: conformance.ModeIdP, Cases: conformance.SAMLIdPCases(),
		Rows: conformance.Matrix(), Only: []string{"artifact"}, CaseTimeout: 30 * time.Second}
	rep := r.Run(context.Background(), env)
	res, ok := rep.Result("SAML2-Bind-3.6.5/artifact-unauthenticated")
	if !ok || res.Outcome.Verdict != conformance.Error {
		t.Fatalf("unauthenticated resolution against HTTP 502: %+v, want an error of the run", res.Outcome)
	}
}
