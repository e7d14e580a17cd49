package sample

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/wsf/dst"
)

// The SQL mapping format (wsp/sqlmap) as far as these tests read it:
// decoded strictly, so that a misspelt key fails here too.
type sqlMapping struct {
	Driver   string                `json:"driver"`
	DSN      string                `json:"dsn"`
	Timeout  string                `json:"timeout"`
	Services map[string]sqlService `json:"services"`
}

type sqlService struct {
	Subject string             `json:"subject"`
	Items   map[string]sqlItem `json:"items"`
}

type sqlItem struct {
	Query    string            `json:"query"`
	ID       string            `json:"id"`
	Modified string            `json:"modified"`
	Order    string            `json:"order"`
	Columns  map[string]string `json:"columns"`
	Create   []sqlStep         `json:"create"`
	Modify   []sqlStep         `json:"modify"`
	Delete   []sqlStep         `json:"delete"`
}

type sqlStep struct {
	SQL     string `json:"sql"`
	Rows    *int64 `json:"rows"`
	Refuse  string `json:"refuse"`
	Third   string `json:"third"`
	Detail  string `json:"detail"`
	Returns string `json:"returns"`
}

func readSQLMapping(t *testing.T, path string) *sqlMapping {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return decodeSQLMapping(t, path, b)
}

func decodeSQLMapping(t *testing.T, path string, b []byte) *sqlMapping {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var m sqlMapping
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return &m
}

// TestMappingsCoverTheCatalog reads every mapping file generically: each
// names only services, item types and fields of the catalog, maps every
// item type of the services its institution offers and every Required
// field of each.
func TestMappingsCoverTheCatalog(t *testing.T) {
	dir, m := generated(t)
	for _, in := range m.Institutions {
		t.Run(in.Key, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(dir, in.Mapping))
			if err != nil {
				t.Fatal(err)
			}
			var file struct {
				Services map[string]struct {
					Items map[string]map[string]json.RawMessage `json:"items"`
				} `json:"services"`
			}
			if err := json.Unmarshal(b, &file); err != nil {
				t.Fatal(err)
			}
			if got := slices.Sorted(maps.Keys(file.Services)); !slices.Equal(got, slices.Sorted(slices.Values(in.Services))) {
				t.Errorf("services %v, the manifest says %v", got, in.Services)
			}
			for ns, svc := range file.Services {
				checkService(t, ns, svc.Items)
			}
		})
	}
}

func checkService(t *testing.T, ns string, items map[string]map[string]json.RawMessage) {
	s := dst.Lookup(ns)
	if s == nil {
		t.Errorf("%s: no such service type", ns)
		return
	}
	for _, it := range s.Items {
		if _, ok := items[it.Name]; !ok {
			t.Errorf("%s: item type %s unmapped", ns, it.Name)
		}
	}
	for name, item := range items {
		it := s.Item(name)
		if it == nil {
			t.Errorf("%s: no item type %s", ns, name)
			continue
		}
		raw := item["columns"] // SQL
		if raw == nil {
			raw = item["fields"] // HTTP/JSON
		}
		var fields map[string]string
		if err := json.Unmarshal(raw, &fields); err != nil {
			t.Errorf("%s %s: fields: %v", ns, name, err)
		}
		for f, col := range fields {
			if it.Field(f) == nil || col == "" {
				t.Errorf("%s %s: field %s (%q) not in the catalog", ns, name, f, col)
			}
		}
		for _, f := range it.Fields {
			if _, ok := fields[f.Name]; f.Required && !ok {
				t.Errorf("%s %s: required field %s unmapped", ns, name, f.Name)
			}
		}
	}
}

// TestSQLMappingsRunOnSQLite runs every query and write of the SQL
// mapping files against the SQLite databases Generate wrote.
func TestSQLMappingsRunOnSQLite(t *testing.T) {
	dir, m := generated(t)
	for _, key := range []string{HospitalA, HospitalB, Insurer} {
		t.Run(key, func(t *testing.T) {
			mp := readSQLMapping(t, filepath.Join(dir, key+".json"))
			if mp.Driver != "sqlite" || mp.DSN != key+".db" {
				t.Errorf("driver %q dsn %q", mp.Driver, mp.DSN)
			}
			if _, err := time.ParseDuration(mp.Timeout); err != nil {
				t.Errorf("timeout: %v", err)
			}
			db, err := sql.Open("sqlite", filepath.Join(dir, mp.DSN))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			runMapping(t, &mappingRun{db: db, m: m, key: key, mp: mp})
		})
	}
}

