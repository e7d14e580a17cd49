package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"strings"
	"testing"
)

func fixedCase(id, row string, v Verdict) Case {
	return Case{ID: id, Clause: "test §1", Row: row, Role: RoleIdP, Positive: true, Summary: "fixed " + string(v),
		Run: func(ctx context.Context, e *Env) Outcome {
			e.Record(Message{Direction: "sent", Label: "probe", Body: "<x/>"})
			return Outcome{Verdict: v, Reason: "because", Side: SideTarget}
		}}
}

func TestRunnerVerdicts(t *testing.T) {
	cases := []Case{
		fixedCase("ok/a", "SAML2-Conf/websso-redirect", Pass),
		fixedCase("ok/b", "SAML2-Conf/websso-post", Pass),
		fixedCase("ok/meta", "SAML2-Conf/metadata", Pass),
	}
	tests := []struct {
		name   string
		cases  []Case
		only   []string
		failed bool
		row    string
		want   Verdict
	}{
		{"fail/uncovered-must-rows", cases, nil, true, "SAML2-Conf/slo-redirect-sp", Uncovered},
		{"ok/scoped", cases, []string{"web-sso", "metadata"}, false, "SAML2-Conf/slo-redirect-sp", OutOfScope},
		{"ok/scoped-pass-row", cases, []string{"web-sso"}, false, "SAML2-Conf/websso-post", Pass},
		{"fail/failing-case", append([]Case{fixedCase("fail/x", "SAML2-Conf/websso-post", Fail)}, cases...), []string{"web-sso"}, true, "SAML2-Conf/websso-post", Fail},
		{"fail/panicking-case", []Case{{ID: "p", Row: "SAML2-Conf/websso-post", Role: RoleIdP, Run: func(context.Context, *Env) Outcome { panic("boom") }}}, []string{"web-sso"}, true, "SAML2-Conf/websso-post", Fail},
		{"ok/advisory-case", append([]Case{fixedCase("a", "SAML2-Conf/websso-post", Advisory)}, cases...), []string{"web-sso"}, false, "SAML2-Conf/websso-post", Pass},
		{"fail/all-skipped-must", []Case{fixedCase("s", "SAML2-Conf/websso-post", Skipped)}, []string{"web-sso"}, true, "SAML2-Conf/websso-post", Fail},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var progress bytes.Buffer
			r := &Runner{Role: RoleIdP, Mode: ModeIdP, Cases: tc.cases, Rows: Matrix(), Only: tc.only, Progress: &progress}
			rep := r.Run(context.Background(), &Env{})
			if rep.Failed() != tc.failed {
				t.Fatalf("Failed() = %v, want %v", rep.Failed(), tc.failed)
			}
			if got := rowVerdictOf(rep, tc.row); got != tc.want {
				t.Fatalf("row %s = %s, want %s", tc.row, got, tc.want)
			}
			if strings.Count(progress.String(), "\n") != len(rep.Results) {
				t.Fatalf("progress lines:\n%s", progress.String())
			}
			for _, row := range rep.Rows {
				if row.Row.Group == "idwsf" {
					t.Fatalf("ID-WSF row %s judged in IdP mode", row.Row.ID)
				}
			}
		})
	}
}

func rowVerdictOf(rep *Report, id string) Verdict {
	for _, r := range rep.Rows {
		if r.Row.ID == id {
			return r.Verdict
		}
	}
	return ""
}

