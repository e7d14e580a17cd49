package httpjson

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/renkei-idwsf/renkei/wsp"
)

// decode parses a JSON answer, numbers kept as json.Number.
func decode(body []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("data after the JSON value")
	}
	return v, nil
}

// lookup returns the value at the dotted path key in v, "." being v.
func lookup(v any, key string) (any, bool) {
	if key == "." {
		return v, true
	}
	for _, part := range strings.Split(key, ".") {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = obj[part]; !ok {
			return nil, false
		}
	}
	return v, true
}

// list returns the array of records at it.List in an answer.
func (it *Item) list(answer any) ([]map[string]any, error) {
	v, ok := lookup(answer, it.List)
	arr, isArr := v.([]any)
	if !ok || !isArr {
		return nil, fmt.Errorf("no array at %q", it.List)
	}
	out := make([]map[string]any, len(arr))
	for i, e := range arr {
		if out[i], ok = e.(map[string]any); !ok {
			return nil, fmt.Errorf("%s[%d] is not an object", it.List, i)
		}
	}
	return out, nil
}

// object returns the object at key in an answer.
func object(answer any, key string) (map[string]any, error) {
	v, ok := lookup(answer, key)
	obj, isObj := v.(map[string]any)
	if !ok || !isObj {
		return nil, fmt.Errorf("no object at %q", key)
	}
	return obj, nil
}

// total returns the count of records at it.Total in an answer.
func (it *Item) total(answer any) (int, error) {
	v, _ := lookup(answer, it.Total)
	n, ok := v.(json.Number)
	if !ok {
		return 0, fmt.Errorf("no number at %q", it.Total)
	}
	t, err := strconv.Atoi(n.String())
	if err != nil || t < 0 {
		return 0, fmt.Errorf("total %s is not a count", n)
	}
	return t, nil
}

// record converts one JSON object into a Record of the item type.
func (it *Item) record(obj map[string]any) (wsp.Record, error) {
	var r wsp.Record
	if it.ID != "" {
		v, _ := lookup(obj, it.ID)
		switch id := v.(type) {
		case string:
			r.ID = id
		case json.Number:
			r.ID = id.String()
		}
		if r.ID == "" {
			return r, fmt.Errorf("no identifier at %q", it.ID)
		}
	}
	if it.Modified != "" {
		if v, _ := lookup(obj, it.Modified); v != nil {
			s, _ := v.(string)
			t, err := time.Parse(time.RFC3339, s)
			if err != nil {
				return r, fmt.Errorf("modified %v is not an RFC 3339 time", v)
			}
			r.Modified = t
		}
	}
	r.Values = make(map[string]any, len(it.Fields))
	for field, key := range it.Fields {
		v, _ := lookup(obj, key)
		val, err := value(v)
		if err != nil {
			return r, fmt.Errorf("%s (%q): %w", field, key, err)
		}
		r.Values[field] = val
	}
	return r, nil
}

// value converts a decoded JSON value to a Record value: strings and
// bools as they are, numbers to int64 when integral and float64
// otherwise, null to nil.
func value(v any) (any, error) {
	switch v := v.(type) {
	case nil, string, bool:
		return v, nil
	case json.Number:
		if n, err := strconv.ParseInt(v.String(), 10, 64); err == nil {
			return n, nil
		}
		f, err := strconv.ParseFloat(v.String(), 64)
		if err != nil {
			return nil, fmt.Errorf("number %s out of range", v)
		}
		if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
			return int64(f), nil
		}
		return f, nil
	}
	return nil, fmt.Errorf("a JSON %T is no field value", v)
}

// matches reports whether record r passes a lookup's conditions the
// back office did not apply: its identifier, a field's value, a change
// after since.
func matches(r wsp.Record, l wsp.Lookup, since bool) bool {
	if l.ID != "" && r.ID != l.ID {
		return false
	}
	if l.Field != "" && format(r.Values[l.Field]) != l.Value {
		return false
	}
	return !since || l.ChangedSince.IsZero() || r.Modified.After(l.ChangedSince)
}

// format writes a Record value as the lexical form a Select compares.
func format(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	}
	return fmt.Sprint(v)
}
