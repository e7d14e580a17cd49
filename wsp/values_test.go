package wsp

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/wsf/dst"
)

// TestLexical: each field type takes the Go values a back office returns
// for it and writes the lexical form of its XSD type; anything else is
// refused, never guessed, since the answer would otherwise fail the
// service schema at the WSC.
func TestLexical(t *testing.T) {
	jst := time.FixedZone("JST", 9*60*60)
	at := time.Date(2026, 12, 7, 9, 30, 0, 0, jst)
	type ok struct {
		in   any
		want string
	}
	for _, tc := range []struct {
		ft      dst.FieldType
		name    string
		accepts []ok
		refuses []any
	}{
		{dst.String, "string",
			[]ok{{"HbA1c", "HbA1c"}, {"", ""}, {" 佐藤 ", " 佐藤 "}, {[]byte("(-)"), "(-)"}, {int64(42), "42"}, {42, "42"},
				{1.5, "1.5"}, {float32(0.5), "0.5"}},
			[]any{true, at, nil, struct{}{}}},
		{dst.Integer, "integer",
			[]ok{{int64(120), "120"}, {120, "120"}, {int64(-3), "-3"}, {120.0, "120"}, {float32(7), "7"}, {"120", "120"},
				{" 120\n", "120"}, {"+5", "+5"}, {"-0", "-0"}, {"007", "007"}, {[]byte("17510"), "17510"}},
			[]any{1.5, "1.5", "", " ", "12a", "1e3", "1,000", math.NaN(), math.Inf(1), 1e300, true, at, nil,
				"1234567890123456789012345"}},
		{dst.Decimal, "decimal",
			[]ok{{int64(3), "3"}, {0.3, "0.3"}, {float32(0.25), "0.25"}, {1e21, "1000000000000000000000"}, {"0.3", "0.3"},
				{" .5 ", ".5"}, {"5.", "5."}, {"-1.25", "-1.25"}, {"+6", "+6"}, {[]byte("6.2"), "6.2"}},
			[]any{"0,3", "1e3", "", ".", "-", "1.2.3", math.NaN(), math.Inf(-1), true, at, nil, 1e30, "1234567890123.456789012345"}},
		{dst.Boolean, "boolean",
			[]ok{{true, "true"}, {false, "false"}, {int64(1), "true"}, {0, "false"}, {"1", "true"}, {"0", "false"},
				{"true", "true"}, {" false ", "false"}, {[]byte("1"), "true"}},
			[]any{int64(2), int64(-1), "yes", "TRUE", "", 1.0, at, nil}},
		{dst.Date, "date",
			[]ok{{time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC), "2026-12-07"}, {at, "2026-12-07"},
				{time.Date(2026, 12, 6, 23, 0, 0, 0, time.UTC).In(jst), "2026-12-07"},
				{"2026-12-07", "2026-12-07"}, {" 2026-12-07 ", "2026-12-07"}, {"2026-12-07Z", "2026-12-07Z"},
				{"2026-12-07+09:00", "2026-12-07+09:00"}, {"2024-02-29", "2024-02-29"},
				{"2026-12-07T09:30:00+09:00", "2026-12-07"}, {"2026-12-07 23:30:00-05:00", "2026-12-07"},
				{[]byte("2026-12-07"), "2026-12-07"}},
			[]any{"2026-13-45", "2026-12-32", "2026-02-29", "2026-04-31", "2026-00-10", "2026-12-00", "2026/12/07",
				"20261207", "26-12-07", "2026-12-07T09:30:00", "", int64(20261207), true, nil,
				"0000-02-29", "02026-01-01", "-0000-01-01", time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}},
		{dst.DateTime, "dateTime",
			[]ok{{at, "2026-12-07T09:30:00+09:00"}, {at.UTC(), "2026-12-07T00:30:00Z"},
				{at.Add(123456789 * time.Nanosecond), "2026-12-07T09:30:00.123456789+09:00"},
				{"2026-12-07T09:30:00+09:00", "2026-12-07T09:30:00+09:00"}, {"2026-12-07T00:30:00Z", "2026-12-07T00:30:00Z"},
				{"2026-12-07 09:30:00+09:00", "2026-12-07T09:30:00+09:00"}, {" 2026-12-07T09:30:00.5Z ", "2026-12-07T09:30:00.5Z"},
				{"2026-12-07T09:30:00", "2026-12-07T09:30:00"}, {"2026-12-07 09:30:00", "2026-12-07T09:30:00"},
				{"2026-12-07 09:30:00 ", "2026-12-07T09:30:00"}, {" 2026-12-07 09:30:00", "2026-12-07T09:30:00"},
				{[]byte("2026-12-07 09:30:00"), "2026-12-07T09:30:00"}},
			[]any{"2026-12-07", "2026-12-07T25:00:00Z", "2026-02-30T09:00:00Z", "2026-12-07T09:30", "yesterday", "",
				int64(1796606400), true, nil, "0000-01-01T00:00:00Z", "0000-01-01 00:00:00"}},
		{dst.GYearMonth, "gYearMonth",
			[]ok{{"2026-11", "2026-11"}, {" 2026-11 ", "2026-11"}, {"12026-11", "12026-11"}, {"-0044-03", "-0044-03"}, {"2026-11+09:00", "2026-11+09:00"}, {"2026-01Z", "2026-01Z"},
				{[]byte("2026-12"), "2026-12"}},
			[]any{"2026-13", "2026-00", "2026-1", "202611", "2026/11", "2026-11-01", "", int64(202611), nil,
				"0000-05", "02026-05", "-0000-05"}},
	} {
		for _, c := range tc.accepts {
			t.Run(fmt.Sprintf("ok/%s/%T %q", tc.name, c.in, fmt.Sprint(c.in)), func(t *testing.T) {
				got, err := lexical(tc.ft, c.in)
				if err != nil || got != c.want {
					t.Fatalf("lexical(%s, %T %#v) = %q, %v; want %q", tc.name, c.in, c.in, got, err, c.want)
				}
			})
		}
		for _, in := range tc.refuses {
			t.Run(fmt.Sprintf("fail/%s/%T %q", tc.name, in, fmt.Sprint(in)), func(t *testing.T) {
				if got, err := lexical(tc.ft, in); err == nil {
					t.Fatalf("lexical(%s, %T %#v) = %q; want an error", tc.name, in, in, got)
				}
			})
		}
	}
	if _, err := lexical(dst.FieldType(0), "x"); err == nil {
		t.Error("a field type the catalog does not have takes a value")
	}
}

