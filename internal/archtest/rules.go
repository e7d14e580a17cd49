// Package archtest enforces the direction of dependencies that
// ARCHITECTURE.md draws, as Go's own go/build/deps_test.go does: a table of
// rules checked against the whole import chains of the non-test files in the
// module, file rules checked against each file's own imports, and the
// directories allowed cgo. Test files may import anything. A new rule
// lands with the tree fixed: there is no list of tolerated violations.
package archtest

// Module is the module path the rules are written against.
const Module = "github.com/renkei-idwsf/renkei"

// Package is one directory of the module with the imports of its non-test
// files, together and file by file, and whether any of them uses cgo.
type Package struct {
	Dir     string // slash path relative to the module root, "" for the root
	Imports map[string]bool
	Files   map[string][]string // file name -> its imports
	Cgo     bool
}

// Rule forbids packages under From (a slash path prefix, matched on whole
// segments) to depend on anything matching one of Deny, unless the package
// is also under one of Except. A rule follows whole import chains through
// in-module packages (a -> b -> store breaks "a never reaches store"), and
// so sees every third-party or standard package those chains import; a
// Direct rule looks at the package's own imports only, for rules that say
// who may touch a package rather than who may depend on it ("libxml2 only
// behind xmlsec/xsd": everything above xmlsec/xsd reaches libxml2).
type Rule struct {
	Why    string
	From   []string
	Deny   []string // module-relative prefixes ("store") or full paths ("github.com/gorilla/mux", "html/template")
	Except []string
	Direct bool
}

// FileRule forbids the non-test files of packages under From to import
// anything matching one of Deny, unless the file's name ends in Adapter. It
// looks at each file's own imports: the rest of such a package reaches
// net/http anyway, through saml/binding.
type FileRule struct {
	Why     string
	From    []string
	Deny    []string
	Adapter string // suffix of the names of the files that may, "_http.go"
}

// Policy is a set of rules checked together.
type Policy struct {
	Rules      []Rule
	FileRules  []FileRule
	CgoAllowed []string // the only directories whose own files may use cgo
}

// Architecture is the policy of ARCHITECTURE.md.
var Architecture = Policy{Rules: Rules, FileRules: FileRules, CgoAllowed: CgoAllowed}

// FileRules keep HTTP at the edge of the engines (ARCHITECTURE "Engines
// take typed requests and return typed results; only HTTP adapters touch
// http.ResponseWriter"). An engine's HTTP adapters, inbound handlers and
// outbound SOAP callers alike, are the files named *_http.go, as in idp/
// (authn_http.go, sso_http.go, slo_http.go, nim_http.go, ecp_http.go).
var FileRules = []FileRule{
	{Why: "engines are typed: only their HTTP adapters, files named *_http.go, touch HTTP, routers or templates",
		From:    engines,
		Deny:    []string{"net/http", "html/template", "text/template", "github.com/gorilla/mux", "internal/httpx"},
		Adapter: "_http.go"},
}

var engines = []string{"idp", "discovery", "wsp", "wsc"}

// engineRules keeps each engine from reaching the other three. Only the
// engine directories are denied, matched on whole segments, so the wire
// packages they share stay open: the DS and every WSC import the Discovery
// wire types in wsf/disco, while wsc -> discovery is refused (and so is
// wsc -> wsf/disco -> discovery, by the chain and the wire rule).
func engineRules() []Rule {
	var rules []Rule
	for _, e := range engines {
		var others []string
		for _, o := range engines {
			if o != e {
				others = append(others, o)
			}
		}
		rules = append(rules, Rule{Why: "the four engines never import each other", From: []string{e}, Deny: others})
	}
	return rules
}

// TestKits are the packages whose non-test files serve tests only: the
// shared kit under internal/testkit and the kits of single layers, named
// like net/http/httptest. A non-test file that imports testing marks a
// test kit, and must be listed here.
var TestKits = []string{"internal/testkit", "store/storetest", "wsf/internal/wsftest"}

// Assemblies are the one wiring of each role (keys, store, metadata,
// listeners) that its binary and the demo share (ARCHITECTURE "Direction of
// dependencies": one assembly per role).
var Assemblies = []string{"internal/idpserver", "internal/dsserver", "internal/wspserver", "internal/portalserver", "internal/terminalserver"}

