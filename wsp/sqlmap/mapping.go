package sqlmap

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/renkei-idwsf/renkei/wsf/dst"
	"github.com/renkei-idwsf/renkei/wsp"
)

// The drivers a mapping may name.
const (
	SQLite   = "sqlite"
	Postgres = "pgx"
)

// Defaults of a mapping file.
const (
	DefaultTimeout     = 2 * time.Second
	DefaultConnections = 8
)

// Mapping is a loaded mapping file: which back-office database to open and,
// for each service type it serves, how its subjects and records are read
// and written. It is immutable once loaded; one Mapping may be opened many
// times.
type Mapping struct {
	driver      string
	dsn         string // resolved: a SQLite path is absolute or as given
	timeout     time.Duration
	connections int
	services    map[string]*service
}

// service is the mapping of one service type.
type service struct {
	ns      string
	subject stmt
	items   map[string]*item
}

// item is the mapping of one item type.
type item struct {
	service  string
	typ      *dst.ItemType
	query    stmt
	id       string
	modified string
	order    string
	columns  []column
	writes   map[wsp.WriteOp][]write
}

// column maps one field to the column of the item query holding it.
type column struct {
	field dst.Field
	name  string
}

// write is one statement of a write list.
type write struct {
	stmt
	rows      int64 // expected rows affected; -1 when unchecked
	refuse    string
	third     string
	detail    string
	returnsID bool
}

// Driver returns the database/sql driver name, "sqlite" or "pgx".
func (m *Mapping) Driver() string { return m.driver }

// Timeout returns the bound of every call.
func (m *Mapping) Timeout() time.Duration { return m.timeout }

// Services returns the service types the mapping serves, sorted.
func (m *Mapping) Services() []string {
	out := make([]string, 0, len(m.services))
	for ns := range m.services {
		out = append(out, ns)
	}
	sort.Strings(out)
	return out
}

// Items returns the item types the mapping serves for service, sorted; nil
// for a service it does not serve.
func (m *Mapping) Items(service string) []string {
	s := m.services[service]
	if s == nil {
		return nil
	}
	out := make([]string, 0, len(s.items))
	for name := range s.items {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// Writes returns the write operations the mapping offers on an item type of
// service, in the order Create, Modify, Delete; nil when it offers none (the
// item type is read-only at this institution) or does not serve it.
func (m *Mapping) Writes(service, itemType string) []wsp.WriteOp {
	it := m.item(service, itemType)
	if it == nil {
		return nil
	}
	var out []wsp.WriteOp
	for _, op := range []wsp.WriteOp{wsp.Create, wsp.Modify, wsp.Delete} {
		if len(it.writes[op]) > 0 {
			out = append(out, op)
		}
	}
	return out
}

// item returns the mapping of an item type, or nil.
func (m *Mapping) item(service, itemType string) *item {
	if s := m.services[service]; s != nil {
		return s.items[itemType]
	}
	return nil
}

// The file's JSON shapes.
type (
	fileJSON struct {
		Driver      string                 `json:"driver"`
		DSN         string                 `json:"dsn"`
		Timeout     string                 `json:"timeout"`
		Connections *int                   `json:"connections"`
		Services    map[string]serviceJSON `json:"services"`
	}
	serviceJSON struct {
		Subject string              `json:"subject"`
		Items   map[string]itemJSON `json:"items"`
	}
	itemJSON struct {
		Query    string            `json:"query"`
		ID       string            `json:"id"`
		Modified string            `json:"modified"`
		Order    string            `json:"order"`
		Columns  map[string]string `json:"columns"`
		Create   []writeJSON       `json:"create"`
		Modify   []writeJSON       `json:"modify"`
		Delete   []writeJSON       `json:"delete"`
	}
	writeJSON struct {
		SQL     string `json:"sql"`
		Rows    *int64 `json:"rows"`
		Refuse  string `json:"refuse"`
		Third   string `json:"third"`
		Detail  string `json:"detail"`
		Returns string `json:"returns"`
	}
)

// The members each object of the file may have; "comment" is allowed in
// every one and ignored.
var (
	fileKeys    = []string{"driver", "dsn", "timeout", "connections", "services"}
	serviceKeys = []string{"subject", "items"}
	itemKeys    = []string{"query", "id", "modified", "order", "columns", "create", "modify", "delete"}
	writeKeys   = []string{"sql", "rows", "refuse", "third", "detail", "returns"}
)

// The DST second-level codes a statement may refuse with (IDWSF2 §5.2).
var refusals = []string{wsp.DoesNotExist, wsp.ModifiedSince, wsp.ExistsAlready, wsp.InvalidData,
	wsp.ActionNotAuthorized}

// Load reads the mapping file at path. A relative SQLite path in it is
// taken relative to the file's directory.
func Load(path string) (*Mapping, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("sqlmap: %w", err)
	}
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("sqlmap: %w", err)
	}
	m, err := Parse(data, dir)
	if err != nil {
		return nil, fmt.Errorf("sqlmap: %s: %w", path, err)
	}
	return m, nil
}

