package archtest

import "strings"

// Known lists the violations the tree has today, each chain (the part of a
// violation before ": ") with the fix it waits for. The tree test passes over
// them and fails on any other violation, and also on an entry that no longer
// happens: whoever fixes one deletes its line, so the list only shrinks. It
// is empty: a new rule lands with the tree fixed, not with an entry here.
var Known = map[string]string{}

// Triage splits violations into the fresh ones, whose chain known does not
// list, and returns beside them the chains of known that no violation has.
func Triage(violations []string, known map[string]string) (fresh, stale []string) {
	seen := map[string]bool{}
	for _, v := range violations {
		chain, _, _ := strings.Cut(v, ": ")
		if _, ok := known[chain]; ok {
			seen[chain] = true
			continue
		}
		fresh = append(fresh, v)
	}
	for _, chain := range sortedKeys(known) {
		if !seen[chain] {
			stale = append(stale, chain)
		}
	}
	return fresh, stale
}
