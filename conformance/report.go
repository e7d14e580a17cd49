package conformance

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"
)

// Report is the outcome of a run: every case result with its messages, and
// every coverage row of the mode with its verdict.
type Report struct {
	Role     Role
	Mode     Mode
	Target   string
	Only     []string
	Started  time.Time
	Finished time.Time
	Results  []Result
	Rows     []RowResult
}

// Failed reports whether the run fails: a case failed or erred, a row
// failed, or a MUST row is uncovered. Out-of-scope rows and skipped cases do
// not fail a run, and do not count as passes either.
func (r *Report) Failed() bool {
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
	var out []Finding
	for _, res := range r.Results {
		if res.Outcome.Verdict != Fail && res.Outcome.Verdict != Error {
			continue
		}
		out = append(out, Finding{Case: res.Case.ID, Clause: res.Case.Clause, Side: res.Outcome.Side, Detail: res.Outcome.Reason})
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

// WriteText writes the report for a terminal: one line per case and row,
// the reason of every verdict that is not a pass, then the summary.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Renkei conformance: role %s, mode %s, target %s\n", r.Role, r.Mode, r.Target)
	if len(r.Only) > 0 {
		fmt.Fprintf(&b, "scope: only %s\n", strings.Join(r.Only, ", "))
	}
	b.WriteString("\nCases\n")
	for _, res := range r.Results {
		fmt.Fprintf(&b, "  %-22s %-58s %s\n", res.Outcome.Verdict, res.Case.ID, res.Case.Clause)
		if res.Outcome.Verdict != Pass {
			fmt.Fprintf(&b, "      %s%s\n", sidePrefix(res.Outcome.Side), res.Outcome.Reason)
		}
	}
	b.WriteString("\nCoverage\n")
	for _, row := range r.Rows {
		fmt.Fprintf(&b, "  %-22s %-34s %-8s %s: %s\n", row.Verdict, row.Row.ID, row.Req, row.Row.Feature, row.Reason)
	}
	n := r.Counts()
	verdict := "PASS"
	if r.Failed() {
		verdict = "FAIL"
	}
	fmt.Fprintf(&b, "\n%s: %d pass, %d fail, %d error, %d not applicable; %d row(s) uncovered, %d out of scope\n",
		verdict, n[Pass], n[Fail], n[Error], n[Skipped], r.rowCount(Uncovered), r.rowCount(OutOfScope))
	if n[Advisory] > 0 {
		fmt.Fprintf(&b, "%d advisory: recommended practices the target does not follow (no MUST)\n", n[Advisory])
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func sidePrefix(s Side) string {
	if s == "" {
		return ""
	}
	return "[deviates: " + string(s) + "] "
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
	Started  time.Time       `json:"started"`
	Finished time.Time       `json:"finished"`
	Failed   bool            `json:"failed"`
	Cases    []jsonCase      `json:"cases"`
	Rows     []jsonRow       `json:"rows"`
	Findings []Finding       `json:"findings"`
	Counts   map[Verdict]int `json:"counts"`
}

type jsonCase struct {
	ID         string    `json:"id"`
	Clause     string    `json:"clause"`
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
	Verdict Verdict     `json:"verdict"`
	Reason  string      `json:"reason"`
	Cases   []string    `json:"cases"`
}

// WriteJSON writes the report as one JSON document.
func (r *Report) WriteJSON(w io.Writer) error {
	j := jsonReport{Role: r.Role, Mode: r.Mode, Target: r.Target, Only: r.Only, Started: r.Started,
		Finished: r.Finished, Failed: r.Failed(), Findings: r.Findings(), Counts: r.Counts()}
	for _, res := range r.Results {
		c := res.Case
		j.Cases = append(j.Cases, jsonCase{ID: c.ID, Clause: c.Clause, Row: c.Row, Positive: c.Positive, Summary: c.Summary,
			Verdict: res.Outcome.Verdict, Reason: res.Outcome.Reason, Side: res.Outcome.Side,
			DurationMS: res.Duration.Milliseconds(), Messages: res.Messages})
	}
	for _, row := range r.Rows {
		j.Rows = append(j.Rows, jsonRow{ID: row.Row.ID, Source: row.Row.Source, Feature: row.Row.Feature, Group: row.Row.Group,
			Req: row.Req, Verdict: row.Verdict, Reason: row.Reason, Cases: row.Cases})
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
		p := &junitProblem{Message: res.Outcome.Reason, Text: sidePrefix(res.Outcome.Side) + res.Outcome.Reason}
		switch res.Outcome.Verdict {
		case Fail:
			jc.Failure, cases.Failures = p, cases.Failures+1
		case Error:
			jc.Error, cases.Errors = p, cases.Errors+1
		case Skipped:
			jc.Skipped, cases.Skipped = p, cases.Skipped+1
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
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	return enc.Encode(junitSuites{Suites: []junitSuite{cases, rows}})
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
