package conformance

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// runAgainst runs the in-scope SAML IdP cases against a fake IdP with the
// given flaws.
func runAgainst(t *testing.T, f flaws) *Report {
	t.Helper()
	sp, err := NewSP("https://127.0.0.1/conformance-sp", "https://127.0.0.1/conformance-sp/acs", time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	idp := newFakeIdP(t, sp, f)
	ctx := context.Background()
	target, err := LoadTarget(ctx, idp.srv.URL+"/metadata", nil)
	if err != nil {
		t.Fatal(err)
	}
	var progress bytes.Buffer
	r := &Runner{Role: RoleIdP, Mode: ModeIdP, Cases: SAMLIdPCases(), Rows: Matrix(), Only: []string{"web-sso", "ecp", "metadata"}, Progress: &progress, CaseTimeout: 30 * time.Second}
	return r.Run(ctx, &Env{Target: target, SP: sp, Login: NoLogin{}})
}

func TestFakeIdPHonestPasses(t *testing.T) {
	rep := runAgainst(t, flaws{})
	var txt strings.Builder
	rep.WriteText(&txt)
	for _, res := range rep.Results {
		if res.Outcome.Verdict != Pass && res.Outcome.Verdict != Skipped {
			t.Errorf("%s: %s: %s", res.Case.ID, res.Outcome.Verdict, res.Outcome.Reason)
		}
	}
	if rep.Failed() {
		t.Fatalf("the honest IdP fails the scoped run:\n%s", txt.String())
	}
	t.Log(txt.String())
	if n := rep.rowCount(OutOfScope); n == 0 {
		t.Fatal("no row reported out of scope")
	}
	if res, _ := rep.Result("SAML2-Bind-3.4/redirect-authnrequest"); len(res.Messages) < 2 {
		t.Fatalf("exchanged messages not captured: %+v", res.Messages)
	}
}

func TestFakeIdPFlawsCaught(t *testing.T) {
	tests := []struct {
		name  string
		flaws flaws
		case_ string
	}{
		{"fail/skips-signature-check", flaws{SkipSigCheck: true}, "SAML2-Bind-3.4.4.1/redirect-bad-signature"},
		{"fail/skips-signature-check-unsigned", flaws{SkipSigCheck: true}, "SAML2-Bind-3.4.4.1/redirect-unsigned"},
		{"fail/skips-signature-check-xsw", flaws{SkipSigCheck: true}, "SAML2-Core-5.4/post-xsw-wrapped-in-extensions"},
		{"fail/skips-signature-check-xsw-moved", flaws{SkipSigCheck: true}, "SAML2-Core-5.4/post-xsw-signature-moved"},
		{"fail/accepts-stale", flaws{AcceptStale: true}, "SAML2-Core-3.2.1/stale-issueinstant"},
		{"fail/ignores-acs", flaws{IgnoreACS: true}, "SAML2-Prof-4.1.4.1/acs-not-in-metadata"},
		{"fail/ignores-acs-ecp", flaws{IgnoreACS: true}, "SAML2-Prof-4.2.4.4/ecp-acs-not-in-metadata"},
		{"fail/signs-sha1", flaws{SignSHA1: true}, "SAML2-Bind-3.4/redirect-authnrequest"},
		{"fail/accepts-sha1", flaws{AcceptSHA1: true}, "SAML2-Bind-3.4.4.1/redirect-sha1-signature"},
		{"fail/accepts-replay", flaws{AcceptReplay: true}, "SAML2-Core-3.2.1/replayed-request"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep := runAgainst(t, tc.flaws)
			res, ok := rep.Result(tc.case_)
			if !ok {
				t.Fatalf("case %s did not run", tc.case_)
			}
			if res.Outcome.Verdict != Fail || res.Outcome.Side != SideTarget {
				t.Fatalf("%s: %s (%s), want a failure of the target", tc.case_, res.Outcome.Verdict, res.Outcome.Reason)
			}
			if !rep.Failed() {
				t.Fatal("the run passes although a case failed")
			}
		})
	}
}
