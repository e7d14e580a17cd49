package archtest

import (
	"slices"
	"strings"
)

// reach maps every import path a package depends on to the path that
// imports it on a shortest chain from the package; the package itself maps
// to "". Chains run through in-module packages only: a third-party or
// standard package is reached, never walked into.
type reach map[string]string

// closure returns the reach of the in-module package at import path start,
// walking index (packages by import path) breadth first, imports in sorted
// order, so that every chain is a shortest one and the same on every run.
func closure(start string, index map[string]*Package) reach {
	r := reach{start: ""}
	queue := []string{start}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		p := index[cur]
		if p == nil {
			continue
		}
		for _, imp := range sortedKeys(p.Imports) {
			if _, seen := r[imp]; !seen {
				r[imp] = cur
				queue = append(queue, imp)
			}
		}
	}
	return r
}

// direct returns the reach of p's own imports only.
func direct(p *Package) reach {
	self := importPath(p.Dir)
	r := reach{self: ""}
	for imp := range p.Imports { // Go refuses a package importing itself
		r[imp] = self
	}
	return r
}

// chain returns the import paths from the start of r to imp, both included.
func (r reach) chain(imp string) []string {
	var c []string
	for cur := imp; cur != ""; cur = r[cur] {
		c = append(c, cur)
	}
	slices.Reverse(c)
	return c
}

// reached returns what r reaches, sorted, without its start.
func (r reach) reached() []string {
	var out []string
	for imp, from := range r {
		if from != "" {
			out = append(out, imp)
		}
	}
	slices.Sort(out)
	return out
}

// showChain writes a chain as "a -> b -> c", in-module packages by their
// directory ("." for the root), others by import path.
func showChain(c []string) string {
	parts := make([]string, len(c))
	for i, imp := range c {
		parts[i] = show(imp)
	}
	return strings.Join(parts, " -> ")
}

// show names an import path as a chain does.
func show(imp string) string {
	if imp == Module {
		return "."
	}
	if rel, ok := strings.CutPrefix(imp, Module+"/"); ok {
		return rel
	}
	return imp
}

// importPath returns the import path of the module directory dir.
func importPath(dir string) string {
	if dir == "" {
		return Module
	}
	return Module + "/" + dir
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
