package conformance

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Options are switches that change what a case expects of the target.
type Options struct {
	// TargetAllowsSHA1 says the target was deliberately configured to accept
	// SHA-1 signatures from this SP; the SHA-1 refusal case is then skipped.
	TargetAllowsSHA1 bool
	// ThrowawaySP says the suite's SP key was made for this run only (no
	// -sp-key), so the target cannot have its metadata registered: only
	// Standalone cases of the IdP role run, the others are run errors.
	ThrowawaySP bool
}

// runState is shared by the cases of one run: a failed login stops it,
// so that a wrong password is sent once and no account is locked.
type runState struct {
	mu     sync.Mutex
	halted string
	// loggedIn says a login (or a conforming SSO) succeeded in this run:
	// before it, a login form answered with a page carrying no SAML
	// message is a refused login, and the run stops.
	loggedIn bool
	// control is the outcome of the conforming login the negative cases
	// need first ("" untried, "ok", else why it failed).
	control string
}

// markLoggedIn records that a login succeeded in this run.
func (s *runState) markLoggedIn() {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loggedIn = true
}

// hasLoggedIn reports whether a login succeeded in this run.
func (s *runState) hasLoggedIn() bool {
	if s == nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.loggedIn
}

// halt stops the run with the reason why.
func (s *runState) halt(reason string) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.halted == "" {
		s.halted = reason
	}
}

