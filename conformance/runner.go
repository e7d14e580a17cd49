package conformance

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"
)

// Options are switches that change what a case expects of the target.
type Options struct {
	// TargetAllowsSHA1 says the target was deliberately configured to accept
	// SHA-1 signatures from this SP; the SHA-1 refusal case is then skipped.
	TargetAllowsSHA1 bool
}

// Env is what a case runs with: the target, the suite's SP counterpart, how
// to log in, the clock and transport. Each case gets its own copy, and
// with it its own message log.
type Env struct {
	Target *Target
	SP     *SP
	// Other is a second SP of the suite, registered at the IdP like SP
	// but with an encryption key, to which the IdP releases no attribute
	// and for which SP may obtain NameIDs by NameIDMapping; the cases that
	// need it do not apply without it.
	Other     *SP
	Login     Authenticator
	Transport http.RoundTripper // base transport (TLS roots); nil means http.DefaultTransport's settings
	Now       func() time.Time  // nil means time.Now
	Options   Options
	Rand      io.Reader  // IDs; nil means crypto/rand
	Oracle    Oracle     // the independent signature checker (xmlsec1)
	WSF       *WSFTarget // the WSP or DS under test, for the ID-WSF cases
	WSC       *WSC       // the suite as WSC and token issuer, for the ID-WSF cases
	DS        *DSTarget  // the Discovery Service and the parties around it, for the Discovery cases
	WSP       *WSPTarget // the WSP and the parties around it, for the WSP cases
	SPT       *SPTarget  // the SP and the IdP the suite plays for it, for the SP cases
	WSCT      *WSCTarget // the WSC and the IdP, DS and WSP the suite plays for it, for the WSC cases

	messages []Message
}

// Record appends m to the case's message log, truncating its body.
func (e *Env) Record(m Message) {
	if len(m.Body) > MaxCaptured {
		m.Body = m.Body[:MaxCaptured] + fmt.Sprintf("\n[... truncated, %d bytes in all]", len(m.Body))
	}
	e.messages = append(e.messages, m)
}

// now reads the clock.
func (e *Env) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

// Runner runs the cases of one role against one target.
type Runner struct {
	Role  Role
	Mode  Mode
	Cases []Case
	Rows  []Row
	// Only limits the run to these row groups; empty means every group.
	Only []string
	// Progress receives one line per case as it runs; nil means none.
	Progress io.Writer
	// CaseTimeout bounds each case; 0 means one minute.
	CaseTimeout time.Duration
}

// inScope reports whether a row group is in the run's scope.
func (r *Runner) inScope(group string) bool {
	return len(r.Only) == 0 || slices.Contains(r.Only, group)
}

// Run runs every in-scope case of the runner's role with a fresh copy of base
// and returns the report, rows judged against the runner's mode.
func (r *Runner) Run(ctx context.Context, base *Env) *Report {
	rep := &Report{Role: r.Role, Mode: r.Mode, Only: r.Only, Started: base.now()}
	if base.Target != nil {
		rep.Target = base.Target.Source
	}
	groups := r.groupOf()
	cases := r.selected(groups)
	for i, c := range cases {
		res := r.runOne(ctx, c, base)
		rep.Results = append(rep.Results, res)
		r.progress("[%d/%d] %-60s %s (%s)", i+1, len(cases), c.ID, res.Outcome.Verdict, res.Duration.Round(time.Millisecond))
	}
	for _, row := range r.Rows {
		if rr, ok := r.judgeRow(row, rep.Results); ok {
			rep.Rows = append(rep.Rows, rr)
		}
	}
	rep.Finished = base.now()
	return rep
}

func (r *Runner) groupOf() map[string]string {
	g := map[string]string{}
	for _, row := range r.Rows {
		g[row.ID] = row.Group
	}
	return g
}

// selected returns the cases of the runner's role whose row is in scope.
func (r *Runner) selected(groups map[string]string) []Case {
	var out []Case
	for _, c := range r.Cases {
		if c.Role == r.Role && r.inScope(groups[c.Row]) {
			out = append(out, c)
		}
	}
	return out
}

func (r *Runner) progress(format string, args ...any) {
	if r.Progress != nil {
		fmt.Fprintf(r.Progress, format+"\n", args...)
	}
}

// runOne runs c with its own Env copy, a deadline, and panic recovery: a
// panicking case is an error of the suite, never a pass.
func (r *Runner) runOne(ctx context.Context, c Case, base *Env) (res Result) {
	env := *base
	env.messages = nil
	d := r.CaseTimeout
	if d == 0 {
		d = time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	start := time.Now()
	defer func() {
		if p := recover(); p != nil {
			res.Outcome = broken("case panicked: %v", p)
		}
		res.Case, res.Messages, res.Duration = c, env.messages, time.Since(start)
	}()
	res.Outcome = c.Run(ctx, &env)
	if res.Outcome.Verdict == "" {
		res.Outcome = broken("case returned no verdict")
	}
	return res
}

// RowResult is a coverage row judged in a run.
type RowResult struct {
	Row     Row
	Req     Requirement
	Verdict Verdict
	Reason  string
	Cases   []string
}

// judgeRow judges one row from the case results: out of scope rows are
// reported as such, a MUST row without cases is uncovered, a row fails when
// one of its cases fails or errs (an advisory case counts as a pass), and a MUST row whose cases were all
// skipped fails because the target does not offer a required feature. Rows
// that do not apply to the mode are left out (ok false).
func (r *Runner) judgeRow(row Row, results []Result) (RowResult, bool) {
	req := row.Required(r.Mode)
	if req == NA {
		return RowResult{}, false
	}
	rr := RowResult{Row: row, Req: req, Cases: casesFor(row.ID, r.roleCases())}
	switch {
	case !r.inScope(row.Group):
		rr.Verdict, rr.Reason = OutOfScope, "not in this run's scope (--only)"
	case len(rr.Cases) == 0:
		rr.Verdict, rr.Reason = Uncovered, "no case checks this row yet"
	default:
		rr.Verdict, rr.Reason = rowVerdict(row.ID, req, results)
	}
	return rr, true
}

func (r *Runner) roleCases() []Case {
	var out []Case
	for _, c := range r.Cases {
		if c.Role == r.Role {
			out = append(out, c)
		}
	}
	return out
}

func rowVerdict(row string, req Requirement, results []Result) (Verdict, string) {
	var pass, skip, bad int
	for _, res := range results {
		if res.Case.Row != row {
			continue
		}
		switch res.Outcome.Verdict {
		case Pass, Advisory:
			pass++
		case Skipped:
			skip++
		default:
			bad++
		}
	}
	switch {
	case bad > 0:
		return Fail, fmt.Sprintf("%d case(s) failed or could not judge", bad)
	case pass == 0 && req == Must:
		return Fail, "required feature not offered by the target: every case was not applicable"
	case pass == 0:
		return Skipped, "optional feature not offered by the target"
	}
	return Pass, fmt.Sprintf("%d case(s) passed, %d not applicable", pass, skip)
}
