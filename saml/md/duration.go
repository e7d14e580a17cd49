package md

import (
	"strconv"
	"strings"
	"time"

	"github.com/renkei-idwsf/renkei/xmlsec"
)

// maxDuration bounds a cacheDuration to about a hundred years, so that
// arithmetic on it cannot overflow.
const maxDuration = 100 * 365 * 24 * time.Hour

// durationUnits are the xs:duration designators in their required order,
// with the length each stands for: a year is 365 days and a month 30, the
// approximation a cache lifetime allows.
var durationUnits = []struct {
	c    byte
	time bool
	d    time.Duration
}{
	{'Y', false, 365 * 24 * time.Hour}, {'M', false, 30 * 24 * time.Hour}, {'D', false, 24 * time.Hour},
	{'H', true, time.Hour}, {'M', true, time.Minute}, {'S', true, time.Second},
}

// ParseDuration reads an xs:duration (XML Schema Part 2 §3.2.6), such as
// the cacheDuration of metadata: PnYnMnDTnHnMnS with fractional seconds.
// A negative duration, or one longer than a hundred years, is refused with
// xmlsec.ErrMalformed.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	bad := xmlsec.Errorf(xmlsec.KindMalformed, "%q is not a non-negative xs:duration", s)
	rest, ok := strings.CutPrefix(s, "P")
	if !ok || rest == "" || strings.HasSuffix(rest, "T") {
		return 0, bad
	}
	var total time.Duration
	inTime, unit, seen := false, 0, false
	for rest != "" {
		if rest[0] == 'T' {
			if inTime {
				return 0, bad
			}
			inTime, rest = true, rest[1:]
			continue
		}
		n := strings.IndexFunc(rest, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
		if n <= 0 {
			return 0, bad
		}
		num, c := rest[:n], rest[n]
		rest = rest[n+1:]
		for unit < len(durationUnits) && (durationUnits[unit].c != c || durationUnits[unit].time != inTime) {
			unit++
		}
		if unit == len(durationUnits) || (strings.Contains(num, ".") && c != 'S') {
			return 0, bad
		}
		v, err := strconv.ParseFloat(num, 64)
		if err != nil || v*float64(durationUnits[unit].d) > float64(maxDuration) {
			return 0, bad
		}
		total += time.Duration(v * float64(durationUnits[unit].d))
		unit++
		seen = true
	}
	if !seen || total > maxDuration {
		return 0, bad
	}
	return total, nil
}

// FormatDuration writes d as an xs:duration with days, hours, minutes and
// seconds (fractions of a second only when d has them).
func FormatDuration(d time.Duration) string {
	if d <= 0 {
		return "PT0S"
	}
	var b strings.Builder
	b.WriteString("P")
	if days := d / (24 * time.Hour); days > 0 {
		b.WriteString(strconv.FormatInt(int64(days), 10) + "D")
		d -= days * 24 * time.Hour
	}
	if d == 0 {
		return b.String()
	}
	b.WriteString("T")
	for _, u := range []struct {
		d time.Duration
		c string
	}{{time.Hour, "H"}, {time.Minute, "M"}} {
		if n := d / u.d; n > 0 {
			b.WriteString(strconv.FormatInt(int64(n), 10) + u.c)
			d -= n * u.d
		}
	}
	if d > 0 {
		b.WriteString(strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "S")
	}
	return b.String()
}
