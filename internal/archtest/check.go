package archtest

import (
	"fmt"
	"path"
	"slices"
	"strings"
)

// under reports whether slash path p is prefix or below it ("" holds all).
func under(p, prefix string) bool {
	return prefix == "" || p == prefix || strings.HasPrefix(p, prefix+"/")
}

// underAny reports whether p is under one of prefixes.
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

// deniedAny reports whether imp matches one of deny.
func deniedAny(imp string, deny []string) bool {
	for _, d := range deny {
		if denied(imp, d) {
			return true
		}
	}
	return false
}

// Check returns one line per violation of policy in pkgs, sorted, each
// "chain: why" where chain is "a -> b -> c" from the offending package (or
// file) to what it must not reach.
func Check(pkgs []Package, policy Policy) []string {
	index := make(map[string]*Package, len(pkgs))
	for i := range pkgs {
		index[importPath(pkgs[i].Dir)] = &pkgs[i]
	}
	var bad []string
	for i := range pkgs {
		p := &pkgs[i]
		bad = append(bad, checkCgo(p, policy.CgoAllowed)...)
		all, own := closure(importPath(p.Dir), index), direct(p)
		for _, r := range policy.Rules {
			if r.Direct {
				bad = append(bad, checkRule(p, r, own)...)
			} else {
				bad = append(bad, checkRule(p, r, all)...)
			}
		}
		for _, r := range policy.FileRules {
			bad = append(bad, checkFiles(p, r)...)
		}
	}
	slices.Sort(bad)
	return slices.Compact(bad)
}

// checkRule returns the violations of r by p, whose dependencies are in r.
func checkRule(p *Package, r Rule, reached reach) []string {
	if !underAny(p.Dir, r.From) || underAny(p.Dir, r.Except) {
		return nil
	}
	var bad []string
	for _, imp := range reached.reached() {
		if deniedAny(imp, r.Deny) {
			bad = append(bad, showChain(reached.chain(imp))+": "+r.Why)
		}
	}
	return bad
}

// checkCgo returns the violation of p using cgo outside allowed.
func checkCgo(p *Package, allowed []string) []string {
	if !p.Cgo || underAny(p.Dir, allowed) {
		return nil
	}
	return []string{fmt.Sprintf("%s: uses cgo; only %v may", show(importPath(p.Dir)), allowed)}
}

// checkFiles returns the violations of r by the files of p, each named by
// its slash path in the module.
func checkFiles(p *Package, r FileRule) []string {
	if !underAny(p.Dir, r.From) {
		return nil
	}
	var bad []string
	for _, name := range sortedKeys(p.Files) {
		if strings.HasSuffix(name, r.Adapter) {
			continue
		}
		for _, imp := range p.Files[name] {
			if deniedAny(imp, r.Deny) {
				bad = append(bad, path.Join(p.Dir, name)+" -> "+show(imp)+": "+r.Why)
			}
		}
	}
	return bad
}