// mappingRun checks one SQL mapping against one database.
type mappingRun struct {
	db     *sql.DB
	dollar bool // PostgreSQL's $1 placeholders, else SQLite's ?
	m      *Manifest
	key    string
	mp     *sqlMapping
}

// The subjects each institution's checks use: one with every kind of
// record, one who booked, one with no records there.
var subjectsOf = map[string][2]string{HospitalA: {"p01", "p06"}, HospitalB: {"p12", "p09"}, Insurer: {"p01", "p08"}}

func runMapping(t *testing.T, r *mappingRun) {
	who := subjectsOf[r.key]
	subject := r.m.Person(who[0]).Local[r.key]
	for ns, svc := range r.mp.Services {
		r.checkSubject(t, ns, svc.Subject, subject)
		for name, item := range svc.Items {
			t.Run(name, func(t *testing.T) {
				r.checkItem(t, ns, name, item, subject)
			})
		}
	}
	if r.key == HospitalA || r.key == HospitalB {
		r.checkBooking(t, r.mp.Services[dst.Appointment].Items["Appointment"],
			r.mp.Services[dst.Appointment].Items["Slot"], subject, r.m.Person(who[1]).Local[r.key])
	}
}

// now is the request time the checks pass as :now, the reference day's
// start in UTC RFC 3339.
func (r *mappingRun) now() string {
	return mustDay(r.m.Reference).UTC().Format(time.RFC3339)
}

func (r *mappingRun) checkSubject(t *testing.T, ns, query, subject string) {
	for _, c := range []struct {
		local string
		want  bool
	}{{subject, true}, {"nobody", false}, {subject + "0", false}} {
		rows := r.query(t, r.db, query, map[string]any{"subject": c.local})
		if got := len(rows) > 0; got != c.want {
			t.Errorf("%s subject %q: known = %v, want %v", ns, c.local, got, c.want)
		}
	}
}

// checkItem runs an item's query, ordered, for subject and for nobody,
// and checks that it gives every column the mapping names with values
// of the field's type.
func (r *mappingRun) checkItem(t *testing.T, ns, name string, item sqlItem, subject string) {
	it := dst.Lookup(ns).Item(name)
	q := "SELECT * FROM (" + item.Query + ") q ORDER BY " + item.Order
	rows := r.query(t, r.db, q, map[string]any{"subject": subject, "now": r.now()})
	if len(rows) == 0 {
		t.Fatalf("%s: no rows for %s", name, subject)
	}
	for _, row := range rows {
		for _, col := range append([]string{item.ID}, item.Modified) {
			if _, ok := row[col]; col != "" && (!ok || row[col] == nil) {
				t.Fatalf("%s: id or modified column %q missing or null in %v", name, col, row)
			}
		}
		if item.Modified != "" {
			if _, err := time.Parse(time.RFC3339, asString(row[item.Modified])); err != nil {
				t.Errorf("%s: modified %v: %v", name, row[item.Modified], err)
			}
		}
		for field, col := range item.Columns {
			v, ok := row[col]
			if !ok {
				t.Fatalf("%s: column %q of %s not in the query's output %v", name, col, field, row)
			}
			if err := typed(it.Field(field), v); err != nil {
				t.Errorf("%s %s (%s) = %#v: %v", name, field, col, v, err)
			}
		}
	}
	if len(r.query(t, r.db, q, map[string]any{"subject": "nobody", "now": r.now()})) > 0 && name != "Slot" {
		t.Errorf("%s: rows for an unknown subject", name)
	}
}

