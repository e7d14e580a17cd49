package sqlmap

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // registers the "sqlite" database/sql driver

	"github.com/renkei-idwsf/renkei/wsp"
)

// Page sizes of a lookup.
const (
	DefaultCount = 20
	MaxCount     = 200
)

// maxAttempts bounds how often a PostgreSQL write transaction is rerun after
// a deadlock or serialization failure.
const maxAttempts = 3

// Backend is a back office reached through a mapping file. It implements
// wsp.Backend and is safe for concurrent use.
type Backend struct {
	m      *Mapping
	dollar bool
	r, w   *sql.DB // readers and writers; the same pool on PostgreSQL

	stmtMu sync.Mutex
	stmts  map[string]*sql.Stmt // the reads' prepared statements, on r
}

// maxStmts bounds the prepared statements kept: a mapping has a few
// shapes of lookup per item type.
const maxStmts = 256

// query runs a read on pool p (the readers) with its statement prepared
// once and kept: SQLite would otherwise parse and plan the same text on
// every request.
func (b *Backend) query(ctx context.Context, p *sql.DB, q string, a ...any) (*sql.Rows, error) {
	b.stmtMu.Lock()
	s := b.stmts[q]
	full := len(b.stmts) >= maxStmts
	b.stmtMu.Unlock()
	if s == nil && !full {
		ps, err := p.PrepareContext(ctx, q)
		if err != nil {
			return nil, err
		}
		b.stmtMu.Lock()
		if s = b.stmts[q]; s == nil {
			if b.stmts == nil {
				b.stmts = map[string]*sql.Stmt{}
			}
			b.stmts[q], s = ps, ps
		} else {
			ps.Close()
		}
		b.stmtMu.Unlock()
	}
	if s == nil {
		return p.QueryContext(ctx, q, a...)
	}
	return s.QueryContext(ctx, a...)
}

var _ wsp.Backend = (*Backend)(nil)

// Option changes how Open opens a mapping.
type Option func(*options)

type options struct {
	dsn     string
	timeout time.Duration
}

// WithDSN opens dsn instead of the mapping's own: a test's database, or the
// one PostgreSQL database several WSP nodes share. A relative SQLite path
// is taken from the working directory.
func WithDSN(dsn string) Option { return func(o *options) { o.dsn = dsn } }

