package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/renkei-idwsf/renkei/internal/fedfiles"
	"github.com/renkei-idwsf/renkei/store/sqlstore"
)

// Bounds of the processes' life: how long a role may take to answer, how
// often it is asked, how long it may take to stop before it is killed.
const (
	readyWait  = 60 * time.Second
	readyPoll  = 50 * time.Millisecond
	stopWait   = 10 * time.Second
	outputKept = 64 << 10
	// buildWait bounds go install: a first build from an empty build
	// cache compiles every dependency.
	buildWait = 20 * time.Minute
)

// roleBinaries are the binaries the demo runs.
var roleBinaries = []string{"renkei-idp", "renkei-ds", "renkei-wsp", "renkei-portal", "renkei-terminal", "renkei-card"}

// binaries returns the directory holding every role binary: the one of
// this executable when they all lie beside it, else the user's cache
// directory, where go install (from the module this command runs in)
// relinks only the binaries whose sources changed.
func binaries(ctx context.Context, out io.Writer) (string, error) {
	if exe, err := os.Executable(); err == nil && allIn(filepath.Dir(exe)) {
		return filepath.Dir(exe), nil
	}
	gomod, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	mod := strings.TrimSpace(string(gomod))
	if err != nil || mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("the role binaries are not beside this executable and no Go module is here to build them (go env GOMOD: %v)", err)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir() // no home directory: the binaries are built again after a reboot
	}
	bin := filepath.Join(cache, "renkei", "demo-bin")
	args := []string{"install"}
	for _, b := range roleBinaries {
		args = append(args, "./cmd/"+b)
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, buildWait)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir, cmd.Env = filepath.Dir(mod), append(os.Environ(), "GOBIN="+bin)
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	fmt.Fprintf(out, "role binaries: go install into %s in %s\n", bin, since(start))
	return bin, nil
}

// allIn reports whether every role binary is in dir.
func allIn(dir string) bool {
	for _, b := range roleBinaries {
		if st, err := os.Stat(filepath.Join(dir, b)); err != nil || st.IsDir() {
			return false
		}
	}
	return true
}

// since is the time since start, rounded for people.
func since(start time.Time) time.Duration { return time.Since(start).Round(time.Millisecond) }

// child is one running role.
type child struct {
	role  fedfiles.Role
	cmd   *exec.Cmd
	log   *os.File
	out   tail
	done  chan struct{}
	ready time.Duration
}

// tail keeps the last outputKept bytes a process wrote, beside its log
// file.
type tail struct {
	mu sync.Mutex
	b  []byte
}

// Write keeps the end of what was written.
func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > outputKept {
		t.b = t.b[len(t.b)-outputKept:]
	}
	return len(p), nil
}

// String is what is kept.
func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}

// fleet is the federation's processes.
type fleet struct {
	bin, logs string
	client    *http.Client
	// relay is the relay database, where the WSPs' registrations show.
	relay *sqlstore.DB
	mu    sync.Mutex
	kids  []*child
}

// newFleet is a fleet running the binaries of bin, their output in
// logs, asking them over TLS trusting roots.
func newFleet(bin, logs string, roots *x509.CertPool, relay *sqlstore.DB) *fleet {
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}, DisableKeepAlives: true}
	return &fleet{bin: bin, logs: logs, relay: relay, client: &http.Client{Transport: tr, Timeout: 5 * time.Second}}
}

// start runs the role's binary with its arguments, its output to
// logs/NAME.log; the process is in its own process group, so that a
// Ctrl-C reaches the demo alone, which stops the roles in order.
func (f *fleet) start(r fedfiles.Role) (*child, error) {
	if err := os.MkdirAll(f.logs, 0o700); err != nil {
		return nil, err
	}
	lf, err := os.Create(filepath.Join(f.logs, strings.ReplaceAll(r.Name, " ", "-")+".log"))
	if err != nil {
		return nil, err
	}
	c := &child{role: r, log: lf, done: make(chan struct{})}
	c.cmd = exec.Command(filepath.Join(f.bin, r.Command), r.Args...)
	c.cmd.Dir = filepath.Dir(f.logs)
	c.cmd.Stdout = io.MultiWriter(lf, &c.out)
	c.cmd.Stderr = c.cmd.Stdout
	ownGroup(c.cmd)
	if err := c.cmd.Start(); err != nil {
		lf.Close()
		return nil, fmt.Errorf("%s: %w", r.Name, err)
	}
	go func() { c.cmd.Wait(); close(c.done) }()
	f.mu.Lock()
	f.kids = append(f.kids, c)
	f.mu.Unlock()
	return c, nil
}

