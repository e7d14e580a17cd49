package conformance

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Report is the outcome of a run: every case result with its messages, and
// every coverage row of the mode with its verdict.
//
// FailOn is the weakest level the run held the target to, Skip the cases
// excluded by name, RunError why the run could not judge the target (a
// refused -only, a failed login): a run with one fails.
type Report struct {
	Role     Role
	Mode     Mode
	Target   string
	Only     []string
	Skip     []string
	FailOn   Level
	RunError string
	Started  time.Time
	Finished time.Time
	Results  []Result
	Rows     []RowResult
}

// Failed reports whether the run fails: a case failed or erred, a row
// failed, or a MUST row is uncovered. Out-of-scope rows and skipped cases do
// not fail a run, and do not count as passes either.
func (r *Report) Failed() bool {
	if r.RunError != "" {
		return true
	}
	for _, res := range r.Results {
		if res.Outcome.Verdict == Fail || res.Outcome.Verdict == Error {
			return true
		}
	}
	for _, row := range r.Rows {
		if row.Verdict == Fail || row.Verdict == Uncovered && row.Req == Must {
			return true
		}
	}
	return false
}

// Counts returns how many cases got each verdict.
func (r *Report) Counts() map[Verdict]int {
	n := map[Verdict]int{}
	for _, res := range r.Results {
		n[res.Outcome.Verdict]++
	}
	return n
}

// Findings returns the failed and erred cases, each attributed to the side
// that deviates from the case's clause.
func (r *Report) Findings() []Finding {
	return r.findings(func(v Verdict) bool { return v == Fail || v == Error })
}

// Warnings returns the cases whose SHOULD or practice the target does not
// follow and the run did not hold it to.
func (r *Report) Warnings() []Finding {
	return r.findings(func(v Verdict) bool { return v == Advisory })
}

// findings returns the results whose verdict is, as findings.
func (r *Report) findings(is func(Verdict) bool) []Finding {
	var out []Finding
	for _, res := range r.Results {
		if is(res.Outcome.Verdict) {
			out = append(out, Finding{Case: res.Case.ID, Clause: res.Case.Clause, Level: res.Outcome.Level, Side: res.Outcome.Side, Detail: res.Outcome.Reason})
		}
	}
	return out
}

// Result returns the result of the case with the given ID.
func (r *Report) Result(id string) (Result, bool) {
	for _, res := range r.Results {
		if res.Case.ID == id {
			return res, true
		}
	}
	return Result{}, false
}