// reason returns why the run stopped, "" while it goes on.
func (s *runState) reason() string {
	if s == nil {
		return ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.halted
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
	run      *runState
	weak     string // a SHOULD or practice the case's exchange broke on the way (a SHA-1 signature), "" when none
	weakLvl  Level  // the strongest level of weak: practice or SHOULD
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
	// FailOn is the weakest level whose failures fail the run: "" and
	// LevelMust hold the target to the MUSTs only (SHOULDs and practices
	// are warnings), LevelPractice to everything (-strict).
	FailOn Level
	// Skip excludes cases by ID; they are listed in the report and count
	// neither as passes nor as failures.
	Skip []string
}

// inScope reports whether a row group is in the run's scope.
func (r *Runner) inScope(group string) bool {
	return len(r.Only) == 0 || slices.Contains(r.Only, group)
}

// Check refuses a run that would judge nothing it was asked to: an -only
// group that names no row of the matrix, a -skip name that is no case of
// the role. Run reports the same as a run error.
func (r *Runner) Check() error {
	groups := Groups(r.Rows)
	for _, g := range r.Only {
		if !slices.Contains(groups, g) {
			return fmt.Errorf("conformance: -only %q names no row group (groups: %s)", g, strings.Join(groups, ", "))
		}
	}
	if len(r.Only) > 0 && len(r.selected(r.groupOf())) == 0 {
		return fmt.Errorf("conformance: -only %s selects no case of role %s", strings.Join(r.Only, ","), r.Role)
	}
	var ids []string
	for _, c := range r.roleCases() {
		ids = append(ids, c.ID)
	}
	for _, s := range r.Skip {
		if !slices.Contains(ids, s) {
			return fmt.Errorf("conformance: -skip %q names no case of role %s", s, r.Role)
		}
	}
	if len(r.Skip) > 0 {
		left := 0
		for _, c := range r.selected(r.groupOf()) {
			if !slices.Contains(r.Skip, c.ID) {
				left++
			}
		}
		if left == 0 {
			return fmt.Errorf("conformance: -skip excludes every case in scope: nothing left to run")
		}
	}
	return nil
}

// Run runs every in-scope case of the runner's role with a fresh copy of base
// and returns the report, rows judged against the runner's mode. A run
// that Check refuses judges nothing and reports the run error; a failed
// login stops the run, the cases after it reported as errors.
func (r *Runner) Run(ctx context.Context, base *Env) *Report {
	rep := &Report{Role: r.Role, Mode: r.Mode, Only: r.Only, Skip: r.Skip, FailOn: r.failOn(), Started: base.now()}
	if base.Target != nil {
		rep.Target = base.Target.Source
	}
	if err := r.Check(); err != nil {
		rep.RunError, rep.Finished = err.Error(), base.now()
		return rep
	}
	env := *base
	env.run = &runState{}
	groups := r.groupOf()
	cases := r.selected(groups)
	for i, c := range cases {
		res := r.runOne(ctx, c, &env)
		rep.Results = append(rep.Results, res)
		r.progress("[%d/%d] %-60s %s (%s)", i+1, len(cases), c.ID, res.Outcome.Verdict, res.Duration.Round(time.Millisecond))
	}
	rep.RunError = env.run.reason()
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
	if o, skip := r.preempt(c, base); skip {
		return Result{Case: c, Outcome: o}
	}
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
	if env.weak != "" && res.Outcome.Verdict == Pass {
		l := env.weakLvl
		if l == "" {
			l = LevelPractice
		}
		res.Outcome = Outcome{Verdict: Fail, Side: SideTarget, Level: l, Reason: env.weak + "; otherwise: " + res.Outcome.Reason}
	}
	if why := base.run.reason(); why != "" && res.Outcome.Verdict != Error {
		res.Outcome = broken("the run stopped during this case: %s", why)
	}
	res.Outcome = r.grade(c, res.Outcome)
	return res
}

// preempt returns the outcome of a case that is not run: excluded by
// -skip, refused for want of a registered SP, or after the run stopped.
func (r *Runner) preempt(c Case, base *Env) (Outcome, bool) {
	switch {
	case slices.Contains(r.Skip, c.ID):
		return Outcome{Verdict: OutOfScope, Reason: "excluded by -skip"}, true
	case base.run.reason() != "":
		return broken("not run: %s", base.run.reason()), true
	case base.Options.ThrowawaySP && c.Role == RoleIdP && !c.Standalone:
		return broken("not run: the suite's SP key is throwaway (no -sp-key, or a -sp-key file this run created), so the target cannot know this SP; " +
			"register the metadata of -print-sp-metadata -sp-key FILE at the target and give the same -sp-key"), true
	}
	return Outcome{}, false
}

// failOn is the weakest level that fails the run, MUST when unset.
func (r *Runner) failOn() Level {
	if r.FailOn == "" {
		return LevelMust
	}
	return r.FailOn
}

// grade sets the level of a failure of the target and turns it into a
// warning (Advisory) when the run does not hold the target to that level,
// or into a failure when it does. An error of the run blames no target.
func (r *Runner) grade(c Case, o Outcome) Outcome {
	if o.Verdict == Error {
		o.Side = SideSuite
		return o
	}
	if (o.Verdict != Fail && o.Verdict != Advisory) || o.Side != SideTarget {
		return o
	}
	l := c.level()
	if o.Level != "" && o.Level.rank() < l.rank() {
		l = o.Level
	}
	if o.Verdict == Advisory && l == LevelMust {
		l = LevelPractice
	}
	o.Level, o.Verdict = l, Advisory
	if l.rank() >= r.failOn().rank() {
		o.Verdict = Fail
	}
	return o
}

// RowResult is a coverage row judged in a run.
type RowResult struct {
	Row         Row
	Req         Requirement
	Unconfirmed bool // the cell was not checked against the conformance document
	Verdict     Verdict
	Reason      string
	Cases       []string
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
	rr := RowResult{Row: row, Req: req, Unconfirmed: !row.Confirmed(r.Mode), Cases: casesFor(row.ID, r.roleCases())}
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
	var pass, skip, bad, excluded int
	for _, res := range results {
		if res.Case.Row != row {
			continue
		}
		switch res.Outcome.Verdict {
		case Pass, Advisory:
			pass++
		case Skipped:
			skip++
		case OutOfScope:
			excluded++
		default:
			bad++
		}
	}
	switch {
	case bad == 0 && pass == 0 && excluded > 0:
		return OutOfScope, fmt.Sprintf("every case of the row (%d) excluded by -skip", excluded)
	case bad > 0:
		return Fail, fmt.Sprintf("%d case(s) failed or could not judge", bad)
	case pass == 0 && req == Must:
		return Fail, "required feature not offered by the target: every case was not applicable"
	case pass == 0:
		return Skipped, "optional feature not offered by the target"
	}
	return Pass, fmt.Sprintf("%d case(s) passed, %d not applicable", pass, skip)
}
