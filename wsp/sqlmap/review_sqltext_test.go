package sqlmap

import (
	"slices"
	"testing"
)

// TestReviewRewritePostgresNestedComment: PostgreSQL's block comments nest
// (as the SQL standard has them, unlike C), so in
//
//	/* outer /* inner */ :x */
//
// everything up to the last */ is comment. rewrite ends the comment at the
// first */ and turns :x into $1: the statement then has a placeholder that
// PostgreSQL never sees (or, with a later :subject, a $2 without a $1),
// and the arguments no longer line up with the placeholders PostgreSQL
// numbers.
func TestReviewRewritePostgresNestedComment(t *testing.T) {
	src := "SELECT a FROM t /* outer /* inner */ :x */ WHERE s = :subject"
	s, err := rewrite(src, true)
	if err != nil {
		t.Fatal(err)
	}
	want := "SELECT a FROM t /* outer /* inner */ :x */ WHERE s = $1"
	if s.text != want || !slices.Equal(s.params, []string{"subject"}) {
		t.Errorf("rewrite = %q %v; want %q [subject]", s.text, s.params, want)
	}
}