// printable returns s with its control characters (terminal escapes,
// carriage returns, newlines: a target controls the reasons) written as
// Go escapes, for a terminal.
func printable(s string) string {
	if strings.IndexFunc(s, unicode.IsControl) < 0 {
		return s
	}
	var b strings.Builder
	for _, c := range s {
		if unicode.IsControl(c) {
			q := strconv.QuoteRune(c)
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// WriteText writes the report for a terminal: one line per case and row,
// the reason of every verdict that is not a pass, then the summary.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Renkei conformance: role %s, mode %s, target %s\n", r.Role, r.Mode, r.Target)
	fmt.Fprintf(&b, "failures at level: %s\n", r.levelText())
	if len(r.Only) > 0 {
		fmt.Fprintf(&b, "scope: only %s\n", strings.Join(r.Only, ", "))
	}
	if len(r.Skip) > 0 {
		fmt.Fprintf(&b, "excluded by -skip: %s\n", strings.Join(r.Skip, ", "))
	}
	if r.RunError != "" {
		fmt.Fprintf(&b, "RUN ERROR: %s\n", r.RunError)
	}
	b.WriteString("\nCases\n")
	for _, res := range r.Results {
		fmt.Fprintf(&b, "  %-22s %-8s %-58s %s\n", res.Outcome.Verdict, res.Level(), res.Case.ID, res.Case.Clause)
		if res.Outcome.Verdict != Pass {
			fmt.Fprintf(&b, "      %s%s\n", outcomePrefix(res.Outcome), printable(res.Outcome.Reason))
			for _, l := range ClauseLinks(res.Case.Clause) {
				fmt.Fprintf(&b, "      see %s\n", l)
			}
		}
	}
	b.WriteString("\nCoverage\n")
	for _, row := range r.Rows {
		fmt.Fprintf(&b, "  %-22s %-34s %-8s %s: %s\n", row.Verdict, row.Row.ID, row.Req, row.Row.Feature, printable(row.Reason))
		if row.Unconfirmed {
			fmt.Fprintf(&b, "      the %s cell of this row is not confirmed against the SAML conformance document (saml-conformance-2.0-os)\n", r.Mode)
		}
	}
	n := r.Counts()
	verdict := "PASS"
	if r.Failed() {
		verdict = "FAIL"
	}
	fmt.Fprintf(&b, "\n%s: %d pass, %d fail, %d warning, %d error, %d not applicable, %d excluded; %d row(s) uncovered, %d out of scope\n",
		verdict, n[Pass], n[Fail], n[Advisory], n[Error], n[Skipped], n[OutOfScope], r.rowCount(Uncovered), r.rowCount(OutOfScope))
	if n[Advisory] > 0 {
		fmt.Fprintf(&b, "%d warning(s): a SHOULD or a recommended practice the target does not follow (no MUST; -strict makes them failures)\n", n[Advisory])
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// levelText says which failures fail the run.
func (r *Report) levelText() string {
	switch r.FailOn {
	case LevelShould:
		return "MUST and SHOULD (recommended practices are warnings)"
	case LevelPractice:
		return "MUST, SHOULD and recommended practice (strict)"
	}
	return "MUST (SHOULDs and recommended practices are warnings)"
}

// outcomePrefix says what a verdict that is not a pass means: which side
// deviates from what level, a warning, or an error of the run.
func outcomePrefix(o Outcome) string {
	switch {
	case o.Verdict == Error:
		return "[run error] "
	case o.Verdict == Advisory:
		return "[warning, " + string(o.Level) + ", " + string(o.Side) + "] "
	case o.Side != "" && o.Level != "":
		return "[deviates: " + string(o.Side) + ", " + string(o.Level) + "] "
	case o.Side != "":
		return "[deviates: " + string(o.Side) + "] "
	}
	return ""
}

func (r *Report) rowCount(v Verdict) int {
	n := 0
	for _, row := range r.Rows {
		if row.Verdict == v {
			n++
		}
	}
	return n
}

// jsonReport is the JSON shape of a report: stable field names, no Go types.
type jsonReport struct {
	Role     Role            `json:"role"`
	Mode     Mode            `json:"mode"`
	Target   string          `json:"target"`
	Only     []string        `json:"only,omitempty"`
	Skip     []string        `json:"skip,omitempty"`
	FailOn   Level           `json:"fail_on"`
	RunError string          `json:"run_error,omitempty"`
	Started  time.Time       `json:"started"`
	Finished time.Time       `json:"finished"`
	Failed   bool            `json:"failed"`
	Cases    []jsonCase      `json:"cases"`
	Rows     []jsonRow       `json:"rows"`
	Findings []Finding       `json:"findings"`
	Warnings []Finding       `json:"warnings"`
	Counts   map[Verdict]int `json:"counts"`
}

type jsonCase struct {
	ID         string    `json:"id"`
	Clause     string    `json:"clause"`
	Links      []string  `json:"links,omitempty"`
	Level      Level     `json:"level"`
	Result     Level     `json:"result_level"` // the level of this result: Level, or weaker (a SHOULD or practice part of the case)
	Row        string    `json:"row"`
	Positive   bool      `json:"positive"`
	Summary    string    `json:"summary"`
	Verdict    Verdict   `json:"verdict"`
	Reason     string    `json:"reason"`
	Side       Side      `json:"side,omitempty"`
	DurationMS int64     `json:"duration_ms"`
	Messages   []Message `json:"messages"`
}

type jsonRow struct {
	ID      string      `json:"id"`
	Source  string      `json:"source"`
	Feature string      `json:"feature"`
	Group   string      `json:"group"`
	Req     Requirement `json:"requirement"`
	Unconf  bool        `json:"requirement_unconfirmed,omitempty"`
	Verdict Verdict     `json:"verdict"`
	Reason  string      `json:"reason"`
	Cases   []string    `json:"cases"`
}

// WriteJSON writes the report as one JSON document.
func (r *Report) WriteJSON(w io.Writer) error {
	j := jsonReport{Role: r.Role, Mode: r.Mode, Target: r.Target, Only: r.Only, Skip: r.Skip, FailOn: r.FailOn, RunError: r.RunError,
		Started: r.Started, Finished: r.Finished, Failed: r.Failed(), Findings: r.Findings(), Warnings: r.Warnings(), Counts: r.Counts()}
	for _, res := range r.Results {
		c := res.Case
		j.Cases = append(j.Cases, jsonCase{ID: c.ID, Clause: c.Clause, Links: ClauseLinks(c.Clause), Level: c.level(), Result: res.Level(), Row: c.Row, Positive: c.Positive, Summary: c.Summary,
			Verdict: res.Outcome.Verdict, Reason: res.Outcome.Reason, Side: res.Outcome.Side,
			DurationMS: res.Duration.Milliseconds(), Messages: res.Messages})
	}
	for _, row := range r.Rows {
		j.Rows = append(j.Rows, jsonRow{ID: row.Row.ID, Source: row.Row.Source, Feature: row.Row.Feature, Group: row.Row.Group,
			Req: row.Req, Unconf: row.Unconfirmed, Verdict: row.Verdict, Reason: row.Reason, Cases: row.Cases})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(j)
}

// JUnit XML shapes, as CI servers read them.
type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	Skipped   *junitProblem `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes the report as JUnit XML: one suite for the cases, one for
// the coverage rows (an uncovered MUST row is a failure there).
func (r *Report) WriteJUnit(w io.Writer) error {
	cases := junitSuite{Name: "conformance." + string(r.Role) + ".cases", Time: secs(r.Finished.Sub(r.Started))}
	for _, res := range r.Results {
		jc := junitCase{Name: res.Case.ID, Classname: res.Case.Clause, Time: secs(res.Duration), SystemOut: messagesText(res.Messages)}
		p := &junitProblem{Message: res.Outcome.Reason, Text: outcomePrefix(res.Outcome) + res.Outcome.Reason + "\n" + strings.Join(ClauseLinks(res.Case.Clause), "\n")}
		switch res.Outcome.Verdict {
		case Fail:
			jc.Failure, cases.Failures = p, cases.Failures+1
		case Error:
			jc.Error, cases.Errors = p, cases.Errors+1
		case Skipped, OutOfScope:
			jc.Skipped, cases.Skipped = p, cases.Skipped+1
		case Advisory:
			jc.SystemOut = "WARNING " + p.Text + "\n" + jc.SystemOut
		}
		cases.Cases, cases.Tests = append(cases.Cases, jc), cases.Tests+1
	}
	rows := junitSuite{Name: "conformance." + string(r.Role) + ".coverage", Time: "0"}
	for _, row := range r.Rows {
		jc := junitCase{Name: row.Row.ID, Classname: row.Row.Source + " " + string(row.Req), Time: "0"}
		p := &junitProblem{Message: string(row.Verdict) + ": " + row.Reason, Text: row.Row.Feature}
		switch {
		case row.Verdict == Fail || row.Verdict == Uncovered && row.Req == Must:
			jc.Failure, rows.Failures = p, rows.Failures+1
		case row.Verdict != Pass:
			jc.Skipped, rows.Skipped = p, rows.Skipped+1
		}
		rows.Cases, rows.Tests = append(rows.Cases, jc), rows.Tests+1
	}
	suites := []junitSuite{cases, rows}
	if r.RunError != "" {
		suites = append(suites, junitSuite{Name: "conformance." + string(r.Role) + ".run", Tests: 1, Errors: 1, Time: "0",
			Cases: []junitCase{{Name: "run", Classname: "conformance", Time: "0", Error: &junitProblem{Message: r.RunError, Text: r.RunError}}}})
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	return enc.Encode(junitSuites{Suites: suites})
}

func secs(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

func messagesText(ms []Message) string {
	var b strings.Builder
	for _, m := range ms {
		fmt.Fprintf(&b, "--- %s %s %s", m.Direction, m.Label, m.URL)
		if m.Status != 0 {
			fmt.Fprintf(&b, " (HTTP %d)", m.Status)
		}
		fmt.Fprintf(&b, "\n%s\n", m.Body)
	}
	return b.String()
}