func TestReportFormats(t *testing.T) {
	r := &Runner{Role: RoleIdP, Mode: ModeIdPLite, Rows: Matrix(), Only: []string{"web-sso"},
		Cases: []Case{fixedCase("ok/a", "SAML2-Conf/websso-redirect", Pass), fixedCase("fail/<b>", "SAML2-Conf/websso-post", Fail)}}
	rep := r.Run(context.Background(), &Env{})
	var txt, js, ju, html bytes.Buffer
	for _, w := range []func() error{
		func() error { return rep.WriteText(&txt) }, func() error { return rep.WriteJSON(&js) },
		func() error { return rep.WriteJUnit(&ju) }, func() error { return rep.WriteHTML(&html) },
	} {
		if err := w(); err != nil {
			t.Fatal(err)
		}
	}
	if !strings.Contains(txt.String(), "FAIL:") || !strings.Contains(txt.String(), "[deviates: target, MUST] because") ||
		!strings.Contains(txt.String(), "the IdP Lite cell of this row is not confirmed") {
		t.Fatalf("text report:\n%s", txt.String())
	}
	var j jsonReport
	if err := json.Unmarshal(js.Bytes(), &j); err != nil {
		t.Fatal(err)
	}
	if !j.Failed || len(j.Findings) != 1 || j.Findings[0].Side != SideTarget || len(j.Cases[0].Messages) != 1 {
		t.Fatalf("json report: %+v", j)
	}
	var js2 junitSuites
	if err := xml.Unmarshal(ju.Bytes(), &js2); err != nil {
		t.Fatal(err)
	}
	if js2.Suites[0].Failures != 1 || js2.Suites[0].Tests != 2 {
		t.Fatalf("junit: %+v", js2.Suites[0])
	}
	h := html.String()
	if strings.Contains(h, "fail/<b>") || !strings.Contains(h, "fail/&lt;b&gt;") {
		t.Fatal("html report does not escape case names")
	}
	for _, ext := range []string{"src=", "url(", "<script", "<link"} {
		if strings.Contains(h, ext) {
			t.Fatalf("html report is not self-contained: has %q", ext)
		}
	}
	if !strings.Contains(h, "out-of-scope") {
		t.Fatal("html report does not show out-of-scope rows")
	}
}

// levelCase fails at level l, attributed to the target.
func levelCase(id, clause string, l Level) Case {
	return Case{ID: id, Clause: clause, Level: l, Row: "SAML2-Conf/websso-redirect", Role: RoleIdP,
		Run: func(ctx context.Context, e *Env) Outcome { return failed("it accepted what it %s refuse", l) }}
}

// TestRunnerLevels: only a MUST failure fails the run by default; a
// SHOULD or a practice is a warning with its own count, which -strict
// (FailOn practice) or FailOn should turns into failures.
func TestRunnerLevels(t *testing.T) {
	should := levelCase("should", "SAML Core §3.2.2.2", LevelShould)
	practice := levelCase("practice", "SAML Security Considerations (message replay)", LevelPractice)
	must := levelCase("must", "SAML Profiles §4.4.4.1", "")
	tests := []struct {
		name     string
		cases    []Case
		failOn   Level
		failed   bool
		warnings int
	}{
		{"ok/warnings-only", []Case{should, practice}, "", false, 2},
		{"fail/must", []Case{should, practice, must}, "", true, 2},
		{"fail/strict", []Case{should, practice}, LevelPractice, true, 0},
		{"fail/should-level", []Case{should, practice}, LevelShould, true, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cases := append([]Case{fixedCase("ok/post", "SAML2-Conf/websso-post", Pass)}, tc.cases...)
			r := &Runner{Role: RoleIdP, Mode: ModeIdP, Cases: cases, Rows: Matrix(), Only: []string{"web-sso"}, FailOn: tc.failOn}
			rep := r.Run(context.Background(), &Env{})
			if rep.Failed() != tc.failed || len(rep.Warnings()) != tc.warnings {
				t.Fatalf("failed %v with %d warnings, want %v with %d", rep.Failed(), len(rep.Warnings()), tc.failed, tc.warnings)
			}
			for _, w := range rep.Warnings() {
				if w.Level == LevelMust || w.Side != SideTarget {
					t.Errorf("warning %s at level %s, side %s", w.Case, w.Level, w.Side)
				}
			}
			var txt, html bytes.Buffer
			rep.WriteText(&txt)
			rep.WriteHTML(&html)
			if tc.warnings > 0 && !strings.Contains(txt.String(), fmt.Sprintf("%d warning(s)", tc.warnings)) {
				t.Errorf("text report does not count the warnings:\n%s", txt.String())
			}
			if !strings.Contains(txt.String(), "see https://docs.oasis-open.org/security/saml/v2.0/saml-core-2.0-os.pdf") ||
				!strings.Contains(html.String(), `href="https://docs.oasis-open.org/security/saml/v2.0/saml-core-2.0-os.pdf"`) {
				t.Errorf("reports carry no link to the clause's document:\n%s", txt.String())
			}
		})
	}
}

