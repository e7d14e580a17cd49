package chrome

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"github.com/chromedp/chromedp"
)

// module is the module whose root holds .deps.
const module = "github.com/renkei-idwsf/renkei"

// AxePath is where `make deps` puts axe-core (npm, gitignored), relative
// to the module's root.
const AxePath = ".deps/axe/node_modules/axe-core/axe.min.js"

// wcagTags are the axe-core tags Axe runs: the rules of WCAG 2.0 and 2.1
// at levels A and AA.
const wcagTags = `["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]`

// Violation is a rule a page fails, as axe-core reports it.
type Violation struct {
	ID      string   `json:"id"`
	Impact  string   `json:"impact"`
	Help    string   `json:"help"`
	HelpURL string   `json:"helpUrl"`
	Tags    []string `json:"tags"`
	// Nodes are the failing elements, each by a CSS selector.
	Nodes []string `json:"nodes"`
}

func (v Violation) String() string {
	return fmt.Sprintf("%s (%s impact): %s, at %s; %s", v.ID, v.Impact, v.Help, strings.Join(v.Nodes, " | "), v.HelpURL)
}

// Axe runs axe-core on the page with the rules of WCAG 2.0 and 2.1, levels
// A and AA (tags wcag2a, wcag2aa, wcag21a and wcag21aa), and returns what fails; a test fails on any. The
// script is injected over the DevTools protocol, so a page whose CSP
// allows no script is checked too. A missing axe-core fails the test: it
// is never skipped.
func (b *Browser) Axe() []Violation {
	b.t.Helper()
	src, err := axeSource()
	if err != nil {
		b.t.Fatalf("axe-core: %v (make deps installs it)", err)
	}
	Get(b, "inject axe-core", chromedp.Evaluate[chromedp.Void](src))
	return Get(b, "axe-core", chromedp.Evaluate[[]Violation](`axe.run(document, {
		runOnly: {type: "tag", values: `+wcagTags+`},
		resultTypes: ["violations"],
	}).then(r => r.violations.map(v => ({
		id: v.id, impact: v.impact || "", help: v.help, helpUrl: v.helpUrl, tags: v.tags,
		nodes: v.nodes.map(n => n.target.join(" ")),
	})))`, chromedp.EvalAwaitPromise))
}

var axe struct {
	once sync.Once
	src  string
	err  error
}

// axeSource reads axe-core once per test process.
func axeSource() (string, error) {
	axe.once.Do(func() {
		root, err := moduleDir()
		if err != nil {
			axe.err = err
			return
		}
		b, err := os.ReadFile(filepath.Join(root, AxePath))
		axe.src, axe.err = string(b), err
	})
	return axe.src, axe.err
}

// moduleDir is the main module's directory, found with go list so that a
// nested module that replaces it finds it too.
func moduleDir() (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", module).Output()
	if err != nil {
		return "", fmt.Errorf("go list -m %s: %w", module, err)
	}
	dir := string(bytes.TrimSpace(out))
	if dir == "" {
		return "", fmt.Errorf("the go command knows no directory for %s", module)
	}
	return dir, nil
}
