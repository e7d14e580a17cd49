// Package archtest enforces the direction of dependencies that
// ARCHITECTURE.md draws, as Go's own go/build/deps_test.go does: a table of
// rules checked against the imports of every non-test file in the module.
package archtest

import (
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Module is the module path the rules are written against.
const Module = "github.com/renkei-idwsf/renkei"

// Package is one directory of the module with the imports of its non-test
// files and whether any of them uses cgo.
type Package struct {
	Dir     string // slash path relative to the module root, "" for the root
	Imports map[string]bool
	Cgo     bool
}

// Rule forbids packages under From (a slash path prefix, matched on whole
// segments) to import anything matching one of Deny, unless the importer is
// also under one of Except.
type Rule struct {
	Why    string
	From   []string
	Deny   []string // module-relative prefixes ("store") or full paths ("github.com/gorilla/mux", "html/template")
	Except []string
}

var engines = []string{"idp", "discovery", "wsp", "wsc"}

// Rules are the dependency rules of ARCHITECTURE.md "Direction of dependencies".
var Rules = []Rule{
	{Why: "the four engines never import each other", From: []string{"idp"}, Deny: []string{"discovery", "wsp", "wsc"}},
	{Why: "the four engines never import each other", From: []string{"discovery"}, Deny: []string{"idp", "wsp", "wsc"}},
	{Why: "the four engines never import each other", From: []string{"wsp"}, Deny: []string{"idp", "discovery", "wsc"}},
	{Why: "the four engines never import each other", From: []string{"wsc"}, Deny: []string{"idp", "discovery", "wsp"}},
	{Why: "the conformance suite talks to roles over HTTP/SOAP, never through the engines or storage",
		From: []string{"conformance"}, Deny: append([]string{"store", "cmd"}, engines...)},
	{Why: "wire and framework packages import no engine, storage, router or templates",
		From: []string{"saml", "wsf", "xmlsec", "card"},
		Deny: append([]string{"store", "conformance", "cmd", "github.com/gorilla/mux", "html/template", "text/template"}, engines...)},
	{Why: "xmlsec is the ground floor", From: []string{"xmlsec"}, Deny: []string{"saml", "wsf", "card"}},
	{Why: "saml and wsf are separate wire layers over xmlsec", From: []string{"saml"}, Deny: []string{"wsf"}},
	{Why: "store keeps XML as bytes: no wire package, no XML tree",
		From: []string{"store"},
		Deny: append([]string{"saml", "wsf", "xmlsec", "card", "conformance", "cmd", "github.com/beevik/etree"}, engines...)},
	{Why: "libxml2 stays behind xmlsec/xsd", From: []string{""}, Deny: []string{"github.com/lestrrat-go/libxml2"}, Except: []string{"xmlsec/xsd"}},
	{Why: "PC/SC stays behind card/", From: []string{""}, Deny: []string{"github.com/ebfe/scard"}, Except: []string{"card"}},
	{Why: "test-only peers live in a nested module", From: []string{""}, Deny: []string{"github.com/crewjam/saml"}},
	{Why: "nothing but binaries imports cmd/", From: []string{""}, Deny: []string{"cmd"}, Except: []string{"cmd"}},
}

// CgoAllowed lists the only directories whose own files may use cgo.
var CgoAllowed = []string{"xmlsec", "card"}

// under reports whether slash path p is prefix or below it ("" holds all).
func under(p, prefix string) bool {
	return prefix == "" || p == prefix || strings.HasPrefix(p, prefix+"/")
}

func underAny(p string, prefixes []string) bool {
	for _, x := range prefixes {
		if under(p, x) {
			return true
		}
	}
	return false
}

// denied reports whether import path imp matches deny, which is either a
// module-relative prefix or a full import path prefix.
func denied(imp, deny string) bool {
	if strings.Contains(deny, ".") || !strings.Contains(imp, ".") && !strings.HasPrefix(imp, Module) {
		return under(imp, deny)
	}
	rel, ok := strings.CutPrefix(imp, Module+"/")
	return ok && under(rel, deny)
}

// Check returns one line per violation, sorted.
func Check(pkgs []Package, rules []Rule, cgoAllowed []string) []string {
	var bad []string
	for _, p := range pkgs {
		if p.Cgo && !underAny(p.Dir, cgoAllowed) {
			bad = append(bad, fmt.Sprintf("%s: uses cgo; only %v may", p.Dir, cgoAllowed))
		}
		for _, r := range rules {
			if !underAny(p.Dir, r.From) || underAny(p.Dir, r.Except) {
				continue
			}
			for imp := range p.Imports {
				for _, d := range r.Deny {
					if denied(imp, d) {
						bad = append(bad, fmt.Sprintf("%s imports %s: %s", p.Dir, imp, r.Why))
					}
				}
			}
		}
	}
	sort.Strings(bad)
	return bad
}

// Load reads the imports of every non-test Go file under root, skipping
// testdata, hidden directories and nested modules.
func Load(root string) ([]Package, error) {
	byDir := map[string]*Package{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return skipDir(root, p, d.Name())
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		return addFile(root, p, byDir)
	})
	var out []Package
	for _, p := range byDir {
		out = append(out, *p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Dir < out[j].Dir })
	return out, err
}

func skipDir(root, p, name string) error {
	if p == root {
		return nil
	}
	if name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
		return filepath.SkipDir
	}
	if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil {
		return filepath.SkipDir
	}
	return nil
}

func addFile(root, p string, byDir map[string]*Package) error {
	f, err := parser.ParseFile(token.NewFileSet(), p, nil, parser.ImportsOnly)
	if err != nil {
		return err
	}
	rel, err := filepath.Rel(root, filepath.Dir(p))
	if err != nil {
		return err
	}
	dir := path.Clean(filepath.ToSlash(rel))
	if dir == "." {
		dir = ""
	}
	pkg := byDir[dir]
	if pkg == nil {
		pkg = &Package{Dir: dir, Imports: map[string]bool{}}
		byDir[dir] = pkg
	}
	for _, spec := range f.Imports {
		imp, err := strconv.Unquote(spec.Path.Value)
		if err != nil {
			return err
		}
		if imp == "C" {
			pkg.Cgo = true
			continue
		}
		pkg.Imports[imp] = true
	}
	return nil
}