// TestItemOf: a record becomes an item of its type, fields in catalog
// order, absent optional fields left out; a required field missing or a
// value not of its type fails the record.
func TestItemOf(t *testing.T) {
	lab := dst.Lookup(dst.Clinical).Item("LabResult")
	mod := time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC)
	r := Record{ID: "r5", Modified: mod, Values: map[string]any{"Department": "内科", "Value": "5.9", "Name": "HbA1c",
		"Code": "3D045000001906202", "Date": "2026-12-01 09:00:00+09:00", "Low": 4.6, "High": nil, "Extra": "ignored"}}
	it, err := itemOf(lab, r)
	if err != nil {
		t.Fatal(err)
	}
	want := dst.Item{Type: "LabResult", ID: "r5", Modified: mod, Values: []dst.Value{{Name: "Date", Text: "2026-12-01T09:00:00+09:00"},
		{Name: "Code", Text: "3D045000001906202"}, {Name: "Name", Text: "HbA1c"}, {Name: "Value", Text: "5.9"},
		{Name: "Low", Text: "4.6"}, {Name: "Department", Text: "内科"}}}
	if fmt.Sprint(it) != fmt.Sprint(want) {
		t.Errorf("itemOf = %+v, want %+v", it, want)
	}
	delete(r.Values, "Name")
	if _, err := itemOf(lab, r); err == nil {
		t.Error("a record without its required Name became an item")
	}
	r.Values["Name"], r.Values["Low"] = "HbA1c", "low"
	if _, err := itemOf(lab, r); err == nil {
		t.Error("a record whose Low is not a decimal became an item")
	}
	r.Values["Low"] = 4.6
	for _, bad := range []string{"Hb\x01A1c", "Hb\xffA1c", "Hb\uFFFEA1c"} {
		r.Values["Name"] = bad
		if _, err := itemOf(lab, r); err == nil {
			t.Errorf("a record whose Name is %q, which XML cannot carry, became an item", bad)
		}
	}
	r.Values["Name"], r.ID = "HbA1c\tx\uFFFD", "r\x00"
	if _, err := itemOf(lab, r); err == nil {
		t.Error("a record whose ID holds NUL became an item")
	}
	r.ID = "r5"
	if _, err := itemOf(lab, r); err != nil {
		t.Errorf("tab and U+FFFD are XML characters: %v", err)
	}
}