// await polls the role's Ready URL until it answers over TLS checked
// against the service CA (any status for a SOAP endpoint, which takes
// only POST; 200 for a page), and for a WSP until the relay database
// holds its registration at the DS; it fails when the process ends or
// readyWait passes.
func (f *fleet) await(ctx context.Context, c *child, started time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, readyWait)
	defer cancel()
	var last error
	for {
		if last = f.probe(ctx, c); last == nil {
			c.ready = since(started)
			return nil
		}
		select {
		case <-c.done:
			return fmt.Errorf("%s exited (%v) before it was ready; its output:\n%s", c.role.Name, c.cmd.ProcessState, c.out.String())
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.Canceled) {
				return fmt.Errorf("%s: interrupted before it was ready", c.role.Name)
			}
			return fmt.Errorf("%s was not ready within %s: %v; its output:\n%s", c.role.Name, readyWait, last, c.out.String())
		case <-time.After(readyPoll):
		}
	}
}

// probe asks the role once whether it is ready.
func (f *fleet) probe(ctx context.Context, c *child) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.role.Ready, nil)
	if err != nil {
		return err
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	page := c.role.Command == "renkei-idp" || c.role.Command == "renkei-portal" || c.role.Command == "renkei-terminal"
	if page && resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: HTTP %d", c.role.Ready, resp.StatusCode)
	}
	if err := f.readyz(ctx, c.role); err != nil {
		return err
	}
	return f.registered(ctx, c.role)
}

// readyz asks the role's admin listener whether it is ready: its store
// answers, its metadata is loaded and valid, its keys are loaded.
func (f *fleet) readyz(ctx context.Context, r fedfiles.Role) error {
	if r.Admin == "" {
		return nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.Admin+"/readyz", nil)
	if err != nil {
		return err
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s/readyz: HTTP %d %s", r.Admin, resp.StatusCode, body)
	}
	return nil
}

// registered reads the relay database for the service types a WSP
// registers at the DS when it starts: it is ready once they are all
// there.
func (f *fleet) registered(ctx context.Context, r fedfiles.Role) error {
	if len(r.Services) == 0 {
		return nil
	}
	mds, err := f.relay.SvcMDs(ctx, r.EntityID)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, m := range mds {
		for _, t := range m.ServiceTypes {
			have[t] = true
		}
	}
	for _, t := range r.Services {
		if !have[t] {
			return fmt.Errorf("%s has not registered %s at the DS yet", r.EntityID, t)
		}
	}
	return nil
}

// stop ends the roles, last started first: SIGTERM (each shuts down
// gracefully), then SIGKILL after stopWait.
func (f *fleet) stop() {
	f.mu.Lock()
	kids := slices.Clone(f.kids)
	f.mu.Unlock()
	for i := len(kids) - 1; i >= 0; i-- {
		c := kids[i]
		_ = c.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-c.done:
		case <-time.After(stopWait):
			_ = c.cmd.Process.Kill()
			<-c.done
		}
		c.log.Close()
	}
}

// role returns the running role named name, or nil.
func (f *fleet) role(name string) *child {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.kids {
		if c.role.Name == name {
			return c
		}
	}
	return nil
}

// lastLines is the end of every role's output, n lines each, for a
// failure's reader when the logs go with a temporary directory.
func (f *fleet) lastLines(n int) string {
	f.mu.Lock()
	kids := slices.Clone(f.kids)
	f.mu.Unlock()
	var b strings.Builder
	for _, c := range kids {
		lines := strings.Split(strings.TrimRight(c.out.String(), "\n"), "\n")
		fmt.Fprintf(&b, "--- %s (%s), last %d lines:\n%s\n", c.role.Name, filepath.Base(c.log.Name()), n,
			strings.Join(lines[max(0, len(lines)-n):], "\n"))
	}
	return b.String()
}
