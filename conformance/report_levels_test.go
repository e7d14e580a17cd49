package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// TestReportResultLevel: a MUST case whose failure is a SHOULD reads
// SHOULD in every report, and the text report escapes control characters
// of a target's reason.
func TestReportResultLevel(t *testing.T) {
	c := Case{ID: "should-part", Clause: "SAML Core §3.4.1", Row: "SAML2-Conf/websso-redirect", Role: RoleIdP,
		Run: func(ctx context.Context, e *Env) Outcome { return failedAt(LevelShould, "status \x1b[2Jcleared") }}
	r := &Runner{Role: RoleIdP, Mode: ModeIdP, Cases: []Case{c}, Rows: Matrix(), Only: []string{"web-sso"}}
	rep := r.Run(context.Background(), &Env{})
	var txt, js, html bytes.Buffer
	rep.WriteText(&txt)
	rep.WriteJSON(&js)
	rep.WriteHTML(&html)
	line := ""
	for _, l := range strings.Split(txt.String(), "\n") {
		if strings.Contains(l, "should-part") {
			line = l
		}
	}
	if !strings.Contains(line, "SHOULD") || strings.Contains(line, "MUST") {
		t.Fatalf("text report line %q does not show the result's level", line)
	}
	if strings.Contains(txt.String(), "\x1b") || !strings.Contains(txt.String(), `\x1b[2Jcleared`) {
		t.Fatalf("text report does not escape the control character:\n%s", txt.String())
	}
	var j jsonReport
	if err := json.Unmarshal(js.Bytes(), &j); err != nil {
		t.Fatal(err)
	}
	if j.Cases[0].Level != LevelMust || j.Cases[0].Result != LevelShould {
		t.Fatalf("json case level %q, result level %q", j.Cases[0].Level, j.Cases[0].Result)
	}
	if !strings.Contains(html.String(), "<td>SHOULD</td>") {
		t.Fatal("html report does not show the result's level")
	}
}

// TestReportQueryRowsUnconfirmed: the AttributeQuery and Name Identifier
// Mapping rows were not checked against the conformance document.
func TestReportQueryRowsUnconfirmed(t *testing.T) {
	for _, row := range Matrix() {
		if row.ID == rowAttributeQuery || row.ID == rowNameIDMapping {
			for _, m := range []Mode{ModeIdP, ModeIdPLite, ModeSP} {
				if row.Confirmed(m) {
					t.Errorf("row %s, mode %s: confirmed", row.ID, m)
				}
			}
		}
	}
}
