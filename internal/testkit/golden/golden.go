// Package golden compares what a test produced with a file under the
// test package's testdata folder (STYLE "Golden files named after the
// test"), and rewrites the file instead when the test runs with -update.
package golden

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// Update reports whether the test binary runs with -update.
func Update() bool { return *update }

// Check compares got with testdata/file, after writing got there under
// -update. A missing file or a difference fails the test, naming the file.
func Check(t testing.TB, file string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", file)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("differs from %s (run with -update after checking why):\n%s", path, got)
	}
}
