package conformance

import (
	"context"
	"fmt"
	"time"
)

// Verdict is the outcome of one case or the state of one coverage row.
type Verdict string

// The verdicts. Skipped means the case does not apply to the target (for
// instance no SOAP endpoint for ECP); Uncovered is a required row with no
// case; OutOfScope is a row or case the run was told to leave out: neither
// is a pass. Advisory is a case of a recommended practice, not a MUST,
// that the target does not follow (it accepts SHA-1, for instance): it is
// reported with the side that deviates, and fails neither its row nor
// the run.
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

// Case is one conformance check: ID is named after the clause it checks
// ("SAML2-Bind-3.4.4.1/redirect-signature"), Row the coverage-matrix row it
// counts for, Positive whether it sends a conforming message and expects
// success (a negative case sends a broken one and expects a refusal).
type Case struct {
	ID       string
	Clause   string // the spec reference, e.g. "SAML Core §3.4.1"
	Row      string // a Row.ID of the matrix
	Role     Role
	Positive bool
	Summary  string
	Run      func(ctx context.Context, e *Env) Outcome
}

// Outcome is what a case's Run returns: a verdict, the reason for it and,
// for a failure, which side deviates from the clause.
type Outcome struct {
	Verdict Verdict
	Reason  string
	Side    Side
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
// attributed to the target; it fails neither its row nor the run.
func advisory(format string, args ...any) Outcome {
	return Outcome{Verdict: Advisory, Reason: fmt.Sprintf(format, args...), Side: SideTarget}
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

// Finding is a failed case of an interop run, attributed to a side.
type Finding struct {
	Case   string
	Clause string
	Side   Side
	Detail string
}
