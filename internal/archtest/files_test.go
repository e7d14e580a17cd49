package archtest

import "testing"

const whyAdapter = "engines are typed: only their HTTP adapters, files named *_http.go, touch HTTP, routers or templates"

// filePkg builds a synthetic package from its files and their imports.
func filePkg(dir string, files map[string][]string) Package {
	p := Package{Dir: dir, Imports: map[string]bool{}, Files: files}
	for _, imps := range files {
		for _, imp := range imps {
			p.Imports[imp] = true
		}
	}
	return p
}

// TestHTTPOnlyInAdapterFiles proves that the engines' HTTP rule is checked
// file by file, and only in the engines.
func TestHTTPOnlyInAdapterFiles(t *testing.T) {
	httpx := importPath("internal/httpx")
	runCases(t, Architecture, []checkCase{
		{"fail/status-constant-outside-adapter", []Package{filePkg("idp", map[string][]string{
			"errors.go": {"errors", "net/http"}, "sso_http.go": {"net/http", "html/template"},
		})}, []string{"idp/errors.go -> net/http: " + whyAdapter}},
		{"fail/template-in-engine-subpackage", []Package{filePkg("wsc/portal", map[string][]string{
			"page.go": {"html/template"},
		})}, []string{"wsc/portal/page.go -> html/template: " + whyAdapter}},
		{"fail/router-and-client-outside-adapter", []Package{filePkg("wsp", map[string][]string{
			"routes.go": {httpx}, "call.go": {"net/http/httputil"},
		})}, []string{"wsp/call.go -> net/http/httputil: " + whyAdapter, "wsp/routes.go -> internal/httpx: " + whyAdapter}},
		{"fail/http-in-name-is-not-enough", []Package{filePkg("discovery", map[string][]string{
			"http.go": {"net/http"}, "query_httpx.go": {"net/http"},
		})}, []string{"discovery/http.go -> net/http: " + whyAdapter, "discovery/query_httpx.go -> net/http: " + whyAdapter}},
		{"ok/adapters", []Package{filePkg("idp", map[string][]string{
			"sso.go": {importPath("saml/binding")}, "sso_http.go": {"net/http", "html/template", httpx, "github.com/gorilla/mux"},
			"soap_client_http.go": {"net/http"},
		})}, nil},
		{"ok/not-an-engine", []Package{filePkg("conformance", map[string][]string{"report.go": {"net/http", "html/template"}})}, nil},
	})
}
