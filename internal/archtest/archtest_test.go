package archtest

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestModuleDependencyDirection(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	pkgs, err := Load(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) < 3 {
		t.Fatalf("loaded only %d packages from the module root: the walk is broken", len(pkgs))
	}
	for _, v := range Check(pkgs, Architecture) {
		t.Error(v)
	}
}

// TestRulesCatchViolations proves each kind of rule can fail.
func TestRulesCatchViolations(t *testing.T) {
	m := func(s string) string { return Module + "/" + s }
	cases := []struct {
		name string
		pkg  Package
		want string // substring of the single violation; "" = none
	}{
		{"fail/engine-imports-engine", Package{Dir: "idp", Imports: map[string]bool{m("discovery/relay"): true}}, "never import each other"},
		{"fail/conformance-imports-engine", Package{Dir: "conformance/idp", Imports: map[string]bool{m("idp"): true}}, "conformance"},
		{"fail/wire-imports-store", Package{Dir: "saml", Imports: map[string]bool{m("store"): true}}, "wire and framework"},
		{"fail/wire-imports-mux", Package{Dir: "wsf", Imports: map[string]bool{"github.com/gorilla/mux": true}}, "router"},
		{"fail/wire-imports-template", Package{Dir: "xmlsec/dsig", Imports: map[string]bool{"html/template": true}}, "templates"},
		{"fail/store-imports-etree", Package{Dir: "store/sqlite", Imports: map[string]bool{"github.com/beevik/etree": true}}, "store keeps XML as bytes"},
		{"fail/libxml2-outside-xsd", Package{Dir: "saml", Imports: map[string]bool{"github.com/lestrrat-go/libxml2/xsd": true}}, "libxml2"},
		{"fail/cgo-outside-allowed", Package{Dir: "store", Imports: map[string]bool{}, Cgo: true}, "cgo"},
		{"fail/crewjam-in-main-module", Package{Dir: "idp", Imports: map[string]bool{"github.com/crewjam/saml": true}}, "nested module"},
		{"fail/prometheus-outside-obs", Package{Dir: "wsf/server", Imports: map[string]bool{"github.com/prometheus/client_golang/prometheus": true}}, "internal/obs"},
		{"ok/obs-imports-prometheus", Package{Dir: "internal/obs", Imports: map[string]bool{"github.com/prometheus/client_golang/prometheus": true}}, ""},
		{"ok/idp-imports-saml", Package{Dir: "idp", Imports: map[string]bool{m("saml"): true, m("store"): true}}, ""},
		{"ok/xsd-imports-libxml2", Package{Dir: "xmlsec/xsd", Imports: map[string]bool{"github.com/lestrrat-go/libxml2": true}, Cgo: true}, ""},
		{"ok/cmd-imports-everything", Package{Dir: "cmd/renkei", Imports: map[string]bool{m("idp"): true, m("wsp"): true, m("conformance"): true}}, ""},
		{"ok/idpx-is-not-idp", Package{Dir: "wsp", Imports: map[string]bool{m("idpx"): true}}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Check([]Package{c.pkg}, Architecture)
			if c.want == "" {
				if len(got) != 0 {
					t.Fatalf("unexpected violations: %v", got)
				}
				return
			}
			if len(got) != 1 || !strings.Contains(got[0], c.want) {
				t.Fatalf("violations = %v, want one mentioning %q", got, c.want)
			}
		})
	}
}
