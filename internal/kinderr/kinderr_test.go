package kinderr

import (
	"errors"
	"fmt"
	"io"
	"testing"
)

type kind int

const (
	kindA kind = iota + 1
	kindB
)

func (k kind) String() string { return fmt.Sprintf("kind %d", int(k)) }
func (kind) Package() string  { return "pkg" }

var (
	errA = &Error[kind]{Kind: kindA}
	errB = &Error[kind]{Kind: kindB}
)

// TestError: the text is package, public kind, then private detail and
// cause; errors.Is matches a bare sentinel of the same kind only, through
// wrapping; the cause stays reachable.
func TestError(t *testing.T) {
	err := fmt.Errorf("outer: %w", Wrap(kindA, io.EOF, "reading"))
	if got, want := err.Error(), "outer: pkg: kind 1: reading: EOF"; got != want {
		t.Fatalf("text %q, want %q", got, want)
	}
	for _, tc := range []struct {
		name   string
		target error
		want   bool
	}{
		{"ok/same-kind", errA, true},
		{"ok/cause", io.EOF, true},
		{"fail/other-kind", errB, false},
		{"fail/target-with-detail", New(kindA, "x"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := errors.Is(err, tc.target); got != tc.want {
				t.Fatalf("errors.Is = %v, want %v", got, tc.want)
			}
		})
	}
	var e *Error[kind]
	if !errors.As(err, &e) || e.Kind != kindA || e.Detail != "reading" {
		t.Fatalf("errors.As: %+v", e)
	}
	if got := New(kindB, "n=%d", 3).Error(); got != "pkg: kind 2: n=3" {
		t.Fatalf("New text %q", got)
	}
}
