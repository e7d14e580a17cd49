package sqlmap

import (
	"slices"
	"strings"
	"testing"
)

// TestRewrite: named parameters become the driver's placeholders, and
// nothing that only looks like one does.
func TestRewrite(t *testing.T) {
	for _, c := range []struct {
		src              string
		sqlite, pg       string
		params           []string
		sqliteErr, pgErr string
	}{
		{src: "SELECT 1 FROM p WHERE no = :subject",
			sqlite: "SELECT 1 FROM p WHERE no = ?", pg: "SELECT 1 FROM p WHERE no = $1", params: []string{"subject"}},
		{src: "UPDATE s SET n = n + 1, at = :now WHERE id = :Slot AND owner = :subject AND id2 = :Slot;",
			sqlite: "UPDATE s SET n = n + 1, at = ? WHERE id = ? AND owner = ? AND id2 = ?",
			pg:     "UPDATE s SET n = n + 1, at = $1 WHERE id = $2 AND owner = $3 AND id2 = $4",
			params: []string{"now", "Slot", "subject", "Slot"}},
		{src: "SELECT x::text, :id::bigint FROM t",
			sqlite: "SELECT x::text, ?::bigint FROM t", pg: "SELECT x::text, $1::bigint FROM t", params: []string{"id"}},
		{src: "SELECT ':subject', \"a:b\", 'it''s :x' FROM t -- :y\nWHERE a = :id /* :z */",
			sqlite: "SELECT ':subject', \"a:b\", 'it''s :x' FROM t -- :y\nWHERE a = ? /* :z */",
			pg:     "SELECT ':subject', \"a:b\", 'it''s :x' FROM t -- :y\nWHERE a = $1 /* :z */",
			params: []string{"id"}},
		{src: "SELECT E'\\' :x', $$ :y $$, $f$ :z $f$ FROM t WHERE a = :id",
			pg: "SELECT E'\\' :x', $$ :y $$, $f$ :z $f$ FROM t WHERE a = $1", params: []string{"id"},
			sqliteErr: "unterminated"},
		{src: "SELECT [a:b], `c:d` FROM t WHERE a = :id",
			sqlite: "SELECT [a:b], `c:d` FROM t WHERE a = ?", params: []string{"id"}, pgErr: ""},
		{src: "SELECT 1 FROM t WHERE a = ?", sqliteErr: "positional", pg: "SELECT 1 FROM t WHERE a = ?"},
		{src: "SELECT 1 FROM t WHERE a = $1", sqliteErr: "positional", pgErr: "positional"},
		{src: "SELECT 1; DROP TABLE t", sqliteErr: "more than one", pgErr: "more than one"},
		{src: "SELECT 'open", sqliteErr: "unterminated", pgErr: "unterminated"},
		{src: "SELECT 1 /* open", sqliteErr: "unterminated", pgErr: "unterminated"},
		{src: "  ; ", sqliteErr: "empty", pgErr: "empty"},
	} {
		for _, d := range []struct {
			dollar    bool
			want, err string
		}{{false, c.sqlite, c.sqliteErr}, {true, c.pg, c.pgErr}} {
			if d.want == "" && d.err == "" {
				continue
			}
			s, err := rewrite(c.src, d.dollar)
			switch {
			case d.err != "":
				if err == nil || !strings.Contains(err.Error(), d.err) {
					t.Errorf("rewrite(%q, dollar %v): %v, want an error with %q", c.src, d.dollar, err, d.err)
				}
			case err != nil:
				t.Errorf("rewrite(%q, dollar %v): %v", c.src, d.dollar, err)
			case s.text != d.want || !slices.Equal(s.params, c.params):
				t.Errorf("rewrite(%q, dollar %v) = %q %v; want %q %v", c.src, d.dollar, s.text, s.params, d.want, c.params)
			}
		}
	}
}
