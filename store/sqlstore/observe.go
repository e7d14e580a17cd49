package sqlstore

import (
	"context"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"time"
)

// Observer is told of every call the store makes to its database: the
// operation (the exported method of DB it serves, "ClaimMessageID";
// "other" when none), how long it took and its failure. It serves a
// role's metrics only; it must be quick and safe for concurrent use.
type Observer func(op string, d time.Duration, err error)

// Observe has o told of every database call from now on; nil stops it.
// The operation is read from the call stack, so that no method names
// itself and none can be missed; that costs a microsecond or two a call,
// paid only while an Observer is set.
func (db *DB) Observe(o Observer) {
	if o == nil {
		db.observer.Store(nil)
		return
	}
	db.observer.Store(&o)
}

// Ping checks that the database answers, on both pools (a role's
// readiness).
func (db *DB) Ping(ctx context.Context) error {
	start := time.Now()
	err := db.ping(ctx)
	db.observed(start, err)
	return err
}

// observed tells the Observer, if any, of a call that began at start.
func (db *DB) observed(start time.Time, err error) {
	o := db.observer.Load()
	if o == nil {
		return
	}
	(*o)(operation(), time.Since(start), err)
}

// observedRow is a row whose Scan tells the Observer: database/sql runs
// the query and reads the row by then, and reports the failure there.
type observedRow struct {
	scanner
	db    *DB
	start time.Time
	op    string
}

func (r observedRow) Scan(dest ...any) error {
	err := r.scanner.Scan(dest...)
	if o := r.db.observer.Load(); o != nil {
		(*o)(r.op, time.Since(r.start), err)
	}
	return err
}

// observeRow wraps row when an Observer is set, naming the operation now,
// while its caller is on the stack.
func (db *DB) observeRow(start time.Time, row scanner) scanner {
	if db.observer.Load() == nil {
		return row
	}
	return observedRow{scanner: row, db: db, start: start, op: operation()}
}

// dbMethods is the prefix of the function names of DB's methods.
var dbMethods = func() string {
	name := runtime.FuncForPC(reflect.ValueOf((*DB).Dialect).Pointer()).Name()
	return strings.TrimSuffix(name, "Dialect")
}()

// ops caches the operation of each call stack operation has named: the
// same path through the code names the same method, and turning the
// stack's program counters into function names each time cost a role's
// hot path several percent of its CPU (cmd/renkei-idp BenchmarkLogin).
var ops = struct {
	sync.RWMutex
	m map[[opFrames]uintptr]string
}{m: map[[opFrames]uintptr]string{}}

// opCheck, set only by tests, is told of each operation operation names
// anew and of the name a walk of 64 frames gives (TestOperationDepth).
var opCheck func(op, deep string)

// opFrames is how deep operation looks: deep enough for the outermost
// method of every path into the store (TestOperationDepth checks it over
// the store's conformance suite, and the roles' tests found none deeper
// than 12 frames either), and no deeper, since walking the
// stack is most of operation's cost (32 frames were 1% of a WSP query's
// CPU). maxOps bounds the cache (the paths into the store are few, but
// nothing else limits them).
const (
	opFrames = 12
	maxOps   = 4096
)

// operation names the outermost exported method of DB on the calling
// goroutine's stack (its opFrames innermost frames).
func operation() string {
	var pcs [opFrames]uintptr
	n := runtime.Callers(3, pcs[:])
	ops.RLock()
	op, ok := ops.m[pcs]
	ops.RUnlock()
	if ok {
		return op
	}
	op = operationOf(pcs[:n])
	if opCheck != nil {
		var deep [64]uintptr
		opCheck(op, operationOf(deep[:runtime.Callers(3, deep[:])]))
	}
	ops.Lock()
	if len(ops.m) < maxOps {
		ops.m[pcs] = op
	}
	ops.Unlock()
	return op
}

// operationOf names the outermost exported method of DB among the frames
// of pcs.
func operationOf(pcs []uintptr) string {
	frames := runtime.CallersFrames(pcs)
	op := "other"
	for {
		f, more := frames.Next()
		if rest, ok := strings.CutPrefix(f.Function, dbMethods); ok {
			name, _, _ := strings.Cut(rest, ".") // a closure: "Method.func1"
			if name != "" && name[0] >= 'A' && name[0] <= 'Z' {
				op = name
			}
		}
		if !more {
			return op
		}
	}
}