// WithTimeout bounds every call by d instead of the mapping's timeout: the
// WSP's configuration may allow a busier back office more time.
func WithTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// Open connects to the mapping's database and checks the mapping against
// it: every statement must prepare, and every item query must return the
// columns the mapping names. It reports every mismatch at once.
func Open(ctx context.Context, m *Mapping, opts ...Option) (*Backend, error) {
	o := options{dsn: m.dsn}
	for _, opt := range opts {
		opt(&o)
	}
	if o.timeout > 0 {
		c := *m // the statements are shared, read only
		c.timeout = o.timeout
		m = &c
	}
	b := &Backend{m: m, dollar: m.driver == Postgres}
	var err error
	switch m.driver {
	case SQLite:
		err = b.openSQLite(o.dsn)
	case Postgres:
		err = b.openPostgres(o.dsn)
	default:
		err = fmt.Errorf("driver %q: unknown", m.driver)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlmap: %w: %v", wsp.ErrUnavailable, err)
	}
	if err := b.check(ctx); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

// openPostgres opens one pool for reads and writes.
func (b *Backend) openPostgres(dsn string) error {
	p, err := sql.Open("pgx", dsn)
	if err != nil {
		return err
	}
	p.SetMaxOpenConns(b.m.connections)
	p.SetMaxIdleConns(b.m.connections)
	b.r, b.w = p, p
	return nil
}

// openSQLite opens the file in WAL mode with one writer connection, whose
// transactions take the write lock at BEGIN (BEGIN IMMEDIATE), and a pool of
// read-only connections that WAL lets run beside it. Writers of this
// process queue for the one connection; writers of other processes, or of
// another Backend on the same file, wait for the lock in SQLite's busy
// handler, for at most the mapping's timeout.
func (b *Backend) openSQLite(dsn string) error {
	path, opts, _ := strings.Cut(strings.TrimPrefix(dsn, "file:"), "?")
	if path == "" || path == ":memory:" {
		return errors.New("a SQLite back office is a file: an in-memory database would be one per connection")
	}
	// The back office exists already: a mistyped path must not create an
	// empty database.
	if _, err := os.Stat(path); err != nil {
		return err
	}
	if opts != "" {
		opts += "&"
	}
	busy := max(b.m.timeout.Milliseconds(), 1)
	common := path + "?" + opts + "_busy_timeout=" + strconv.FormatInt(busy, 10)
	w, err := sql.Open("sqlite", common+"&_txlock=immediate&_journal_mode=WAL")
	if err != nil {
		return err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	r, err := sql.Open("sqlite", common+"&_query_only=1")
	if err != nil {
		w.Close()
		return err
	}
	r.SetMaxOpenConns(b.m.connections)
	r.SetMaxIdleConns(b.m.connections)
	b.r, b.w = r, w
	return nil
}

// Mapping returns the mapping b serves.
func (b *Backend) Mapping() *Mapping { return b.m }

// Close releases the database connections.
func (b *Backend) Close() error {
	b.stmtMu.Lock()
	for q, s := range b.stmts {
		s.Close()
		delete(b.stmts, q)
	}
	b.stmtMu.Unlock()
	err := b.w.Close()
	if b.r != b.w {
		err = errors.Join(err, b.r.Close())
	}
	return err
}

// check prepares every statement of the mapping and reads the columns of
// every item query.
func (b *Backend) check(ctx context.Context) error {
	pctx, cancel := context.WithTimeout(ctx, b.m.timeout)
	err := b.w.PingContext(pctx)
	if err == nil && b.r != b.w {
		err = b.r.PingContext(pctx)
	}
	cancel()
	if err != nil {
		return b.fail(ctx, "open", err)
	}
	var errs []error
	fail := func(where string, err error) {
		if ctx.Err() != nil {
			err = b.fail(ctx, where, err)
		}
		errs = append(errs, fmt.Errorf("%s: %w", where, err))
	}
	for _, ns := range b.m.Services() {
		s := b.m.services[ns]
		where := "service " + ns
		if err := b.prepare(ctx, b.r, s.subject); err != nil {
			fail(where+": subject", err)
		}
		for _, name := range b.m.Items(ns) {
			it := s.items[name]
			w := where + ": item " + name
			if err := b.checkColumns(ctx, it); err != nil {
				fail(w+": query", err)
			}
			for _, op := range b.m.Writes(ns, name) {
				for i, st := range it.writes[op] {
					if err := b.prepare(ctx, b.w, st.stmt); err != nil {
						fail(fmt.Sprintf("%s: %s[%d]", w, strings.ToLower(op.String()), i), err)
					}
				}
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("sqlmap: the database does not fit the mapping: %w", errors.Join(errs...))
	}
	return nil
}

// prepare prepares st and discards it.
func (b *Backend) prepare(ctx context.Context, db *sql.DB, st stmt) error {
	ctx, cancel := context.WithTimeout(ctx, b.m.timeout)
	defer cancel()
	ps, err := db.PrepareContext(ctx, st.text)
	if err != nil {
		return err
	}
	return ps.Close()
}

// checkColumns runs an item query selecting no row and checks that its
// result has the columns the mapping names.
func (b *Backend) checkColumns(ctx context.Context, it *item) error {
	ctx, cancel := context.WithTimeout(ctx, b.m.timeout)
	defer cancel()
	q := "SELECT * FROM (" + it.query.text + "\n) q WHERE 1 = 0 ORDER BY " + cmp.Or(it.order, it.id)
	rows, err := b.query(ctx, b.r, q, args(it.query.params, params{now: time.Now()})...)
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	var missing []string
	need := []string{it.id}
	if it.modified != "" {
		need = append(need, it.modified)
	}
	for _, c := range it.columns {
		need = append(need, c.name)
	}
	for _, n := range need {
		if colIndex(cols, n) < 0 && !containsFold(missing, n) {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("no column %s in its result (it has %s)", strings.Join(missing, ", "), strings.Join(cols, ", "))
	}
	return rows.Err()
}

// params are the values of the named parameters of one call.
type params struct {
	subject string
	id      string
	now     time.Time
	values  map[string]string
}

// args returns the arguments of a statement's placeholders.
func args(names []string, p params) []any {
	out := make([]any, len(names))
	for i, n := range names {
		switch n {
		case "subject":
			out[i] = p.subject
		case "id":
			out[i] = p.id
		case "now":
			out[i] = p.now.UTC().Format(time.RFC3339Nano)
		default:
			if v, ok := p.values[n]; ok {
				out[i] = v
			}
		}
	}
	return out
}

// bound returns ctx bounded by the mapping's timeout.
func (b *Backend) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, b.m.timeout)
}

// fail classifies an error of the database during what: the context's own
// error once it is done (the call's deadline passed or its caller gave up),
// else a failure of the back office.
func (b *Backend) fail(ctx context.Context, what string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("sqlmap: %s: %w", what, context.Cause(ctx))
	}
	return fmt.Errorf("%w: %s: %v", wsp.ErrUnavailable, what, err)
}

// Subject reports whether the subject query of service returns a row for
// local. A service the mapping does not serve has no subjects.
func (b *Backend) Subject(ctx context.Context, service, local string) (bool, error) {
	s := b.m.services[service]
	if s == nil {
		return false, nil
	}
	ctx, cancel := b.bound(ctx)
	defer cancel()
	rows, err := b.query(ctx, b.r, s.subject.text, args(s.subject.params, params{subject: local, now: time.Now()})...)
	if err != nil {
		return false, b.fail(ctx, "subject query", err)
	}
	defer rows.Close()
	found := rows.Next()
	if err := rows.Err(); err != nil {
		return false, b.fail(ctx, "subject query", err)
	}
	return found, nil
}

// Query returns one page of the records l selects.
func (b *Backend) Query(ctx context.Context, l wsp.Lookup) (wsp.Page, error) {
	it := b.m.item(l.Service, l.Item)
	if it == nil {
		return wsp.Page{}, &wsp.Refusal{Code: wsp.ActionNotAuthorized,
			Detail: fmt.Sprintf("%s is not served here", l.Item)}
	}
	var col string
	if l.Field != "" {
		c := it.column(l.Field)
		if c == nil || !c.field.Filter {
			return wsp.Page{}, &wsp.Refusal{Code: "InvalidSelect",
				Detail: fmt.Sprintf("%s cannot be selected by %s", l.Item, l.Field)}
		}
		col = c.name
	}
	count := l.Count
	switch {
	case count <= 0:
		count = DefaultCount
	case count > MaxCount:
		count = MaxCount
	}
	ctx, cancel := b.bound(ctx)
	defer cancel()
	sel := b.selectFor(it, params{subject: l.Subject, now: time.Now()})
	if l.ID != "" {
		sel.where("q."+it.id+" = ", l.ID)
	}
	if col != "" {
		sel.where("q."+col+" = ", l.Value)
	}
	var page wsp.Page
	if !l.ChangedSince.IsZero() {
		if it.modified == "" {
			page.NoHistory = true
		} else {
			sel.since(it.modified, l.ChangedSince)
		}
	}
	q, a := sel.build(count+1, max(l.Offset, 0))
	recs, err := b.records(ctx, b.r, it, q, a)
	if err != nil {
		return wsp.Page{}, b.fail(ctx, l.Item+" lookup", err)
	}
	if len(recs) > count {
		recs, page.More = recs[:count], true
	}
	page.Records = recs
	return page, nil
}

// column returns the column of field, or nil.
func (it *item) column(field string) *column {
	for i := range it.columns {
		if it.columns[i].field.Name == field {
			return &it.columns[i]
		}
	}
	return nil
}

// selection composes a lookup over an item query.
type selection struct {
	b     *Backend
	it    *item
	p     params // of the item query
	conds []string
	args  []any
}

// selectFor starts a lookup of it with the item query's parameters p.
func (b *Backend) selectFor(it *item, p params) *selection {
	return &selection{b: b, it: it, p: p}
}

// where adds the condition "expr <value>".
func (s *selection) where(expr string, v any) {
	s.conds = append(s.conds, expr+"\x00")
	s.args = append(s.args, v)
}

// since adds the condition "modified after t". SQLite compares the times
// with julianday, which reads ISO 8601 text with or without a zone.
func (s *selection) since(modified string, t time.Time) {
	if s.b.dollar {
		s.where("q."+modified+" > ", t.UTC())
		return
	}
	s.conds = append(s.conds, "julianday(q."+modified+") > julianday(\x00)")
	s.args = append(s.args, t.UTC().Format(time.RFC3339Nano))
}

// build returns the statement selecting at most limit records from offset
// on, and its arguments: the item query's, then the conditions'.
func (s *selection) build(limit, offset int) (string, []any) {
	var b strings.Builder
	b.WriteString("SELECT * FROM (")
	b.WriteString(s.it.query.text)
	b.WriteString("\n) q")
	n := len(s.it.query.params)
	for i, c := range s.conds {
		if i == 0 {
			b.WriteString(" WHERE ")
		} else {
			b.WriteString(" AND ")
		}
		n++
		b.WriteString(strings.Replace(c, "\x00", placeholder(s.b.dollar, n), 1))
	}
	b.WriteString(" ORDER BY ")
	b.WriteString(cmp.Or(s.it.order, s.it.id))
	// The page is parameters, not text: one statement text per shape of
	// lookup, which stays prepared (stmt).
	b.WriteString(" LIMIT " + placeholder(s.b.dollar, n+1) + " OFFSET " + placeholder(s.b.dollar, n+2))
	a := append(args(s.it.query.params, s.p), s.args...)
	return b.String(), append(a, int64(limit), int64(offset))
}

// querier is a pool or a transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// records runs a composed lookup of it and reads its records.
func (b *Backend) records(ctx context.Context, db querier, it *item, q string, a []any) ([]wsp.Record, error) {
	var rows *sql.Rows
	var err error
	if p, ok := db.(*sql.DB); ok {
		rows, err = b.query(ctx, p, q, a...)
	} else {
		rows, err = db.QueryContext(ctx, q, a...)
	}
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	idCol, modCol := colIndex(cols, it.id), -1
	if it.modified != "" {
		modCol = colIndex(cols, it.modified)
	}
	fieldCol := make([]int, len(it.columns))
	for i, c := range it.columns {
		fieldCol[i] = colIndex(cols, c.name)
	}
	if idCol < 0 || it.modified != "" && modCol < 0 || slices.Contains(fieldCol, -1) {
		return nil, errors.New("the item query no longer returns the mapped columns")
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var out []wsp.Record
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		id, _ := text(vals[idCol]).(string)
		r := wsp.Record{ID: id, Values: make(map[string]any, len(it.columns))}
		if modCol >= 0 {
			if r.Modified, err = modTime(vals[modCol]); err != nil {
				return nil, fmt.Errorf("record %s: %v", id, err)
			}
		}
		for i, c := range it.columns {
			r.Values[c.field.Name] = value(c.field.Type, vals[fieldCol[i]])
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// colIndex finds a result column by name; PostgreSQL folds unquoted names
// to lower case, SQLite keeps them as written.
func colIndex(cols []string, name string) int {
	for i, c := range cols {
		if strings.EqualFold(c, name) {
			return i
		}
	}
	return -1
}

func containsFold(list []string, s string) bool { return colIndex(list, s) >= 0 }

// retryable reports a PostgreSQL deadlock or serialization failure, after
// which the whole transaction may run again.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}
