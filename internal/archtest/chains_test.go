package archtest

import (
	"slices"
	"strings"
	"testing"
)

// pkg builds a synthetic package: imports starting with "./" are
// module-relative ("./store"), the others are full import paths.
func pkg(dir string, imports ...string) Package {
	p := Package{Dir: dir, Imports: map[string]bool{}}
	for _, imp := range imports {
		if rel, ok := strings.CutPrefix(imp, "./"); ok {
			imp = importPath(rel)
		}
		p.Imports[imp] = true
	}
	return p
}

// checkCase is one synthetic tree and the exact violations it must give.
type checkCase struct {
	name string
	pkgs []Package
	want []string
}

func runCases(t *testing.T, policy Policy, cases []checkCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Check(c.pkgs, policy)
			if !slices.Equal(got, c.want) {
				t.Fatalf("violations:\n\t%s\nwant:\n\t%s", strings.Join(got, "\n\t"), strings.Join(c.want, "\n\t"))
			}
		})
	}
}

const (
	whyWire  = "wire and framework packages import no engine, storage, router or templates"
	whyLayer = "saml and wsf are separate wire layers over xmlsec"
)

// TestChainsAreFollowed proves that rules see through intermediate packages
// and name the chain that breaks them.
func TestChainsAreFollowed(t *testing.T) {
	runCases(t, Architecture, []checkCase{
		{"fail/wire-reaches-store-through-internal", []Package{
			pkg("saml", "./internal/kinderr"), pkg("internal/kinderr", "./store"), pkg("store"),
		}, []string{"saml -> internal/kinderr -> store: " + whyWire}},
		{"fail/every-package-above-is-named", []Package{
			pkg("wsf", "./saml"), pkg("saml", "./store/sqlstore"), pkg("store/sqlstore"),
		}, []string{"saml -> store/sqlstore: " + whyWire, "wsf -> saml -> store/sqlstore: " + whyWire}},
		{"fail/third-party-reached-through-internal", []Package{
			pkg("wsf/server", "./internal/httpx"), pkg("internal/httpx", "github.com/gorilla/mux", "net/http"),
		}, []string{"wsf/server -> internal/httpx -> github.com/gorilla/mux: " + whyWire}},
		{"fail/shortest-chain-is-shown", []Package{
			pkg("saml", "./internal/a", "./internal/b"), pkg("internal/a", "./internal/c"),
			pkg("internal/c", "./wsf"), pkg("internal/b", "./wsf"), pkg("wsf"),
		}, []string{"saml -> internal/b -> wsf: " + whyLayer}},
		{"ok/cycle-ends", []Package{
			pkg("saml", "./internal/a"), pkg("internal/a", "./internal/b"), pkg("internal/b", "./internal/a"),
		}, nil},
		{"ok/direct-rule-ignores-chains", []Package{
			pkg("conformance", "./xmlsec/xsd"), pkg("xmlsec/xsd", "github.com/lestrrat-go/libxml2/xsd"),
		}, nil},
		{"fail/direct-rule-sees-own-imports", []Package{
			pkg("xmlsec", "github.com/lestrrat-go/libxml2/xsd"),
		}, []string{"xmlsec -> github.com/lestrrat-go/libxml2/xsd: libxml2 stays behind xmlsec/xsd"}},
	})
}