// typed checks that v, as the database gave it, suits field f: numbers
// for Integer and Decimal, ISO 8601 text for dates, 0 or 1 for Boolean.
func typed(f *dst.Field, v any) error {
	if v == nil {
		if f.Required {
			return fmt.Errorf("null in a required field")
		}
		return nil
	}
	switch f.Type {
	case dst.Integer:
		if _, ok := v.(int64); !ok {
			return fmt.Errorf("not an integer")
		}
	case dst.Decimal:
		switch v.(type) {
		case int64, float64:
		default:
			return fmt.Errorf("not a number")
		}
	case dst.Boolean:
		if n, ok := v.(int64); !ok || (n != 0 && n != 1) {
			return fmt.Errorf("not 0 or 1")
		}
	case dst.Date:
		_, err := time.Parse(time.DateOnly, asString(v))
		return err
	case dst.DateTime:
		_, err := time.Parse(time.RFC3339, asString(v))
		return err
	default:
		if _, ok := v.(string); !ok {
			return fmt.Errorf("not text")
		}
	}
	return nil
}

func asString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case []byte:
		return string(v)
	case int64:
		return strconv.FormatInt(v, 10)
	}
	return fmt.Sprint(v)
}

// checkBooking runs the Appointment writes as an adapter would, in a
// transaction rolled back at the end: the last place of a slot is taken
// once, a full slot, a past slot and an unknown one are refused, a
// booking moves and is cancelled by its patient only.
func (r *mappingRun) checkBooking(t *testing.T, appt, slots sqlItem, subject, other string) {
	in := r.m.Institution(r.key)
	ctx := context.Background()
	tx, err := r.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	b := &booker{t: t, tx: tx, r: r, now: r.now()}
	remaining := func(slot string) int64 {
		t.Helper()
		rows := r.query(t, tx, "SELECT * FROM ("+slots.Query+") q WHERE q."+slots.ID+" = :id",
			map[string]any{"id": slot, "now": b.now})
		if len(rows) != 1 {
			t.Fatalf("slot %s: %d rows", slot, len(rows))
		}
		return rows[0][slots.Columns["Remaining"]].(int64)
	}
	capacity := remaining(in.OpenSlot)
	if n := remaining(in.LastPlaceSlot); n != 1 {
		t.Fatalf("last-place slot %s has %d places left", in.LastPlaceSlot, n)
	}
	if n := remaining(in.FullSlot); n != 0 {
		t.Fatalf("full slot %s has %d places left", in.FullSlot, n)
	}
	past := r.pastSlot(t, appt, subject)

	id := b.ok(appt.Create, subject, "", in.LastPlaceSlot)
	b.refused(appt.Create, other, "", in.LastPlaceSlot, "InvalidData/urn:renkei:status:SlotFull")
	b.refused(appt.Create, other, "", in.FullSlot, "InvalidData/urn:renkei:status:SlotFull")
	b.refused(appt.Create, other, "", past, "InvalidData/")
	b.refused(appt.Create, other, "", "99999", "InvalidData/")
	if remaining(in.LastPlaceSlot) != 0 {
		t.Fatal("the last place is not taken")
	}
	b.refused(appt.Modify, other, id, in.OpenSlot, "DoesNotExist/")
	b.ok(appt.Modify, subject, id, in.OpenSlot)
	if remaining(in.LastPlaceSlot) != 1 || remaining(in.OpenSlot) != capacity-1 {
		t.Fatal("moving a booking did not release the old slot and take the new one")
	}
	rows := r.query(t, tx, "SELECT * FROM ("+appt.Query+") q WHERE q."+appt.ID+" = :id", map[string]any{"subject": subject, "id": id})
	if len(rows) != 1 || asString(rows[0][appt.Columns["Slot"]]) != in.OpenSlot {
		t.Fatalf("booking %s after the move: %v", id, rows)
	}
	b.refused(appt.Delete, other, id, "", "DoesNotExist/")
	b.ok(appt.Delete, subject, id, "")
	b.refused(appt.Delete, subject, id, "", "DoesNotExist/")
	if remaining(in.OpenSlot) != capacity {
		t.Fatal("cancelling did not release the slot")
	}
	if rows := r.query(t, tx, "SELECT * FROM ("+appt.Query+") q WHERE q."+appt.ID+" = :id",
		map[string]any{"subject": subject, "id": id}); len(rows) != 0 {
		t.Fatalf("a cancelled booking is still listed: %v", rows)
	}
}