// LoadOn loads a mapping file to run on another database: driver
// ("sqlite" or "pgx") and dsn replace the file's, and the statements are
// rewritten for that driver. It is how the same mapping serves a back
// office moved to PostgreSQL, or several WSP nodes sharing one database,
// without a second file to keep in step.
func LoadOn(path, driver, dsn string) (*Mapping, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("sqlmap: %w", err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("sqlmap: %s: %w", path, jsonError(data, err))
	}
	for k, v := range map[string]string{"driver": driver, "dsn": dsn} {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		raw[k] = b
	}
	if data, err = json.Marshal(raw); err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("sqlmap: %w", err)
	}
	m, err := Parse(data, dir)
	if err != nil {
		return nil, fmt.Errorf("sqlmap: %s on %s: %w", path, driver, err)
	}
	return m, nil
}

// Parse reads a mapping file's contents; dir is the directory a relative
// SQLite path is taken from ("" for the working directory). It reports
// every problem it finds, joined, each naming the service, item type, field
// or statement it is about.
func Parse(data []byte, dir string) (*Mapping, error) {
	var f fileJSON
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, jsonError(data, err)
	}
	p := &parser{}
	p.unknownKeys(data)
	m := &Mapping{driver: f.Driver, timeout: DefaultTimeout, connections: DefaultConnections,
		services: map[string]*service{}}
	switch f.Driver {
	case SQLite, Postgres:
	case "":
		p.add("driver: missing (sqlite or pgx)")
	default:
		p.add("driver %q: unknown (sqlite or pgx)", f.Driver)
	}
	if f.DSN == "" {
		p.add("dsn: missing")
	}
	m.dsn = f.DSN
	if f.Driver == SQLite && f.DSN != "" {
		m.dsn = sqlitePath(f.DSN, dir)
		if path, _, _ := strings.Cut(m.dsn, "?"); path == ":memory:" {
			p.add("dsn %q: a SQLite back office is a file", f.DSN)
		}
	}
	if f.Timeout != "" {
		d, err := time.ParseDuration(f.Timeout)
		if err != nil || d <= 0 {
			p.add("timeout %q: not a positive duration such as 2s or 500ms", f.Timeout)
		}
		m.timeout = d
	}
	if f.Connections != nil {
		if *f.Connections < 1 {
			p.add("connections %d: must be at least 1", *f.Connections)
		}
		m.connections = *f.Connections
	}
	if len(f.Services) == 0 {
		p.add("services: none")
	}
	dollar := f.Driver == Postgres
	for _, ns := range sortedKeys(f.Services) {
		if s := p.service(ns, f.Services[ns], dollar); s != nil {
			m.services[ns] = s
		}
	}
	if err := errors.Join(p.errs...); err != nil {
		return nil, err
	}
	return m, nil
}

// jsonError locates a decoding error in the file by line and column.
func jsonError(data []byte, err error) error {
	var off int64 = -1
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		off = syn.Offset
	case errors.As(err, &typ):
		off = typ.Offset
	}
	if off < 0 || off > int64(len(data)) {
		return err
	}
	before := data[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(off) - (bytes.LastIndexByte(before, '\n') + 1)
	return fmt.Errorf("line %d, column %d: %w", line, col, err)
}

// sqlitePath resolves a SQLite DSN ("file:" prefix optional, options after
// '?') against dir.
func sqlitePath(dsn, dir string) string {
	p := strings.TrimPrefix(dsn, "file:")
	rest := ""
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p, rest = p[:i], p[i:]
	}
	if p != ":memory:" && dir != "" && !filepath.IsAbs(p) {
		p = filepath.Join(dir, p)
	}
	return p + rest
}

