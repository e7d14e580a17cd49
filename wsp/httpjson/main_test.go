package httpjson_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/renkei-idwsf/renkei/wsp/sample"
)

// sampleDir holds the sample Generate wrote once for every test, which
// only read it.
var sampleDir string

func TestMain(m *testing.M) {
	code, err := run(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}

func run(m *testing.M) (int, error) {
	dir, err := os.MkdirTemp("", "httpjson-sample-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	if _, err := sample.Generate(dir, sample.Options{}); err != nil {
		return 0, err
	}
	sampleDir = dir
	return m.Run(), nil
}
