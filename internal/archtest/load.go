package archtest

import (
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

// skipDir tells the walk to skip testdata, hidden and underscore
// directories, and nested modules, below root.
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

// addFile records the imports of the Go file p under root in its package.
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
		pkg = &Package{Dir: dir, Imports: map[string]bool{}, Files: map[string][]string{}}
		byDir[dir] = pkg
	}
	name := filepath.Base(p)
	pkg.Files[name] = []string{}
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
		pkg.Files[name] = append(pkg.Files[name], imp)
	}
	return nil
}