// parser gathers a mapping's problems.
type parser struct{ errs []error }

func (p *parser) add(format string, args ...any) {
	p.errs = append(p.errs, fmt.Errorf(format, args...))
}

// service compiles the mapping of one service type, or returns nil.
func (p *parser) service(ns string, sj serviceJSON, dollar bool) *service {
	cat := dst.Lookup(ns)
	if cat == nil {
		p.add("service %s: unknown service type", ns)
		return nil
	}
	s := &service{ns: ns, items: map[string]*item{}}
	where := "service " + ns
	if sj.Subject == "" {
		p.add("%s: subject: missing (a query returning a row when :subject is a subject)", where)
	} else {
		s.subject = p.stmt(where+": subject", sj.Subject, dollar, paramsOf("subject", "now"))
	}
	if len(sj.Items) == 0 {
		p.add("%s: items: none", where)
	}
	for _, name := range sortedKeys(sj.Items) {
		typ := cat.Item(name)
		if typ == nil {
			p.add("%s: item %s: unknown item type (the service type has %s)", where, name, itemNames(cat))
			continue
		}
		s.items[name] = p.item(where+": item "+name, ns, typ, sj.Items[name], dollar)
	}
	return s
}

// item compiles the mapping of one item type.
func (p *parser) item(where, ns string, typ *dst.ItemType, ij itemJSON, dollar bool) *item {
	it := &item{service: ns, typ: typ, id: ij.ID, modified: ij.Modified, order: ij.Order,
		writes: map[wsp.WriteOp][]write{}}
	if ij.Query == "" {
		p.add("%s: query: missing", where)
	} else {
		it.query = p.stmt(where+": query", ij.Query, dollar, paramsOf("subject", "now"))
	}
	switch {
	case ij.ID == "":
		p.add("%s: id: missing (the column holding the record's identifier)", where)
	case !isIdent(ij.ID):
		p.add("%s: id %q: not a plain column name", where, ij.ID)
	}
	if ij.Modified != "" && !isIdent(ij.Modified) {
		p.add("%s: modified %q: not a plain column name", where, ij.Modified)
	}
	if ij.Order != "" {
		if o, err := rewrite(ij.Order, dollar); err != nil {
			p.add("%s: order: %v", where, err)
		} else if len(o.params) > 0 {
			p.add("%s: order: parameter :%s: the order takes no parameters", where, o.params[0])
		} else {
			it.order = o.text
		}
	}
	for _, field := range sortedKeys(ij.Columns) {
		col := ij.Columns[field]
		fd := typ.Field(field)
		switch {
		case fd == nil:
			p.add("%s: field %s: unknown field (the item type has %s)", where, field, fieldNames(typ))
		case !isIdent(col):
			p.add("%s: field %s: column %q: not a plain column name", where, field, col)
		default:
			it.columns = append(it.columns, column{field: *fd, name: col})
		}
	}
	for _, fd := range typ.Fields {
		if _, ok := ij.Columns[fd.Name]; fd.Required && !ok {
			p.add("%s: field %s: required by the service type but not in columns", where, fd.Name)
		}
	}
	// Columns in the catalog's order, so records list fields as the schema does.
	slices.SortFunc(it.columns, func(a, b column) int {
		return fieldIndex(typ, a.field.Name) - fieldIndex(typ, b.field.Name)
	})
	ops := []struct {
		op      wsp.WriteOp
		list    []writeJSON
		offered bool
	}{{wsp.Create, ij.Create, typ.Create}, {wsp.Modify, ij.Modify, typ.Modify}, {wsp.Delete, ij.Delete, typ.Delete}}
	for _, o := range ops {
		if len(o.list) == 0 {
			continue
		}
		w := fmt.Sprintf("%s: %s", where, strings.ToLower(o.op.String()))
		if !o.offered {
			p.add("%s: the service type offers no %s of %s", w, o.op, typ.Name)
			continue
		}
		it.writes[o.op] = p.writes(w, typ, o.op, o.list, dollar)
	}
	return it
}

