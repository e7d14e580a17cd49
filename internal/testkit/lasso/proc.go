// Package lasso runs Debian's Lasso (python3-lasso, with the system
// python3) as the independent SAML 2.0 peers of Renkei's interop tests: an
// SP as an HTTPS server on 127.0.0.1 (sp.py), a reference IdP to prove the
// harness against (idp.py), and Lasso's ECP message processing (ecp.py)
// whose transport stays in Go, so that a card's TLS handshake with the IdP
// is made by the Go side.
//
// Each peer gets its keys from internal/testkit/pki and its metadata
// written here as plain text, independent of Renkei's metadata package; a
// peer is given the other side's metadata exactly as served. The Go side
// opens the listening socket first and hands it to python as file
// descriptor 3, so every URL (and so the metadata) is known before the
// peer starts and no port is raced for. Processes are killed by PID in
// Cleanup.
//
// Wiring an IdP under test to the SP takes a few lines:
//
//	sp := lasso.NewSP(t, lasso.SPConfig{Encrypt: true})
//	// ... start the IdP trusting sp.Metadata ...
//	md, _ := lasso.FetchMetadata(ctx, client, idpMetadataURL)
//	if err := sp.Start(md); err != nil { ... } // Lasso refused the metadata
//	page, _ := b.Get(ctx, sp.LoginURL(lasso.Redirect, lasso.Persistent, false))
//	res, err := lasso.ParseResult(page.Status, page.Body)
//
// and to the ECP, with b holding the card (internal/browser):
//
//	run, err := (&lasso.ECP{IdPMetadata: md, SP: spClient, IdP: b.Client()}).Run(ctx, t, sp.ECPURL(lasso.Persistent))
//	res, err := lasso.ParseResult(run.Status, run.Body)
package lasso

import (
	"bufio"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	kitproc "github.com/renkei-idwsf/renkei/internal/testkit/proc"
)

// Python is the system interpreter, for which Debian installs python3-lasso
// (another python3 earlier on PATH may lack it).
const Python = "/usr/bin/python3"

// startWait bounds a peer's start (python and Lasso load in well under a
// second).
const startWait = 15 * time.Second

//go:embed common.py sp.py idp.py ecp.py
var scripts embed.FS

// Require fails tb when python3-lasso cannot run: it is a test
// dependency that `make test` installs, so its absence is a failure to
// report, never a reason to skip.
func Require(tb testing.TB) {
	tb.Helper()
	out, err := exec.Command(Python, "-c", "import lasso").CombinedOutput()
	if err != nil {
		tb.Fatalf("python3-lasso is not available with %s (make deps installs it): %v: %s", Python, err, out)
	}
}

// writeScripts copies the embedded scripts into dir.
func writeScripts(dir string) error {
	ents, err := scripts.ReadDir(".")
	if err != nil {
		return err
	}
	for _, e := range ents {
		b, err := scripts.ReadFile(e.Name())
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// proc is a running python peer.
type proc struct {
	cmd    *exec.Cmd
	stderr *kitproc.Output
	stdin  io.WriteCloser
	stdout *bufio.Reader
	done   chan struct{}
}

// startProc runs script with args in dir, with ln (if any) as fd 3, and
// waits for its "ready" line. Cleanup kills it by PID.
func startProc(tb testing.TB, dir, script string, ln *net.TCPListener, args ...string) (*proc, error) {
	if err := writeScripts(dir); err != nil {
		return nil, err
	}
	cmd := exec.Command(Python, append([]string{filepath.Join(dir, script)}, args...)...)
	cmd.Dir = dir
	kitproc.DieWithParent(cmd, kitproc.Kill)
	p := &proc{cmd: cmd, stderr: &kitproc.Output{}, done: make(chan struct{})}
	cmd.Stderr = p.stderr
	if ln != nil {
		f, err := ln.File()
		if err != nil {
			return nil, err
		}
		defer f.Close()
		defer ln.Close()
		cmd.ExtraFiles = []*os.File{f}
	}
	if err := p.pipes(); err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("lasso: start %s: %w", script, err)
	}
	go func() { cmd.Wait(); close(p.done) }()
	tb.Cleanup(p.stop)
	return p, p.awaitReady(script)
}

func (p *proc) pipes() error {
	in, err := p.cmd.StdinPipe()
	if err != nil {
		return err
	}
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		return err
	}
	p.stdin, p.stdout = in, bufio.NewReader(out)
	return nil
}

func (p *proc) awaitReady(script string) error {
	line, err := p.readLine(startWait)
	if err != nil || strings.TrimSpace(string(line)) != "ready" {
		return fmt.Errorf("lasso: %s did not start (%v, %q): %s", script, err, line, p.stderr.String())
	}
	return nil
}

// readLine reads one line of the peer's stdout within d.
func (p *proc) readLine(d time.Duration) ([]byte, error) {
	type res struct {
		b   []byte
		err error
	}
	ch := make(chan res, 1)
	go func() {
		b, err := p.stdout.ReadBytes('\n')
		ch <- res{b, err}
	}()
	select {
	case r := <-ch:
		return r.b, r.err
	case <-time.After(d):
		return nil, fmt.Errorf("no answer within %v", d)
	}
}

// exchange writes one JSON line and decodes the one-line answer into out.
func (p *proc) exchange(in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	if _, err := p.stdin.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("lasso: write to the peer: %w: %s", err, p.stderr.String())
	}
	line, err := p.readLine(startWait)
	if err != nil {
		return fmt.Errorf("lasso: read from the peer: %w: %s", err, p.stderr.String())
	}
	return json.Unmarshal(line, out)
}

// stop kills the process by its PID and reaps it.
func (p *proc) stop() {
	p.stdin.Close()
	if p.cmd.Process != nil {
		_ = p.cmd.Process.Kill()
	}
	<-p.done
}

// Stderr is what the peer wrote to its standard error so far.
func (p *proc) Stderr() string { return p.stderr.String() }

// listen reserves a loopback port.
func listen() (*net.TCPListener, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	return l.(*net.TCPListener), nil
}

// writeConfig writes the peer's configuration as JSON into dir.
func writeConfig(dir string, cfg map[string]any) (string, error) {
	b, err := json.Marshal(cfg)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "config.json")
	return path, os.WriteFile(path, b, 0o600)
}

var errStarted = errors.New("lasso: the peer was already started")
