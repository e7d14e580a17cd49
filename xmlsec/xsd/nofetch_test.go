//go:build cgo

package xsd

import (
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"sync/atomic"
	"testing"
)

// extraSchema declares a root element that the embedded set does not
// know: if libxml2 ever loaded it from a hint, the document would validate.
const extraSchema = `<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:renkei:test:extra">` +
	`<xs:element name="Extra"/></xs:schema>`

// TestNoFetch offers libxml2 every way a document could make it load
// something (xsi:schemaLocation, xsi:noNamespaceSchemaLocation, XInclude)
// pointing at a loopback HTTP server and at a local file: nothing is
// requested, and the hints do not change the verdict.
func TestNoFetch(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		_, _ = w.Write([]byte(extraSchema))
	}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.Listener = ln
	srv.Start()
	defer srv.Close()
	file := filepath.Join(t.TempDir(), "extra.xsd")
	if err := os.WriteFile(file, []byte(extraSchema), 0o600); err != nil {
		t.Fatal(err)
	}
	locs := []struct{ name, loc string }{{"http", srv.URL + "/extra.xsd"}, {"file-url", "file://" + file}, {"path", file}}
	for _, l := range locs {
		t.Run("fail/schemaLocation-ignored/"+l.name, func(t *testing.T) { checkHintIgnored(t, l.loc) })
		t.Run("ok/xinclude-not-processed/"+l.name, func(t *testing.T) { checkXIncludeIgnored(t, l.loc) })
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the loopback server got %d requests", n)
	}
}

func checkHintIgnored(t *testing.T, loc string) {
	doc := `<x:Extra xmlns:x="urn:renkei:test:extra" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"` +
		` xsi:schemaLocation="urn:renkei:test:extra ` + loc + `" xsi:noNamespaceSchemaLocation="` + loc + `"/>`
	want := []string{"Element '{urn:renkei:test:extra}Extra': No matching global declaration available for the validation root."}
	for name, validate := range map[string]func([]byte) error{"Validate": mustDefault(t).Validate, "ValidateParsed": mustDefault(t).ValidateParsed} {
		if got := messages(t, validate([]byte(doc))); !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: messages %q, want %q", name, got, want)
		}
	}
}

// checkXIncludeIgnored puts an xi:include where the SOAP Body takes any
// element laxly: valid as it stands, and never expanded.
func checkXIncludeIgnored(t *testing.T, loc string) {
	doc := soapOpen + `<S:Body><xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="` + loc + `" parse="xml"/></S:Body></S:Envelope>`
	if err := mustDefault(t).Validate([]byte(doc)); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if err := mustDefault(t).ValidateParsed([]byte(doc)); err != nil {
		t.Fatalf("ValidateParsed: %v", err)
	}
}