// pastSlot returns the slot of one of subject's past visits.
func (r *mappingRun) pastSlot(t *testing.T, appt sqlItem, subject string) string {
	for _, row := range r.query(t, r.db, appt.Query, map[string]any{"subject": subject}) {
		if asString(row[appt.Columns["Start"]]) < r.now() {
			return asString(row[appt.Columns["Slot"]])
		}
	}
	t.Fatalf("%s has no past appointment", subject)
	return ""
}

// booker runs write steps the way the mapping format describes them.
type booker struct {
	t   *testing.T
	tx  *sql.Tx
	r   *mappingRun
	now string
}

// run runs steps for subject with the record id and the input field Slot,
// and returns the id a step returned, or the refusal as CODE/THIRD.
func (b *booker) run(steps []sqlStep, subject, id, slot string) (string, string) {
	b.t.Helper()
	params := map[string]any{"subject": subject, "id": id, "now": b.now, "Slot": slot}
	for _, s := range steps {
		q, args := b.r.bind(b.t, s.SQL, params)
		if s.Returns == "id" {
			var v any
			if err := b.tx.QueryRow(q, args...).Scan(&v); err != nil {
				b.t.Fatalf("%s: %v", s.SQL, err)
			}
			id = asString(v)
			continue
		}
		res, err := b.tx.Exec(q, args...)
		if err != nil {
			b.t.Fatalf("%s: %v", s.SQL, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			b.t.Fatal(err)
		}
		if s.Rows != nil && n != *s.Rows {
			if s.Refuse == "" {
				b.t.Fatalf("%s: %d rows and no refusal", s.SQL, n)
			}
			return "", s.Refuse + "/" + s.Third
		}
	}
	return id, ""
}

func (b *booker) ok(steps []sqlStep, subject, id, slot string) string {
	b.t.Helper()
	got, refusal := b.run(steps, subject, id, slot)
	if refusal != "" || got == "" {
		b.t.Fatalf("%s %s slot %s: refused %s", subject, id, slot, refusal)
	}
	return got
}

func (b *booker) refused(steps []sqlStep, subject, id, slot, want string) {
	b.t.Helper()
	// A refused step leaves the earlier steps' changes behind: an adapter
	// rolls back, and so does this check, to a savepoint.
	if _, err := b.tx.Exec("SAVEPOINT step"); err != nil {
		b.t.Fatal(err)
	}
	if _, refusal := b.run(steps, subject, id, slot); refusal != want {
		b.t.Fatalf("%s %s slot %s: refusal %q, want %q", subject, id, slot, refusal, want)
	}
	if _, err := b.tx.Exec("ROLLBACK TO SAVEPOINT step"); err != nil {
		b.t.Fatal(err)
	}
}

// queryer is a *sql.DB or a *sql.Tx.
type queryer interface {
	Query(string, ...any) (*sql.Rows, error)
}

// query runs query with its named parameters bound and returns the rows
// by column name.
func (r *mappingRun) query(t *testing.T, db queryer, query string, params map[string]any) []map[string]any {
	t.Helper()
	q, args := r.bind(t, query, params)
	rows, err := db.Query(q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		row := map[string]any{}
		for i, c := range cols {
			row[c] = vals[i]
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// bind replaces the named parameters of query (:name) with the driver's
// placeholders and returns their values in order. It leaves quoted
// literals and PostgreSQL's :: casts alone; a name params lacks fails
// the test.
func (r *mappingRun) bind(t *testing.T, query string, params map[string]any) (string, []any) {
	t.Helper()
	var b strings.Builder
	var args []any
	quoted := false
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case c == '\'':
			quoted = !quoted
		case quoted || c != ':':
		case i+1 < len(query) && query[i+1] == ':':
			b.WriteString("::")
			i++
			continue
		case i+1 < len(query) && isNameStart(query[i+1]):
			j := i + 1
			for j < len(query) && (isNameStart(query[j]) || query[j] >= '0' && query[j] <= '9') {
				j++
			}
			v, ok := params[query[i+1:j]]
			if !ok {
				t.Fatalf("parameter :%s unbound in %s", query[i+1:j], query)
			}
			args = append(args, v)
			if r.dollar {
				fmt.Fprintf(&b, "$%d", len(args))
			} else {
				b.WriteString("?")
			}
			i = j - 1
			continue
		}
		b.WriteByte(c)
	}
	return b.String(), args
}

func isNameStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