// TestRunnerRefusesEmptyScope: an -only or -skip naming nothing is a run
// error, never a pass with zero cases.
func TestRunnerRefusesEmptyScope(t *testing.T) {
	cases := []Case{fixedCase("ok/a", "SAML2-Conf/websso-redirect", Pass)}
	tests := []struct {
		name       string
		only, skip []string
		want       string
	}{
		{"fail/mistyped-only", []string{"web-ssso"}, nil, `-only "web-ssso" names no row group`},
		{"fail/only-without-cases", []string{"artifact"}, nil, "selects no case"},
		{"fail/mistyped-skip", nil, []string{"ok/b"}, `-skip "ok/b" names no case`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &Runner{Role: RoleIdP, Mode: ModeIdP, Cases: cases, Rows: Matrix(), Only: tc.only, Skip: tc.skip}
			if err := r.Check(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Check() = %v, want %q", err, tc.want)
			}
			rep := r.Run(context.Background(), &Env{})
			var txt bytes.Buffer
			rep.WriteText(&txt)
			if !rep.Failed() || len(rep.Results) != 0 || !strings.Contains(txt.String(), "RUN ERROR: ") {
				t.Fatalf("a run judging nothing passes:\n%s", txt.String())
			}
		})
	}
}

// TestRunnerSkipAndThrowawaySP: a case excluded by name is listed in
// every report and neither passes nor fails its row; without a stable SP
// key only the standalone cases run, the others are run errors saying so.
func TestRunnerSkipAndThrowawaySP(t *testing.T) {
	meta := fixedCase("ok/meta", "SAML2-Conf/metadata", Pass)
	meta.Standalone = true
	cases := []Case{fixedCase("ok/a", "SAML2-Conf/websso-redirect", Pass), fixedCase("ok/b", "SAML2-Conf/websso-post", Pass), meta}
	r := &Runner{Role: RoleIdP, Mode: ModeIdP, Cases: cases, Rows: Matrix(), Only: []string{"web-sso", "metadata"}, Skip: []string{"ok/b"}}
	rep := r.Run(context.Background(), &Env{})
	var txt, js, ju, html bytes.Buffer
	rep.WriteText(&txt)
	rep.WriteJSON(&js)
	rep.WriteJUnit(&ju)
	rep.WriteHTML(&html)
	for name, b := range map[string]string{"text": txt.String(), "json": js.String(), "junit": ju.String(), "html": html.String()} {
		if !strings.Contains(b, "ok/b") || !strings.Contains(strings.ToLower(b), "skip") {
			t.Errorf("the %s report does not list the excluded case", name)
		}
	}
	if rep.Failed() || rowVerdictOf(rep, "SAML2-Conf/websso-post") != OutOfScope {
		t.Fatalf("excluded case: failed %v, row %s:\n%s", rep.Failed(), rowVerdictOf(rep, "SAML2-Conf/websso-post"), txt.String())
	}

	r.Skip = nil
	rep = r.Run(context.Background(), &Env{Options: Options{ThrowawaySP: true}})
	res, _ := rep.Result("ok/a")
	if !rep.Failed() || res.Outcome.Verdict != Error || !strings.Contains(res.Outcome.Reason, "-sp-key") {
		t.Fatalf("a case needing the registered SP ran with a throwaway key: %s %s", res.Outcome.Verdict, res.Outcome.Reason)
	}
	if res, _ := rep.Result("ok/meta"); res.Outcome.Verdict != Pass {
		t.Fatalf("the standalone metadata case did not run: %s %s", res.Outcome.Verdict, res.Outcome.Reason)
	}
}
