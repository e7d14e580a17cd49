package httpjson

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/wsf/dst"
	"github.com/renkei-idwsf/renkei/wsp"
)

// FuzzAnswer feeds a back office's answer (network bytes) through what the
// adapter does with one: decode, the list or the object, the total, and
// each record with its values. It must never panic, and whatever it
// accepts must be of the types the engine takes.
func FuzzAnswer(f *testing.F) {
	data, err := os.ReadFile(filepath.Join("..", "sample", "mappings", "pension-mapping.json"))
	if err != nil {
		f.Fatal(err)
	}
	m, err := Parse(data)
	if err != nil {
		f.Fatal(err)
	}
	items := m.Services[dst.Pension].Items
	for _, seed := range []string{
		`{"items":[{"id":"c1","month":"2025-04","kind":"national","amount":17510,"status":"paid","updated_at":"2026-06-01T00:00:00Z"}],"total":1}`,
		`{"items":[],"total":0}`,
		`{"number":"1234-567890","summary":{"months":480,"paid_months":470,"exempt_months":10,"expected_annual":795000,"pension_age":65}}`,
		`{"items":[{"id":1e400,"month":null,"amount":1.5}],"total":"x"}`,
		`{"items":{"id":"c1"}}`, `[]`, `null`, `{"a":1} {"b":2}`, `{"items":[{"updated_at":"yesterday"}]}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		answer, err := decode(body)
		if err != nil {
			return
		}
		for _, it := range items {
			var objs []map[string]any
			if it.Object != "" {
				o, err := object(answer, it.Object)
				if err != nil {
					continue
				}
				objs = []map[string]any{o}
			} else {
				if objs, err = it.list(answer); err != nil {
					continue
				}
				if it.Total != "" {
					_, _ = it.total(answer)
				}
			}
			for _, o := range objs {
				r, err := it.record(o)
				if err != nil {
					continue
				}
				checkRecord(t, r)
			}
		}
	})
}

func checkRecord(t *testing.T, r wsp.Record) {
	for k, v := range r.Values {
		switch v.(type) {
		case nil, string, int64, float64, bool, time.Time:
		default:
			t.Fatalf("field %s holds a %T", k, v)
		}
	}
}
