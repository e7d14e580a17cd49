package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
)

// Group commit. A SQLite file has one writer connection (openSQLiteFile),
// so this process's write transactions run one after another anyway, and
// with synchronous=FULL each COMMIT waits for its own fsync: under load,
// the writers queue behind the disk. The batcher runs the write
// transactions that queued while the previous COMMIT was on disk in one
// transaction, each inside its own SAVEPOINT, and commits them together:
// one fsync for the batch. Each caller gets its own outcome: an error of
// its function rolls back its savepoint alone and comes back to it
// unchanged, as from a transaction of its own; success only once the
// COMMIT holding its work is durable. Execution is serial, in the order
// taken, so a batch is equivalent to its members run one after another;
// if the COMMIT fails, none of its members is told of success. The replay,
// one-use and audit guarantees rest on that atomicity and durability, not
// on an fsync per request. PostgreSQL groups commits itself
// (commit_delay) and an in-memory database has no disk: neither batches.
//
// A replay claim (CheckAndInsert, through execLazy) is lazy, and so are the
// put and the take of an artifact (a pending AuthnRequest, an enrolment
// note, a SAML artifact: each lives minutes and is taken once): a batch of
// lazy writes alone commits with synchronous=NORMAL, atomic and safe from
// a crash of the process, without an fsync of its own. The WAL is synced
// in order, so the next synced COMMIT (the audit row every answered
// request writes, in the DS and the WSPs) or checkpoint makes the claim
// durable too; only an operating-system crash or power cut in between can
// forget a claim, when the message's own validity window (its timestamp,
// minutes) still bounds any replay. The one-use guarantee across nodes
// rests on the atomic insert, or the atomic DELETE ... RETURNING of a
// take, which this keeps. An artifact forgotten that way was put and not
// yet used (the browser or SP tries again), or taken and not yet answered
// for: an IdP's login answers only after its session write, which is
// synced and so makes the claim and the takes before it durable. A SAML
// artifact's resolution, which no synced write follows, takes durably
// (TakeArtifactDurable). Sessions,
// federations and audit rows stay synced at their COMMIT. Per card login
// the IdP thus waits for one fsync (the session, stored with the SP and
// the DS as its first participants), per SSO in a session for one (their
// join), where it waited for six and three when every artifact write was
// synced.

// maxBatch bounds the transactions of one COMMIT.
const maxBatch = 64

// errStoreClosed answers a write submitted after Close.
var errStoreClosed = errors.New("sqlstore: the store is closed")

type batcher struct {
	db *DB
	// reqs queue the callers; mu guards closed, so that nothing is queued
	// once the batcher stops.
	reqs   chan *batchReq
	mu     sync.RWMutex
	closed bool
	quit   chan struct{}
	done   chan struct{}
	// commits counts the COMMITs made, synced those made with
	// synchronous=FULL, switches the changes of the synchronous pragma
	// (tests).
	commits, synced, switches atomic.Int64
	// normal: the writer connection was left at synchronous=NORMAL by a
	// lazy batch. A connection the pool opens anew has the DSN's FULL, so
	// the belief errs only towards an fsync too many.
	normal bool
	// unprepared are statement texts the last batch ran without a prepared
	// statement; the batcher prepares them on the pool between batches,
	// when it does not hold the pool's one connection.
	unprepared map[string]bool
}

type batchReq struct {
	ctx context.Context
	fn  func(tx) error
	// lazy: the write's durability may wait for the next synced commit
	// (execLazy).
	lazy bool
	res  chan error // buffered: the batcher never waits for its caller
}

// panicked carries a panic of a member's function back to its caller's
// goroutine, where it is raised again.
type panicked struct{ v any }

func (p panicked) Error() string { return fmt.Sprintf("sqlstore: panic in a transaction: %v", p.v) }

func newBatcher(db *DB) *batcher {
	b := &batcher{db: db, reqs: make(chan *batchReq, maxBatch), quit: make(chan struct{}), done: make(chan struct{}),
		unprepared: map[string]bool{}}
	go b.loop()
	return b
}

// do runs fn in a write transaction, batched with the others queued at
// the same time, and returns its outcome once known. A caller whose
// context ends while queued is not run; once taken, it waits for the
// outcome, since the COMMIT may still make its work durable.
func (b *batcher) do(ctx context.Context, lazy bool, fn func(tx) error) error {
	r := &batchReq{ctx: ctx, fn: fn, lazy: lazy, res: make(chan error, 1)}
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		return errStoreClosed
	}
	select {
	case b.reqs <- r:
	case <-ctx.Done():
		b.mu.RUnlock()
		return ctx.Err()
	}
	b.mu.RUnlock()
	err := <-r.res
	var p panicked
	if errors.As(err, &p) {
		panic(p.v)
	}
	return err
}

// close stops the batcher after the batch it is running; callers still
// queued are told the store is closed.
func (b *batcher) close() {
	b.mu.Lock()
	stopped := b.closed
	b.closed = true
	b.mu.Unlock()
	if !stopped {
		close(b.quit)
	}
	<-b.done
}

func (b *batcher) loop() {
	defer close(b.done)
	batch := make([]*batchReq, 0, maxBatch)
	for {
		select {
		case <-b.quit:
			for {
				select {
				case r := <-b.reqs:
					r.res <- errStoreClosed
				default:
					return
				}
			}
		case r := <-b.reqs:
			batch = append(batch[:0], r)
		}
	more:
		for len(batch) < maxBatch {
			select {
			case r := <-b.reqs:
				batch = append(batch, r)
			default:
				break more
			}
		}
		b.run(batch)
		b.prepare()
	}
}

