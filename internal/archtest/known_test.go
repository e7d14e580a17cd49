package archtest

import (
	"slices"
	"testing"
)

// TestTriage proves that a known violation passes, an unknown one does not,
// and a fixed one is reported so that its entry goes.
func TestTriage(t *testing.T) {
	known := map[string]string{"a -> b": "fix b", "c -> d": "fix d"}
	fresh, stale := Triage([]string{"a -> b: rule", "a -> b -> e: rule", "x -> y: rule"}, known)
	if want := []string{"a -> b -> e: rule", "x -> y: rule"}; !slices.Equal(fresh, want) {
		t.Errorf("fresh = %q, want %q", fresh, want)
	}
	if want := []string{"c -> d"}; !slices.Equal(stale, want) {
		t.Errorf("stale = %q, want %q", stale, want)
	}
}
