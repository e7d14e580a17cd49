package store

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// minTime and maxTime bound the instants every backend stores exactly
// (signed 64-bit nanoseconds since 1970).
var (
	minTime = time.Unix(0, -1<<63).UTC()
	maxTime = time.Unix(0, 1<<63-1).UTC()
)

// invalid returns an error matching ErrInvalid that names the field.
func invalid(field, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrInvalid, field, fmt.Sprintf(format, args...))
}

// checkText rejects text that PostgreSQL cannot hold (invalid UTF-8 or NUL)
// so that every backend behaves alike.
func checkText(field, v string) error {
	if !utf8.ValidString(v) {
		return invalid(field, "not valid UTF-8")
	}
	if strings.IndexByte(v, 0) >= 0 {
		return invalid(field, "contains NUL")
	}
	return nil
}

// checkKey is checkText for a field that must not be empty.
func checkKey(field, v string) error {
	if v == "" {
		return invalid(field, "empty")
	}
	return checkText(field, v)
}

// checkTime rejects instants outside what every backend stores exactly; the
// zero time means "not set" and is accepted.
func checkTime(field string, t time.Time) error {
	if t.IsZero() {
		return nil
	}
	if t.Before(minTime) || t.After(maxTime) {
		return invalid(field, "%v is out of range", t)
	}
	return nil
}

// checkSetTime is checkTime for a time that must be set.
func checkSetTime(field string, t time.Time) error {
	if t.IsZero() {
		return invalid(field, "not set")
	}
	return checkTime(field, t)
}

// firstErr returns the first non-nil error.
func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
