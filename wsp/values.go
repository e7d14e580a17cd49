package wsp

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/renkei-idwsf/renkei/wsf/dst"
)

// itemOf renders a back-office record as an item of type t: each field in
// the catalog's order, formatted as its XSD type's lexical value. A
// required field missing, or a value that is not of its field's type, is
// an error (the mapping file or the back office is wrong; nothing is
// guessed).
func itemOf(t *dst.ItemType, r Record) (dst.Item, error) {
	it := dst.Item{Type: t.Name, ID: r.ID, Modified: r.Modified}
	if err := xmlText(r.ID); err != nil {
		return it, fmt.Errorf("record ID: %w", err)
	}
	if !r.Modified.IsZero() && !xsdYear(r.Modified) {
		return it, fmt.Errorf("record %s: modification time %v is outside the years 1 to 9999", r.ID, r.Modified)
	}
	for _, f := range t.Fields {
		v, ok := r.Values[f.Name]
		if !ok || v == nil {
			if f.Required {
				return it, fmt.Errorf("record %s lacks the required field %s", r.ID, f.Name)
			}
			continue
		}
		text, err := lexical(f.Type, v)
		if err == nil {
			err = xmlText(text)
		}
		if err != nil {
			return it, fmt.Errorf("record %s field %s: %w", r.ID, f.Name, err)
		}
		it.Values = append(it.Values, dst.Value{Name: f.Name, Text: text})
	}
	return it, nil
}

var (
	reDate       = regexp.MustCompile(`^(-?\d{4,})-(\d{2})-(\d{2})(Z|[+-]\d{2}:\d{2})?$`)
	reGYearMonth = regexp.MustCompile(`^(-?\d{4,})-(\d{2})(Z|[+-]\d{2}:\d{2})?$`)
	reInteger    = regexp.MustCompile(`^[+-]?\d+$`)
	reDecimal    = regexp.MustCompile(`^[+-]?(\d+(\.\d*)?|\.\d+)$`)
)

// lexical formats v as a lexical value of t.
func lexical(t dst.FieldType, v any) (string, error) {
	switch x := v.(type) {
	case []byte:
		v = string(x)
	case int:
		v = int64(x)
	case float32:
		v = float64(x)
	}
	switch t {
	case dst.String:
		switch x := v.(type) {
		case string:
			return x, nil
		case int64:
			return strconv.FormatInt(x, 10), nil
		case float64:
			return strconv.FormatFloat(x, 'f', -1, 64), nil
		}
	case dst.Integer:
		switch x := v.(type) {
		case int64:
			return strconv.FormatInt(x, 10), nil
		case float64:
			if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
				return strconv.FormatInt(int64(x), 10), nil
			}
		case string:
			if s := strings.TrimSpace(x); reInteger.MatchString(s) && digits(s) <= maxDigits {
				return s, nil
			}
		}
	case dst.Decimal:
		switch x := v.(type) {
		case int64:
			return strconv.FormatInt(x, 10), nil
		case float64:
			if s := strconv.FormatFloat(x, 'f', -1, 64); !math.IsInf(x, 0) && !math.IsNaN(x) && digits(s) <= maxDigits {
				return s, nil
			}
		case string:
			if s := strings.TrimSpace(x); reDecimal.MatchString(s) && digits(s) <= maxDigits {
				return s, nil
			}
		}
	case dst.Boolean:
		switch x := v.(type) {
		case bool:
			return strconv.FormatBool(x), nil
		case int64:
			if x == 0 || x == 1 {
				return strconv.FormatBool(x == 1), nil
			}
		case string:
			switch strings.TrimSpace(x) {
			case "1", "true":
				return "true", nil
			case "0", "false":
				return "false", nil
			}
		}
	case dst.Date:
		switch x := v.(type) {
		case time.Time:
			if xsdYear(x) {
				return x.Format(time.DateOnly), nil
			}
		case string:
			s := strings.TrimSpace(x)
			if m := reDate.FindStringSubmatch(s); m != nil && calendar(m[1], m[2], m[3]) {
				return s, nil
			}
			if t, err := parseDateTime(s); err == nil && xsdYear(t) {
				return t.Format(time.DateOnly), nil
			}
		}
	case dst.DateTime:
		switch x := v.(type) {
		case time.Time:
			if xsdYear(x) {
				return x.Format(time.RFC3339Nano), nil
			}
		case string:
			if t, err := parseDateTime(strings.TrimSpace(x)); err == nil && xsdYear(t) {
				return t.Format(time.RFC3339Nano), nil
			}
			if s := strings.Replace(strings.TrimSpace(x), " ", "T", 1); localDateTime(s) {
				return s, nil // no zone: kept as the back office wrote it
			}
		}
	case dst.GYearMonth:
		if s, ok := v.(string); ok {
			s = strings.TrimSpace(s)
			if m := reGYearMonth.FindStringSubmatch(s); m != nil && calendar(m[1], m[2], "01") {
				return s, nil
			}
		}
	}
	return "", fmt.Errorf("%T %v is not a value of the field's type", v, v)
}

