package xsd

import (
	"embed"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// schemaFiles is the embedded schema set; schemas/README.md says where each
// file comes from and what was changed.
//
//go:embed schemas/*.xsd schemas/idwsf2-reconstructed/*.xsd
var schemaFiles embed.FS

// wrapperPath is the schema that imports every namespace of the set.
const wrapperPath = "schemas/all.xsd"

// writeTree copies every .xsd file of fsys into dir, keeping the relative
// paths that the schemas' imports rely on. Directories are 0700 and files
// 0600: only this process reads them.
func writeTree(fsys fs.FS, dir string) error {
	return fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, filepath.FromSlash(p))
		if d.IsDir() {
			return os.MkdirAll(dst, 0o700)
		}
		if !strings.HasSuffix(p, ".xsd") {
			return nil
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o600)
	})
}

// schemaDirName returns the name of a file relative to the temporary tree,
// for messages: libxml2 reports absolute paths of files that no longer exist.
func schemaDirName(dir, file string) string {
	rel, err := filepath.Rel(dir, file)
	if err != nil || strings.HasPrefix(rel, "..") {
		return path.Base(filepath.ToSlash(file))
	}
	return filepath.ToSlash(rel)
}
