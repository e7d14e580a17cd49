package audit_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/renkei-idwsf/renkei/wsf/audit"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// FuzzDecode reads arbitrary bytes as a Query and as a QueryResponse: a
// refusal is an error of the xmlsec kinds, never a panic, and what is
// accepted renders to a message that reads back the same.
func FuzzDecode(f *testing.F) {
	q, err := xmlsec.Serialize(sampleQuery().Element())
	if err != nil {
		f.Fatal(err)
	}
	r, err := xmlsec.Serialize(sampleResponse().Element())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(q)
	f.Add(r)
	f.Fuzz(func(t *testing.T, b []byte) {
		el, err := xmlsec.ParseElement(b, xmlsec.Limits{MaxBytes: 64 << 10})
		if err != nil {
			return
		}
		if q, err := audit.DecodeQuery(el); err == nil {
			back, err := audit.DecodeQuery(reparse(t, q.Element()))
			if err != nil || !reflect.DeepEqual(back.Items, q.Items) && len(q.Items) > 0 {
				t.Fatalf("query %+v reads back as %+v, %v", q, back, err)
			}
		} else if !isXMLSec(err) {
			t.Fatalf("query refused with %T %v", err, err)
		}
		if r, err := audit.DecodeQueryResponse(el); err == nil {
			if _, err := audit.DecodeQueryResponse(reparse(t, r.Element())); err != nil {
				t.Fatalf("response %+v does not read back: %v", r, err)
			}
		} else if !isXMLSec(err) {
			t.Fatalf("response refused with %T %v", err, err)
		}
	})
}

func isXMLSec(err error) bool {
	var e *xmlsec.Error
	return errors.As(err, &e)
}