// Operators are the packages that do an operator's work for the demo:
// internal/fedfiles writes the files of the whole federation (the RA's
// keys and cards, the roles' configuration files, which it checks by
// building the IdP and the DS from theirs), which the binaries and the
// test kits share.
var Operators = []string{"internal/fedfiles"}

// Rules are the dependency rules of ARCHITECTURE.md "Direction of dependencies".
var Rules = append(engineRules(), []Rule{
	{Why: "the conformance suite talks to roles over HTTP/SOAP, never through the engines or storage",
		From: []string{"conformance"}, Deny: append([]string{"store", "cmd"}, engines...)},
	{Why: "wire and framework packages import no engine, storage, router or templates",
		From: []string{"saml", "wsf", "xmlsec", "card"},
		Deny: append([]string{"store", "conformance", "cmd", "github.com/gorilla/mux", "html/template", "text/template"}, engines...)},
	{Why: "the trust directory only reads metadata: no HTTP of its own, no SOAP client or server (the metadata set fetches)",
		From: []string{"wsf/metadir"}, Deny: []string{"net/http", "internal/httpx", "wsf/server", "wsf/client"}, Direct: true},
	{Why: "xmlsec is the ground floor", From: []string{"xmlsec"}, Deny: []string{"saml", "wsf", "card"}},
	{Why: "saml and wsf are separate wire layers over xmlsec", From: []string{"saml"}, Deny: []string{"wsf"}},
	{Why: "store keeps XML as bytes: no wire package, no XML tree",
		From: []string{"store"},
		Deny: append([]string{"saml", "wsf", "xmlsec", "card", "conformance", "cmd", "github.com/beevik/etree"}, engines...)},
	{Why: "libxml2 stays behind xmlsec/xsd", From: []string{""}, Deny: []string{"github.com/lestrrat-go/libxml2"}, Except: []string{"xmlsec/xsd"}, Direct: true},
	{Why: "PC/SC stays behind card/", From: []string{""}, Deny: []string{"github.com/ebfe/scard"}, Except: []string{"card"}, Direct: true},
	{Why: "SQLite through modernc.org/sqlite, pure Go: cgo only in xmlsec/xsd and card",
		From: []string{""}, Deny: []string{"github.com/mattn/go-sqlite3"}, Direct: true},
	{Why: "test-only peers live in a nested module", From: []string{""}, Deny: []string{"github.com/crewjam/saml"}, Direct: true},
	{Why: "metrics stay behind internal/obs: engines and wire packages count through wsf.Meter, the store through sqlstore.Observer",
		From: []string{""}, Deny: []string{"github.com/prometheus"}, Except: []string{"internal/obs"}, Direct: true},
	{Why: "nothing but binaries imports cmd/", From: []string{""}, Deny: []string{"cmd"}, Except: []string{"cmd"}},
	{Why: "the registration authority issues keys, certificates and CRLs and records cards in the store: " +
		"no engine, conformance, binary, XML wire package, router, template or HTTP",
		From: []string{"ra"},
		Deny: append([]string{"conformance", "cmd", "saml", "wsf", "xmlsec", "internal/httpx",
			"github.com/gorilla/mux", "net/http", "html/template", "text/template"}, engines...)},
	{Why: "only binaries run the registration authority", From: []string{""}, Deny: []string{"ra"},
		Except: append(append([]string{"cmd", "ra"}, Operators...), TestKits...)},
	{Why: "an assembly wires a role for its binary and the demo: no engine or library builds on one",
		From: []string{""}, Deny: Assemblies, Except: append(append([]string{"cmd"}, Operators...), append(Assemblies, TestKits...)...)},
	{Why: "test kits serve tests only: binaries and libraries never link them",
		From: []string{""}, Deny: TestKits, Except: TestKits},
	{Why: "a non-test file that imports testing makes a test kit: list it in TestKits",
		From: []string{""}, Deny: []string{"testing"}, Except: TestKits, Direct: true},
}...)

// CgoAllowed lists the only directories whose own files may use cgo:
// libxml2 behind xmlsec/xsd alone (the rest of xmlsec is pure Go) and PC/SC
// in card/ and below. Third-party cgo stays behind them by the libxml2 and
// PC/SC rules; SQLite is pure Go (modernc.org/sqlite).
var CgoAllowed = []string{"xmlsec/xsd", "card"}