// writes compiles the statement list of one write operation.
func (p *parser) writes(where string, typ *dst.ItemType, op wsp.WriteOp, list []writeJSON, dollar bool) []write {
	out := make([]write, 0, len(list))
	hasID := op != wsp.Create
	returned := false
	for i, wj := range list {
		w := fmt.Sprintf("%s[%d]", where, i)
		allowed := paramsOf("subject", "now")
		if hasID {
			allowed["id"] = true
		}
		for _, fd := range typ.Fields {
			if fd.Input {
				allowed[fd.Name] = true
			}
		}
		st := write{rows: -1}
		if wj.SQL == "" {
			p.add("%s: sql: missing", w)
		} else {
			st.stmt = p.stmt(w, wj.SQL, dollar, allowed)
		}
		switch wj.Returns {
		case "":
		case "id":
			st.returnsID = true
			returned, hasID = true, true
		default:
			p.add("%s: returns %q: only \"id\" (the new record's identifier, from RETURNING)", w, wj.Returns)
		}
		if wj.Rows != nil {
			if *wj.Rows < 0 {
				p.add("%s: rows %d: must not be negative", w, *wj.Rows)
			}
			st.rows = *wj.Rows
			st.refuse, st.third, st.detail = wj.Refuse, wj.Third, wj.Detail
			if st.refuse == "" {
				st.refuse = wsp.InvalidData
			} else if !slices.Contains(refusals, st.refuse) {
				p.add("%s: refuse %q: not one of %s", w, st.refuse, strings.Join(refusals, ", "))
			}
		} else if wj.Refuse != "" || wj.Third != "" || wj.Detail != "" {
			p.add("%s: refuse, third and detail apply only with rows", w)
		}
		out = append(out, st)
	}
	if op == wsp.Create && !returned {
		p.add("%s: no statement returns the new record's id (\"returns\": \"id\" on an INSERT ... RETURNING)", where)
	}
	return out
}

// stmt rewrites one statement and checks its parameters against allowed.
func (p *parser) stmt(where, sql string, dollar bool, allowed map[string]bool) stmt {
	s, err := rewrite(sql, dollar)
	if err != nil {
		p.add("%s: %v", where, err)
		return s
	}
	seen := map[string]bool{}
	for _, name := range s.params {
		if !allowed[name] && !seen[name] {
			p.add("%s: parameter :%s: unknown here (allowed: %s)", where, name, paramList(allowed))
		}
		seen[name] = true
	}
	return s
}

// unknownKeys reports the members of the file no version of the format
// knows, which are most often misspellings.
func (p *parser) unknownKeys(data []byte) {
	type obj = map[string]json.RawMessage
	check := func(where string, raw json.RawMessage, known []string) obj {
		var o obj
		if json.Unmarshal(raw, &o) != nil {
			return nil
		}
		for _, k := range sortedKeys(o) {
			if k != "comment" && !slices.Contains(known, k) {
				p.add("%s: unknown member %q (known: %s)", where, k, strings.Join(known, ", "))
			}
		}
		return o
	}
	top := check("file", data, fileKeys)
	var svcs obj
	json.Unmarshal(top["services"], &svcs)
	for _, ns := range sortedKeys(svcs) {
		s := check("service "+ns, svcs[ns], serviceKeys)
		var items obj
		json.Unmarshal(s["items"], &items)
		for _, name := range sortedKeys(items) {
			where := "service " + ns + ": item " + name
			it := check(where, items[name], itemKeys)
			for _, op := range []string{"create", "modify", "delete"} {
				var list []json.RawMessage
				json.Unmarshal(it[op], &list)
				for i, w := range list {
					check(fmt.Sprintf("%s: %s[%d]", where, op, i), w, writeKeys)
				}
			}
		}
	}
}

func paramsOf(names ...string) map[string]bool {
	m := map[string]bool{}
	for _, n := range names {
		m[n] = true
	}
	return m
}

func paramList(allowed map[string]bool) string {
	names := sortedKeys(allowed)
	for i, n := range names {
		names[i] = ":" + n
	}
	return strings.Join(names, ", ")
}

func itemNames(s *dst.Service) string {
	var names []string
	for _, t := range s.Items {
		names = append(names, t.Name)
	}
	return strings.Join(names, ", ")
}

func fieldNames(t *dst.ItemType) string {
	var names []string
	for _, f := range t.Fields {
		names = append(names, f.Name)
	}
	return strings.Join(names, ", ")
}

func fieldIndex(t *dst.ItemType, name string) int {
	for i, f := range t.Fields {
		if f.Name == name {
			return i
		}
	}
	return len(t.Fields)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
