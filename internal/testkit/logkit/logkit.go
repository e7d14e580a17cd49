// Package logkit gives tests the roles' structured logs: a slog logger
// that writes JSON lines to the test's log, and a capture that keeps them
// to be searched. Nothing here is for production use.
package logkit

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// New returns a logger whose JSON lines go to tb.Log, prefixed with
// name (the role).
func New(tb testing.TB, name string) *slog.Logger {
	return slog.New(slog.NewJSONHandler(&tbWriter{tb: tb, name: name}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tbWriter struct {
	tb   testing.TB
	name string
}

func (w *tbWriter) Write(p []byte) (int, error) {
	w.tb.Helper()
	w.tb.Log(w.name + ": " + strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// Capture keeps every line of the loggers it hands out, and passes each
// on to the test's log. It is safe for concurrent use.
type Capture struct {
	tb    testing.TB
	mu    sync.Mutex
	lines map[string][]string // by logger name
}

// NewCapture returns an empty capture for tb.
func NewCapture(tb testing.TB) *Capture {
	return &Capture{tb: tb, lines: map[string][]string{}}
}

// Logger returns a logger whose lines the capture keeps under name.
func (c *Capture) Logger(name string) *slog.Logger {
	return slog.New(slog.NewJSONHandler(&captureWriter{c: c, name: name}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type captureWriter struct {
	c    *Capture
	name string
}

func (w *captureWriter) Write(p []byte) (int, error) {
	line := strings.TrimSuffix(string(p), "\n")
	w.c.mu.Lock()
	w.c.lines[w.name] = append(w.c.lines[w.name], line)
	w.c.mu.Unlock()
	w.c.tb.Log(w.name + ": " + line)
	return len(p), nil
}

// Records returns the lines kept under name, decoded.
func (c *Capture) Records(name string) []map[string]any {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Decode(strings.Join(c.lines[name], "\n"))
}

// Decode reads JSON log lines; a line that is not a JSON object (a
// process's other output) is skipped.
func Decode(text string) []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(text, "\n") {
		line = string(bytes.TrimSpace([]byte(line)))
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil {
			out = append(out, rec)
		}
	}
	return out
}
