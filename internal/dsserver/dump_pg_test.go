package dsserver_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// tableCount is one table of a dump and its rows.
type tableCount struct {
	name string
	rows int
}

// dump is every row of every user table, one line per row:
// "schema.table: col=value|col=value". Text columns are their text, other
// types cast to text, bytea columns their raw bytes.
type dump struct{ buf bytes.Buffer }

// holds reports whether s is in the dump.
func (d *dump) holds(s string) bool { return bytes.Contains(d.buf.Bytes(), []byte(s)) }

// find returns the first line holding s, as UTF-8 or as the hex of its
// UTF-8 bytes (how a distinguished name shows an attribute Go does not
// name, and how PostgreSQL shows bytea as text), or "".
func (d *dump) find(s string) string {
	text := d.buf.Bytes()
	lower := bytes.ToLower(text)
	for _, needle := range [][]byte{[]byte(s), []byte(hex.EncodeToString([]byte(s)))} {
		if i := bytes.Index(lower, bytes.ToLower(needle)); i >= 0 {
			start := bytes.LastIndexByte(text[:i], '\n') + 1
			end := bytes.IndexByte(text[i:], '\n')
			if end < 0 {
				end = len(text) - i
			}
			return string(text[start : i+end])
		}
	}
	return ""
}

// dumpDatabase reads every base table outside the system schemas, as
// information_schema lists them, every column, every row.
func dumpDatabase(t *testing.T, dsn string) (*dump, []tableCount) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT table_schema, table_name FROM information_schema.tables
		WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')
		ORDER BY table_schema, table_name`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([2]string, error) {
		var st [2]string
		return st, r.Scan(&st[0], &st[1])
	})
	if err != nil {
		t.Fatal(err)
	}
	d := &dump{}
	var counts []tableCount
	for _, st := range tables {
		n, err := dumpTable(ctx, conn, st[0], st[1], d)
		if err != nil {
			t.Fatalf("dump %s.%s: %v", st[0], st[1], err)
		}
		counts = append(counts, tableCount{name: st[0] + "." + st[1], rows: n})
	}
	if len(counts) == 0 {
		t.Fatal("the database has no table")
	}
	return d, counts
}

// dumpTable appends every row of one table to d and returns the count.
func dumpTable(ctx context.Context, conn *pgx.Conn, schema, table string, d *dump) (int, error) {
	rows, err := conn.Query(ctx, `SELECT column_name, data_type FROM information_schema.columns
		WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`, schema, table)
	if err != nil {
		return 0, err
	}
	cols, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([2]string, error) {
		var c [2]string
		return c, r.Scan(&c[0], &c[1])
	})
	if err != nil {
		return 0, err
	}
	var exprs []string
	for _, c := range cols {
		id := pgx.Identifier{c[0]}.Sanitize()
		if c[1] == "bytea" {
			exprs = append(exprs, id)
		} else {
			exprs = append(exprs, "convert_to("+id+"::text, 'UTF8')")
		}
	}
	rows, err = conn.Query(ctx, "SELECT "+strings.Join(exprs, ", ")+" FROM "+pgx.Identifier{schema, table}.Sanitize())
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		vals := make([][]byte, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return 0, err
		}
		fmt.Fprintf(&d.buf, "%s.%s:", schema, table)
		for i, v := range vals {
			fmt.Fprintf(&d.buf, " %s=%s|", cols[i][0], v)
		}
		d.buf.WriteByte('\n')
		n++
	}
	return n, rows.Err()
}

// TestDumpFind: the dump's search finds a value as UTF-8 and as the hex
// of its bytes in either case, and reports the line; an absent value is
// not found.
func TestDumpFind(t *testing.T) {
	d := &dump{}
	d.buf.WriteString("public.a: x=1|\npublic.b: dn=2.5.4.41=#0C0DE5B1B1E794B020E88AB1E5AD90|\npublic.c: y=HbA1c 7.4%|\n")
	for _, tc := range []struct {
		name, value, line string
	}{
		{"ok/utf8", "HbA1c 7.4%", "public.c: y=HbA1c 7.4%|"},
		{"ok/hex-in-dn", "山田 花子", "public.b: dn=2.5.4.41=#0C0DE5B1B1E794B020E88AB1E5AD90|"},
		{"ok/absent", "1,872,300", ""},
	} {
		if got := d.find(tc.value); got != tc.line {
			t.Errorf("%s: find(%q) = %q, want %q", tc.name, tc.value, got, tc.line)
		}
	}
}
