package sqlmap_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/renkei-idwsf/renkei/wsp"
	"github.com/renkei-idwsf/renkei/wsp/sqlmap"
)

// TestParseErrors: the loader reports every problem of a file at once,
// each naming where it is.
func TestParseErrors(t *testing.T) {
	data := mappingJSON(t, "hospital", "mysql", "x.db", func(m map[string]any) {
		m["timout"] = "2s"
		lab := itemOf(m, clinical, "LabResult")
		cols := lab["columns"].(map[string]any)
		cols["Colour"] = "colour"
		delete(cols, "Name")
		lab["query"] = "SELECT * FROM lab_results WHERE patient_no = :subjetc"
		appt := itemOf(m, appointment, "Appointment")
		appt["create"].([]any)[1].(map[string]any)["returns"] = "ID"
		appt["delete"].([]any)[0].(map[string]any)["refuse"] = "Nope"
		appt["modify"].([]any)[2].(map[string]any)["sql"] = "UPDATE bookings SET note = :Note WHERE booking_id = :id"
		appt["order"] = "starts_at; DROP TABLE slots"
		svcs := m["services"].(map[string]any)
		svcs["urn:renkei:svc:clinical:1.0"].(map[string]any)["items"].(map[string]any)["XRay"] = map[string]any{}
		svcs["urn:example:unknown"] = map[string]any{"subject": "SELECT 1"}
		slot := itemOf(m, appointment, "Slot")
		slot["delete"] = []any{map[string]any{"sql": "DELETE FROM slots WHERE slot_id = :id"}}
	})
	_, err := sqlmap.Parse(data, "")
	if err == nil {
		t.Fatal("Parse accepted a broken mapping")
	}
	msg := err.Error()
	for _, want := range []string{
		`driver "mysql": unknown`,
		`file: unknown member "timout"`,
		"service urn:renkei:svc:clinical:1.0: item LabResult: field Colour: unknown field",
		"service urn:renkei:svc:clinical:1.0: item LabResult: field Name: required",
		"service urn:renkei:svc:clinical:1.0: item LabResult: query: parameter :subjetc: unknown",
		"service urn:renkei:svc:clinical:1.0: item XRay: unknown item type",
		"service urn:example:unknown: unknown service type",
		`item Appointment: create[1]: returns "ID"`,
		"item Appointment: create: no statement returns the new record's id",
		`item Appointment: delete[0]: refuse "Nope"`,
		"item Appointment: modify[2]: parameter :Note: unknown",
		"item Appointment: order: more than one statement",
		"item Slot: delete: the service type offers no Delete of Slot",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("the error does not say %q", want)
		}
	}
	if t.Failed() || testing.Verbose() {
		t.Logf("the error:\n%s", msg)
	}

	// Syntax errors are located.
	_, err = sqlmap.Parse([]byte("{\n  \"driver\": \"sqlite\",\n  \"dsn\": \n}"), "")
	if err == nil || !strings.Contains(err.Error(), "line 4") {
		t.Errorf("syntax error: %v, want it located on line 4", err)
	}
}

// TestParseDetails: a fine mapping's defaults and what it tells the engine.
func TestParseDetails(t *testing.T) {
	m, err := sqlmap.Parse(mappingJSON(t, "clinic", sqlmap.SQLite, "clinic.db", nil), "/srv/wsp")
	if err != nil {
		t.Fatal(err)
	}
	if m.Timeout() != sqlmap.DefaultTimeout || m.Driver() != sqlmap.SQLite {
		t.Errorf("timeout %v driver %q", m.Timeout(), m.Driver())
	}
	m, err = sqlmap.Parse(mappingJSON(t, "hospital", sqlmap.Postgres, "postgres://127.0.0.1/hospital", nil), "")
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Services(); !slices.Equal(got, []string{appointment, clinical}) {
		t.Errorf("services %v", got)
	}
	if got := m.Items(appointment); !slices.Equal(got, []string{"Appointment", "Slot"}) {
		t.Errorf("appointment items %v", got)
	}
	if got := m.Writes(appointment, "Appointment"); !slices.Equal(got, []wsp.WriteOp{wsp.Create, wsp.Modify, wsp.Delete}) {
		t.Errorf("appointment writes %v", got)
	}
	if got := m.Writes(appointment, "Slot"); got != nil {
		t.Errorf("slot writes %v", got)
	}
	if m.Items("urn:renkei:svc:pension:1.0") != nil {
		t.Error("items of an unmapped service")
	}
}

// The service types of the tests.
const (
	clinical    = "urn:renkei:svc:clinical:1.0"
	appointment = "urn:renkei:svc:appointment:1.0"
)

// mappingJSON returns testdata/name.json naming driver and dsn.
func mappingJSON(t *testing.T, name, driver, dsn string, edit func(m map[string]any)) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	m["driver"], m["dsn"] = driver, dsn
	if edit != nil {
		edit(m)
	}
	data, err = json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// itemOf returns the JSON object of an item type in a mapping's JSON.
func itemOf(m map[string]any, service, item string) map[string]any {
	return m["services"].(map[string]any)[service].(map[string]any)["items"].(map[string]any)[item].(map[string]any)
}

// TestDocExample: the example mapping of the package documentation is a
// valid mapping.
func TestDocExample(t *testing.T) {
	src, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	var example []string
	in := false
	for line := range strings.SplitSeq(string(src), "\n") {
		code, ok := strings.CutPrefix(line, "//\t")
		switch {
		case ok && (in || code == "{"):
			in = true
			example = append(example, code)
		case in:
			in = false
		}
		if !in && len(example) > 0 {
			break
		}
	}
	if len(example) == 0 {
		t.Fatal("no example in doc.go")
	}
	m, err := sqlmap.Parse([]byte(strings.Join(example, "\n")), "/srv/wsp")
	if err != nil {
		t.Fatalf("the documented mapping: %v", err)
	}
	if got := m.Writes(appointment, "Appointment"); len(got) != 3 {
		t.Errorf("the documented mapping writes %v of appointments", got)
	}
}
