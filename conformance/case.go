package conformance

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Verdict is the outcome of one case or the state of one coverage row.
type Verdict string

// The verdicts. Skipped means the case does not apply to the target (for
// instance no SOAP endpoint for ECP); Uncovered is a required row with no
// case; OutOfScope is a row or case the run was told to leave out: neither
// is a pass. Advisory is a warning: a SHOULD or a recommended practice
// the target does not follow (it accepts SHA-1, for instance); it is
// reported with the side that deviates and its own count, and fails
// neither its row nor the run. Error is an error of the run: the case
// could not reach the point it tests (no login, no answer, a setup
// error); it fails the run and blames no side.
const (
	Pass       Verdict = "pass"
	Advisory   Verdict = "advisory"
	Fail       Verdict = "fail"
	Error      Verdict = "error"
	Skipped    Verdict = "skipped-not-applicable"
	Uncovered  Verdict = "uncovered"
	OutOfScope Verdict = "out-of-scope"
)

// Role names the kind of system under test.
type Role string

// The roles the suite knows.
const (
	RoleIdP Role = "idp"
	RoleSP  Role = "sp"
	RoleDS  Role = "ds"
	RoleWSP Role = "wsp"
	RoleWSC Role = "wsc"
)

// Side names who deviates from a clause when a case fails.
type Side string

// The sides of an exchange.
const (
	SideTarget Side = "target" // the implementation under test
	SideSuite  Side = "suite"  // the suite itself or its environment
)

// Level is what a case checks against: a MUST of the OASIS text, a
// SHOULD of it, or a recommended security practice (the SAML security
// considerations, a known attack class). Only a MUST failure makes the
// target deviate and the run fail; the others are warnings (Advisory)
// unless the run is told to hold the target to them (Runner.FailOn).
type Level string

// The levels, strongest first.
const (
	LevelMust     Level = "MUST"
	LevelShould   Level = "SHOULD"
	LevelPractice Level = "practice"
)

// rank orders the levels: MUST 3, SHOULD 2, practice 1; "" counts as MUST.
func (l Level) rank() int {
	switch l {
	case LevelShould:
		return 2
	case LevelPractice:
		return 1
	}
	return 3
}

// ParseLevel reads a level as the command line spells it ("must",
// "should", "practice").
func ParseLevel(s string) (Level, error) {
	switch strings.ToLower(s) {
	case "must", "":
		return LevelMust, nil
	case "should":
		return LevelShould, nil
	case "practice", "strict":
		return LevelPractice, nil
	}
	return "", fmt.Errorf("conformance: unknown level %q (want must, should or practice)", s)
}

// Case is one conformance check: ID is named after the clause it checks
// ("SAML2-Bind-3.4.4.1/redirect-signature"), Row the coverage-matrix row it
// counts for, Positive whether it sends a conforming message and expects
// success (a negative case sends a broken one and expects a refusal).
//
// Clause cites the OASIS (or Liberty) document and section the case
// checks, never a project digest; for a SHOULD or a practice it names
// where the recommendation comes from. Level is what a failure of the
// case means: "" is a MUST. Standalone marks a case of the IdP role that
// needs no registration of the suite's SP at the target (it reads only
// the target's metadata): without a stable SP key (-sp-key) only those
// run.
type Case struct {
	ID         string
	Clause     string // the spec reference, e.g. "SAML Core §3.4.1"
	Level      Level  // "" means LevelMust
	Row        string // a Row.ID of the matrix
	Role       Role
	Positive   bool
	Standalone bool
	Summary    string
	Run        func(ctx context.Context, e *Env) Outcome
}

// level returns the case's level, MUST when unset.
func (c Case) level() Level {
	if c.Level == "" {
		return LevelMust
	}
	return c.Level
}

// Outcome is what a case's Run returns: a verdict, the reason for it and,
// for a failure, which side deviates from the clause. Level, when set on a
// failure, is weaker than the case's own: a case that checks a MUST and a
// SHOULD of the same exchange says which one failed. The runner sets it on
// every result.
type Outcome struct {
	Verdict Verdict
	Reason  string
	Side    Side
	Level   Level
}

// passed returns a pass with a reason.
func passed(format string, args ...any) Outcome {
	return Outcome{Verdict: Pass, Reason: fmt.Sprintf(format, args...)}
}

// failed returns a failure attributed to the target.
func failed(format string, args ...any) Outcome {
	return Outcome{Verdict: Fail, Reason: fmt.Sprintf(format, args...), Side: SideTarget}
}

// broken returns an error of the suite or its environment: the case could not
// judge the target.
func broken(format string, args ...any) Outcome {
	return Outcome{Verdict: Error, Reason: fmt.Sprintf(format, args...), Side: SideSuite}
}

// advisory returns the verdict of a practice the target does not follow,
// attributed to the target; it fails neither its row nor the run unless
// the run holds the target to practices (Runner.FailOn).
func advisory(format string, args ...any) Outcome {
	return Outcome{Verdict: Advisory, Reason: fmt.Sprintf(format, args...), Side: SideTarget, Level: LevelPractice}
}

// failedAt returns a failure of the target at level l, weaker than the
// case's: a SHOULD within a case that also checks a MUST.
func failedAt(l Level, format string, args ...any) Outcome {
	return Outcome{Verdict: Fail, Reason: fmt.Sprintf(format, args...), Side: SideTarget, Level: l}
}

// notApplicable returns a skip with the reason the case does not apply.
func notApplicable(format string, args ...any) Outcome {
	return Outcome{Verdict: Skipped, Reason: fmt.Sprintf(format, args...)}
}

// Message is one captured message of an exchange.
type Message struct {
	Direction string // "sent" or "received"
	Label     string // what it is: "AuthnRequest (HTTP-Redirect)", "HTTP 400 page", ...
	URL       string
	Status    int    // HTTP status of a received message, 0 for sent ones
	Body      string // the message, decoded where the binding encodes it; truncated to MaxCaptured bytes
}

// MaxCaptured bounds each captured message body in a report.
const MaxCaptured = 64 << 10

// Result is a case's outcome in a report, with its exchanged messages.
type Result struct {
	Case     Case
	Outcome  Outcome
	Messages []Message
	Duration time.Duration
}

// Level is the level of the result: the outcome's when set (a MUST case
// whose failure was a SHOULD or a practice), the case's otherwise.
func (r Result) Level() Level {
	if r.Outcome.Level != "" {
		return r.Outcome.Level
	}
	return r.Case.level()
}

// Finding is a failed case of an interop run, attributed to a side.
type Finding struct {
	Case   string
	Clause string
	Level  Level
	Side   Side
	Detail string
}
