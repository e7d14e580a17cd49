package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
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
	if !strings.Contains(txt.String(), "FAIL:") || !strings.Contains(txt.String(), "[deviates: target] because") {
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
	for _, ext := range []string{"http://", "https://", "<script", "<link"} {
		if strings.Contains(h, ext) {
			t.Fatalf("html report is not self-contained: has %q", ext)
		}
	}
	if !strings.Contains(h, "out-of-scope") {
		t.Fatal("html report does not show out-of-scope rows")
	}
}
