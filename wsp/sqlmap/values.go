package sqlmap

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/renkei-idwsf/renkei/wsf/dst"
)

// value converts what the driver returned for a column to what the engine
// expects for a field of type t: a string, int64, float64, bool, time.Time
// or nil. Numbers and booleans stored as text (SQLite, PostgreSQL numeric)
// become numbers and booleans; a date or time stays as the driver gave it,
// text or time.Time, for the engine to render. A value that does not read
// as its type is left as it is, for the engine to judge.
func value(t dst.FieldType, v any) any {
	if b, ok := v.([]byte); ok {
		v = string(b)
	}
	switch t {
	case dst.Integer:
		switch x := v.(type) {
		case float64:
			if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
				return int64(x)
			}
		case string:
			if n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64); err == nil {
				return n
			}
		}
	case dst.Decimal:
		switch x := v.(type) {
		case int64:
			return float64(x)
		case string:
			if f, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil {
				return f
			}
		}
	case dst.Boolean:
		switch x := v.(type) {
		case int64:
			return x != 0
		case string:
			if b, err := strconv.ParseBool(strings.TrimSpace(x)); err == nil {
				return b
			}
		}
	case dst.String:
		return text(v)
	}
	return v
}

// text renders a column value as a string, as an identifier or a String
// field needs it; nil stays nil.
func text(v any) any {
	switch x := v.(type) {
	case []byte:
		return string(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	}
	return v
}

// timeLayouts are the text forms of a modification time the adapter reads:
// those SQLite's date functions write and understand, with or without a
// zone. A time without a zone is UTC.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04Z07:00",
	"2006-01-02 15:04Z07:00",
	"2006-01-02T15:04",
	"2006-01-02 15:04",
	"2006-01-02",
}

// modTime reads a modification time column.
func modTime(v any) (time.Time, error) {
	switch x := v.(type) {
	case nil:
		return time.Time{}, nil
	case time.Time:
		return x, nil
	case []byte:
		v = string(x)
	}
	s, ok := v.(string)
	if !ok {
		return time.Time{}, fmt.Errorf("modification time of type %T: use a date and time column or ISO 8601 text", v)
	}
	s = strings.TrimSpace(s)
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("modification time %q is not ISO 8601", s)
}
