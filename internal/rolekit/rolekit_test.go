package rolekit_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/internal/rolekit"
)

type file struct {
	Name   string `json:"name"`
	Listen string `json:"listen"`
}

func (f *file) Defaults() {
	if f.Listen == "" {
		f.Listen = "127.0.0.1:1"
	}
}

func (f *file) Validate() error {
	if f.Name == "" {
		return errors.New("name is empty")
	}
	return nil
}

func write(t *testing.T, s string) string {
	p := filepath.Join(t.TempDir(), "c.json")
	if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRead: unknown fields are refused, defaults filled, and the file's
// own check runs, each failure naming the file.
func TestRead(t *testing.T) {
	var f file
	if err := rolekit.Read(write(t, `{"name":"ds"}`), &f); err != nil || f.Listen != "127.0.0.1:1" {
		t.Fatalf("%+v %v", f, err)
	}
	for _, bad := range []string{`{"name":"ds","address":"x"}`, `{}`, `{`} {
		p := write(t, bad)
		if err := rolekit.Read(p, &file{}); err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

// TestCheckMetadata: no source, a source without location, and one that
// is both signed and unsigned are each reported.
func TestCheckMetadata(t *testing.T) {
	if errs := rolekit.CheckMetadata(nil); len(errs) != 1 {
		t.Fatalf("no source: %v", errs)
	}
	errs := rolekit.CheckMetadata([]rolekit.MetadataSource{{}, {Location: "a", Unsigned: true, OperatorCert: "c"},
		{Location: "b", Unsigned: true}, {Location: "c", OperatorCert: "op.crt"}})
	if len(errs) != 2 {
		t.Fatalf("%v", errs)
	}
}

func TestParseDuration(t *testing.T) {
	for s, want := range map[string]time.Duration{"": 0, "120s": 2 * time.Minute} {
		if d, err := rolekit.ParseDuration(s); err != nil || d != want {
			t.Errorf("%q: %v %v", s, d, err)
		}
	}
	for _, s := range []string{"-1s", "0s", "soon"} {
		if _, err := rolekit.ParseDuration(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}

// TestBackground: Every ticks until Stop, which waits for the work; Stop
// on a background never started returns at once.
func TestBackground(t *testing.T) {
	(&rolekit.Background{}).Stop()
	var b rolekit.Background
	b.Start(context.Background())
	var n atomic.Int32
	b.Every(time.Millisecond, func(context.Context) { n.Add(1) })
	deadline := time.Now().Add(5 * time.Second)
	for n.Load() < 3 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	b.Stop()
	after := n.Load()
	time.Sleep(10 * time.Millisecond)
	if after < 3 || n.Load() != after {
		t.Fatalf("ticks %d, then %d after Stop", after, n.Load())
	}
}
