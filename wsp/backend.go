package wsp

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Backend is an institution's back office as the DST engine sees it: the
// subjects it knows by their local identifier (the token's SPProvidedID)
// and, per service type and item type, records it can list, create,
// change and remove. Adapters implement it from a mapping file, never
// from Go code per institution: wsp/sqlmap over SQLite and PostgreSQL,
// wsp/httpjson over a REST API.
//
// Service is a service type URN (wsf/dst), Item an item type of that
// service (dst.ItemType.Name), field names are the catalog's element
// names. A context deadline bounds every call: an adapter returns the
// context's error when it passes, and the engine answers TimeOut.
type Backend interface {
	// Subject reports whether local names a subject of service.
	Subject(ctx context.Context, service, local string) (bool, error)
	// Query returns one page of the records a lookup selects, in the
	// back office's order (newest first where it has a date).
	Query(ctx context.Context, l Lookup) (Page, error)
	// Write applies every write at once, atomically: all of them or none.
	// It returns one record per write (the record as it now stands; only
	// its ID for a Delete). A write the back office refuses is a
	// *Refusal naming its index; any other error is a failure of the back
	// office.
	Write(ctx context.Context, ws []Write) ([]Record, error)
	// Close releases the back office's connections.
	Close() error
}

// Lookup selects records of one item type for one subject: all of them,
// the one with ID, or those whose Field equals Value, changed after
// ChangedSince when it is set; Offset records skipped, at most Count
// returned.
type Lookup struct {
	Service, Item string
	Subject       string
	ID            string
	Field, Value  string
	ChangedSince  time.Time
	Offset, Count int
}

// Page is one page of records. More reports that records follow it.
// NoHistory reports that the item type keeps no modification time, so
// ChangedSince could not be applied and every record was returned.
type Page struct {
	Records   []Record
	More      bool
	NoHistory bool
}

// Record is one item as the back office holds it. Values are keyed by
// the catalog's field names; a value is a string, int64, float64, bool,
// time.Time, []byte or nil (absent). Modified is zero when the back office
// keeps no modification time.
type Record struct {
	ID       string
	Modified time.Time
	Values   map[string]any
}

// WriteOp is the kind of a Write.
type WriteOp int

// The write operations of DST (IDWSF2 §5.1).
const (
	Create WriteOp = iota + 1
	Modify
	Delete
)

func (o WriteOp) String() string {
	switch o {
	case Create:
		return "Create"
	case Modify:
		return "Modify"
	case Delete:
		return "Delete"
	}
	return fmt.Sprintf("WriteOp(%d)", int(o))
}

// Write is one item of a Create, Modify or Delete for one subject. ID
// names the record changed or removed (empty for Create); Values are the
// new data by field name, as the request gave them (lexical XSD values).
// NotChangedSince, when set, asks that the record not have changed after
// it (optimistic concurrency); Now is the request's time.
type Write struct {
	Op              WriteOp
	Service, Item   string
	Subject         string
	ID              string
	Values          map[string]string
	NotChangedSince time.Time
	Now             time.Time
}

// Refusal is a write or lookup the back office refuses for a reason the
// requester should hear: Index is the write's index (0 for a lookup),
// Code the DST second-level status (IDWSF2 §5.2) and Third an optional
// third-level code naming the back office's reason (SlotFull).
type Refusal struct {
	Index  int
	Code   string
	Third  string
	Detail string
}

func (r *Refusal) Error() string {
	s := fmt.Sprintf("back office refuses item %d: %s", r.Index, r.Code)
	if r.Third != "" {
		s += "/" + r.Third
	}
	if r.Detail != "" {
		s += ": " + r.Detail
	}
	return s
}

// The DST second-level codes adapters refuse with (IDWSF2 §5.2), and the
// third-level codes Renkei adds under them.
const (
	DoesNotExist        = "DoesNotExist"
	ModifiedSince       = "ModifiedSince"
	ExistsAlready       = "ExistsAlready"
	InvalidData         = "InvalidData"
	ActionNotAuthorized = "ActionNotAuthorized"
	// SlotFull: an appointment slot whose capacity is taken (under
	// InvalidData).
	SlotFull = "urn:renkei:status:SlotFull"
)

// ErrUnavailable wraps a back office that cannot be reached or fails; the
// engine answers UnexpectedError without the detail.
var ErrUnavailable = errors.New("wsp: back office unavailable")