// xmlText refuses a string XML 1.0 cannot carry (§2.2 Char: no C0
// control but tab, LF and CR, no U+FFFE or U+FFFF), or that is not UTF-8
// (which is also how a surrogate, never valid UTF-8, shows): written out,
// it would make the whole answer malformed.
func xmlText(s string) error {
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
			return fmt.Errorf("byte %d is not UTF-8", i)
		case r < 0x20 && r != '\t' && r != '\n' && r != '\r', r == 0xFFFE, r == 0xFFFF:
			return fmt.Errorf("character U+%04X at byte %d is not an XML character", r, i)
		}
	}
	return nil
}

// calendar reports whether year, month and day (the digits of an
// xs:date) name a day of the proleptic Gregorian calendar: the schemas
// refuse 2026-13 and 2026-02-30 although they have the pattern's shape.
func calendar(year, month, day string) bool {
	if !lexicalYear(year) {
		return false
	}
	y, err := strconv.Atoi(year)
	m, _ := strconv.Atoi(month)
	d, _ := strconv.Atoi(day)
	if err != nil || m < 1 || m > 12 || d < 1 {
		return false
	}
	return d <= time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// parseDateTime reads a date-time with a zone, in RFC 3339 or SQL style
// ("2026-03-14 09:30:00+09:00").
func parseDateTime(s string) (time.Time, error) {
	s = strings.Replace(s, " ", "T", 1)
	return time.Parse(time.RFC3339Nano, s)
}

func localDateTime(s string) bool {
	t, err := time.Parse("2006-01-02T15:04:05", s)
	return err == nil && xsdYear(t)
}

// maxDigits is the most digits an xs:decimal or xs:integer value may have
// here: the XSD allows more, but libxml2, which the peers validate with
// (Lasso, ZXID, xmlsec1), refuses values of more than 24 digits.
const maxDigits = 24

// digits counts the decimal digits of s.
func digits(s string) int {
	n := 0
	for _, c := range s {
		if c >= '0' && c <= '9' {
			n++
		}
	}
	return n
}

// lexicalYear reports whether y is a year of the XSD 1.0 date types: four
// digits, or more without a leading zero, optionally negative, and not
// year zero (XSD 1.0 has none).
func lexicalYear(y string) bool {
	y = strings.TrimPrefix(y, "-")
	if len(y) > 4 && y[0] == '0' {
		return false // the callers' patterns have matched at least four digits
	}
	return strings.Trim(y, "0") != ""
}

// xsdYear reports whether t's year is one Go formats as an XSD 1.0 year:
// 1 to 9999 (year 0 would be written 0000, which XSD 1.0 refuses).
func xsdYear(t time.Time) bool { return t.Year() >= 1 && t.Year() <= 9999 }
