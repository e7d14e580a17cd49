package httpjson_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/wsf/dst"
	"github.com/renkei-idwsf/renkei/wsp/httpjson"
	"github.com/renkei-idwsf/renkei/wsp/sample"
)

func TestLoadSampleMapping(t *testing.T) {
	m, err := httpjson.Load(filepath.Join(sampleDir, sample.PensionMapping))
	if err != nil {
		t.Fatal(err)
	}
	c := m.Services[dst.Pension].Items["Contribution"]
	if m.Base != sample.DefaultPensionBase || m.Timeout != 2*time.Second || c.MaxLimit != 200 || c.ItemPath == "" {
		t.Errorf("%+v %+v", m, c)
	}
}

func TestParseDefaults(t *testing.T) {
	m, err := httpjson.Parse([]byte(`{"base": "https://pension.example.org/api/", "services": {
	  "urn:renkei:svc:pension:1.0": {"subject": "/p/{subject}", "items": {
	    "Contribution": {"path": "/p/{subject}/c", "list": "data.rows", "id": "no", "limit": "n", "offset": "o",
	      "filters": {"Kind": "k", "Status": "s"}, "fields": {"Month": "ym", "Kind": "k", "Status": "s"}}}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if c := m.Services[dst.Pension].Items["Contribution"]; m.Timeout != httpjson.DefaultTimeout || c.MaxLimit != httpjson.DefaultMaxLimit {
		t.Errorf("timeout %v maxLimit %d", m.Timeout, c.MaxLimit)
	}
}

// TestParseReportsEveryProblem: one file with many mistakes fails with
// every one of them, each named by where it is.
func TestParseReportsEveryProblem(t *testing.T) {
	_, err := httpjson.Parse([]byte(`{"base": "ftp://pension.example.org", "timeout": "-1s", "services": {
	  "urn:renkei:svc:nothing:1.0": {"subject": "/x/{subject}", "items": {}},
	  "urn:renkei:svc:pension:1.0": {"subject": "/persons", "items": {
	    "Bogus": {"path": "/b", "object": "."},
	    "Contribution": {"path": "persons/{subject}", "item": "/persons/{subject}/c/{key}", "list": "items",
	      "limit": "limit", "filters": {"Kind": "kind", "Amount": "amount"},
	      "fields": {"Kind": "kind", "Colour": "colour", "Amount": "a..b"}},
	    "Summary": {"path": "/persons/{subject}", "list": "a", "object": "b", "fields": {"Months": "months"}}}}}}`))
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		`base: "ftp://pension.example.org" is not an absolute http or https URL`,
		`timeout: -1s is not positive`,
		`services["urn:renkei:svc:nothing:1.0"]: no such service type`,
		`services["urn:renkei:svc:pension:1.0"]: subject: "/persons" lacks {subject}`,
		`items["Bogus"]: no such item type`,
		`items["Contribution"]: path: "persons/{subject}" is not a path`,
		`items["Contribution"]: fields["Colour"]: no such field`,
		`items["Contribution"]: fields: required field Month unmapped`,
		`items["Contribution"]: fields["Amount"]: "a..b" has an empty part`,
		`items["Contribution"]: id: a list needs`,
		`items["Contribution"]: limit and offset: give both or neither`,
		`items["Contribution"]: item: unknown placeholder {key}`,
		`items["Contribution"]: item: "/persons/{subject}/c/{key}" lacks {id}`,
		`items["Contribution"]: filters["Amount"]: Contribution has no such filter field`,
		`items["Contribution"]: filters: the catalog's filter field Status unmapped`,
		`items["Summary"]: give one of list and object`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("no %q in\n%v", want, err)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	for name, doc := range map[string]string{
		"unknown key":  `{"base": "http://127.0.0.1:1", "writes": [], "services": {}}`,
		"no services":  `{"base": "http://127.0.0.1:1", "services": {}}`,
		"object paged": `{"base": "http://127.0.0.1:1", "services": {"urn:renkei:svc:pension:1.0": {"subject": "/{subject}", "items": {"Summary": {"path": "/{subject}", "object": ".", "limit": "l", "fields": {"Months": "m"}}}}}}`,
		"not json":     `{"base": `,
	} {
		if _, err := httpjson.Parse([]byte(doc)); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}
