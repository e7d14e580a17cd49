package store

import (
	"context"
	"strconv"
	"strings"
	"time"
)

// AuditEvent is one entry of the audit log: a token issued by the
// Discovery Service, an access to a WSP. The log is append-only.
type AuditEvent struct {
	ID          int64 // assigned by the store, increasing
	Time        time.Time
	Actor       string // entity ID (or user) that acted
	PrincipalID string // whose data was concerned; what the citizen queries by
	ProviderID  string // the provider the event concerns
	Action      string
	Purpose     string // from sb:UsageDirective, or ""
	DetailType  string // media type of Detail, e.g. "application/xml"
	Detail      []byte
}

// Validate reports whether every backend can store e.
func (e AuditEvent) Validate() error {
	return firstErr(checkSetTime("time", e.Time), checkText("actor", e.Actor),
		checkText("principal ID", e.PrincipalID), checkText("provider ID", e.ProviderID),
		checkKey("action", e.Action), checkText("purpose", e.Purpose),
		checkText("detail type", e.DetailType))
}

// Audit page sizes.
const (
	DefaultAuditLimit = 100
	MaxAuditLimit     = 1000
)

// AuditQuery selects one page of a principal's audit events, newest first.
type AuditQuery struct {
	PrincipalID string
	From        time.Time // inclusive; zero means unbounded
	To          time.Time // exclusive; zero means unbounded
	Cursor      string    // AuditPage.Next of the previous page, or ""
	Limit       int       // 0 means DefaultAuditLimit; at most MaxAuditLimit
}

// Validate checks q and returns it with Limit filled in, and its cursor.
func (q AuditQuery) Validate() (AuditQuery, AuditCursor, error) {
	err := firstErr(checkKey("principal ID", q.PrincipalID), checkTime("from", q.From),
		checkTime("to", q.To))
	if q.Limit < 0 || q.Limit > MaxAuditLimit {
		err = firstErr(err, invalid("limit", "%d not in 0..%d", q.Limit, MaxAuditLimit))
	}
	if q.Limit == 0 {
		q.Limit = DefaultAuditLimit
	}
	c, cerr := ParseAuditCursor(q.Cursor)
	return q, c, firstErr(err, cerr)
}

// AuditPage is one page of events and the cursor of the next one ("" when
// this page is the last).
type AuditPage struct {
	Events []AuditEvent
	Next   string
}

// AuditCursor is the position after the last event of a page: events older
// than (Time, ID) come next.
type AuditCursor struct {
	Time time.Time
	ID   int64
	Set  bool
}

// CursorAfter returns the cursor that follows e.
func CursorAfter(e AuditEvent) AuditCursor {
	return AuditCursor{Time: e.Time, ID: e.ID, Set: true}
}

// String encodes c as text for a query parameter: "<unix nanoseconds>.<id>".
func (c AuditCursor) String() string {
	if !c.Set {
		return ""
	}
	return strconv.FormatInt(c.Time.UnixNano(), 10) + "." + strconv.FormatInt(c.ID, 10)
}

// ParseAuditCursor decodes a cursor made by String; the cursor may come
// from a client, so anything else is ErrInvalid.
func ParseAuditCursor(s string) (AuditCursor, error) {
	if s == "" {
		return AuditCursor{}, nil
	}
	ts, id, ok := strings.Cut(s, ".")
	t, terr := strconv.ParseInt(ts, 10, 64)
	n, nerr := strconv.ParseInt(id, 10, 64)
	c := AuditCursor{Time: time.Unix(0, t).UTC(), ID: n, Set: true}
	if !ok || terr != nil || nerr != nil || n < 0 || c.String() != s {
		return AuditCursor{}, invalid("audit cursor", "%q", s)
	}
	return c, nil
}

// AuditLog is an append-only audit log.
type AuditLog interface {
	// AppendAudit stores e and returns the ID it was given (e.ID is
	// ignored).
	AppendAudit(ctx context.Context, e AuditEvent) (int64, error)
	// AppendAudits stores the events in order, all of them or none (one
	// invalid event stores nothing), and returns the IDs they were given,
	// increasing. It is AppendAudit for the events one request records
	// together, in one transaction: one commit, one fsync.
	AppendAudits(ctx context.Context, es []AuditEvent) ([]int64, error)
	// AuditEvents returns one page of events matching q, newest first.
	AuditEvents(ctx context.Context, q AuditQuery) (AuditPage, error)
}

// AuditWindow reads the events of principal from offset on, newest first,
// at most count of them, walking the log's pages; more reports that
// events follow the window. It is how an audit service pages for a
// reader who asks by count and offset (DST pagination).
func AuditWindow(ctx context.Context, log AuditLog, principal string, offset, count int) (events []AuditEvent, more bool, err error) {
	want := offset + count + 1 // one more tells whether more remain
	var all []AuditEvent
	cursor := ""
	for len(all) < want {
		p, err := log.AuditEvents(ctx, AuditQuery{PrincipalID: principal, Cursor: cursor,
			Limit: min(MaxAuditLimit, want-len(all))})
		if err != nil {
			return nil, false, err
		}
		all = append(all, p.Events...)
		if cursor = p.Next; cursor == "" {
			break
		}
	}
	if len(all) <= offset {
		return nil, false, nil
	}
	all = all[offset:]
	if len(all) > count {
		return all[:count], true, nil
	}
	return all, false, nil
}
