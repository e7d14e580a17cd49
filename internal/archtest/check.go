package archtest

import (
	"fmt"
	"sort"
	"strings"
)

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