// errAborted is the outcome of a member a batch ended before answering:
// never success without a COMMIT.
var errAborted = errors.New("sqlstore: the batch ended before its COMMIT")

// run executes one batch and answers each member.
func (b *batcher) run(batch []*batchReq) {
	res := make([]error, len(batch))
	fill(res, errAborted)
	ok := make([]bool, len(batch))
	defer func() {
		for i, r := range batch {
			r.res <- res[i]
		}
	}()
	if err := b.mode(lazyBatch(batch)); err != nil {
		fill(res, err)
		return
	}
	t, err := b.db.w.BeginTx(context.Background(), nil)
	if err != nil {
		fill(res, b.db.d.wrap(err))
		return
	}
	savepoints := len(batch) > 1
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			res[i] = err
			continue
		}
		own, fatal := b.member(t, r, savepoints)
		if fatal != nil {
			// The transaction is gone or unusable: no member's work holds.
			// The member that failed gets its own error; the others, the
			// cause (retryable when it is, so that inTx runs them again).
			t.Rollback()
			for j := range batch {
				if ok[j] || j > i {
					res[j] = fmt.Errorf("sqlstore: batch aborted: %w", fatal)
				}
			}
			res[i] = own
			return
		}
		if own != nil {
			res[i] = own
		} else {
			ok[i] = true
		}
	}
	if !slices.Contains(ok, true) {
		t.Rollback()
		return
	}
	cerr := b.db.d.wrap(t.Commit())
	b.commits.Add(1)
	if !lazyBatch(batch) {
		b.synced.Add(1)
	}
	for i := range batch {
		if ok[i] {
			res[i] = cerr
		}
	}
}

// member runs one member's function, inside its savepoint when the batch
// has several, and returns the member's own outcome and, when the batch's
// transaction cannot go on, the cause. Its statements run under a context
// without its caller's cancellation: interrupting a SQLite statement rolls
// the whole transaction back, which would take the other members' work
// with it.
func (b *batcher) member(t *sql.Tx, r *batchReq, savepoint bool) (own, fatal error) {
	if savepoint {
		if _, err := t.Exec(`SAVEPOINT member`); err != nil {
			err = b.db.d.wrap(err)
			return err, err
		}
	}
	own = b.call(t, r)
	switch {
	case own == nil:
		if savepoint {
			if _, err := t.Exec(`RELEASE member`); err != nil {
				err = b.db.d.wrap(err)
				return err, err
			}
		}
		return nil, nil
	case !savepoint:
		return own, own // the only member: its transaction ends with it
	case b.db.d.retry(own):
		// A busy or locked database mid-transaction: every member runs
		// again (inTx).
		return own, own
	}
	if _, err := t.Exec(`ROLLBACK TO member`); err != nil {
		// SQLite rolled the whole transaction back (a full disk, an I/O
		// error): the savepoint is gone with the others' work.
		err = b.db.d.wrap(err)
		return errors.Join(own, err), err
	}
	if _, err := t.Exec(`RELEASE member`); err != nil {
		err = b.db.d.wrap(err)
		return errors.Join(own, err), err
	}
	return own, nil
}

// call runs r's function, a panic becoming the panicked error its caller
// raises again.
func (b *batcher) call(t *sql.Tx, r *batchReq) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = panicked{v}
		}
	}()
	return r.fn(tx{db: b.db, tx: t, write: true, batched: true})
}

// lazyBatch reports whether every member of batch is lazy.
func lazyBatch(batch []*batchReq) bool {
	for _, r := range batch {
		if !r.lazy {
			return false
		}
	}
	return true
}

// mode puts the writer connection at synchronous=NORMAL for a lazy batch
// and FULL for any other, switching only when the last batch left it at
// the other: a run of lazy batches pays for the pragma once, not twice per
// batch. When FULL cannot be set, the pool's connection is closed so that
// the next one opens with the DSN's FULL: no write that must be synced
// ever commits at NORMAL.
func (b *batcher) mode(lazy bool) error {
	if lazy == b.normal {
		return nil
	}
	b.switches.Add(1)
	if lazy {
		if err := b.synchronous("NORMAL"); err != nil {
			return err
		}
		b.normal = true
		return nil
	}
	if err := b.synchronous("FULL"); err != nil {
		b.db.w.SetMaxIdleConns(0)
		b.db.w.SetMaxIdleConns(1)
	}
	b.normal = false
	return nil
}

// synchronous sets the writer connection's synchronous pragma. The batcher
// is the only user of that connection (a SQLite file's writer pool has
// one, and every write goes through the batcher), so nothing else commits
// between this and the batch.
func (b *batcher) synchronous(mode string) error {
	_, err := b.db.w.Exec(`PRAGMA synchronous = ` + mode)
	return b.db.d.wrap(err)
}

// prepare prepares on the pool the statements the last batch ran as text.
// A statement that fails to prepare still runs as text, and the next batch
// notes it again.
func (b *batcher) prepare() {
	for q := range b.unprepared {
		_, _ = b.db.stmt(context.Background(), b.db.w, q)
	}
	clear(b.unprepared)
}

func fill(res []error, err error) {
	for i := range res {
		res[i] = err
	}
}
