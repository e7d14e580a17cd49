// Package pgcluster runs a throwaway PostgreSQL cluster from Debian's
// server binaries: initdb in a new temporary directory (as the postgres
// user when running as root, since initdb and postgres refuse root),
// postgres on a free loopback port trusting local connections, stopped by
// its PID and its files removed by Stop. The test kit (internal/testkit/pg)
// and `renkei demo -nodes` both start theirs here. Every wait is bounded.
package pgcluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvBin names the environment variable that may hold the directory of the
// PostgreSQL server binaries; by default the newest Debian installation
// under binGlob is used. Its name predates the demo's use of it.
const EnvBin = "RENKEI_TEST_PG_BIN"

// binGlob matches Debian's PostgreSQL server binaries, one per major version.
const binGlob = "/usr/lib/postgresql/*/bin"

// Config tunes a throwaway cluster.
type Config struct {
	// Durable keeps PostgreSQL's fsync at each commit. Tests and the demo
	// leave it off: the cluster is thrown away, and on a machine whose
	// disk is shared with other work, fsync would make every commit wait
	// on the disk. Benchmarks turn it on to measure what a deployment
	// would see.
	Durable bool
}

// Cluster is a running throwaway PostgreSQL cluster.
type Cluster struct {
	cfg   Config
	bin   string     // directory of initdb and postgres
	dir   string     // temporary directory: data/, the socket, the log
	owner *user.User // the postgres user when running as root, else nil
	port  int
	cmd   *exec.Cmd     // runuser or postgres
	done  chan struct{} // closed when cmd has exited
	pid   int           // the postmaster's PID
}

// Start creates and starts a cluster, trying a few ports; ctx bounds
// initdb and the wait for the server.
func Start(ctx context.Context, cfg Config) (*Cluster, error) {
	c, err := newCluster()
	if err != nil {
		return nil, err
	}
	c.cfg = cfg
	if err := c.initdb(ctx); err != nil {
		os.RemoveAll(c.dir)
		return nil, err
	}
	for range 5 {
		if err = c.start(ctx); !errors.Is(err, errPortTaken) {
			break
		}
	}
	if err != nil {
		os.RemoveAll(c.dir)
		return nil, err
	}
	return c, nil
}

// newCluster finds the binaries and makes the directory, owned by the
// postgres user when running as root.
func newCluster() (*Cluster, error) {
	bin, err := findBin()
	if err != nil {
		return nil, err
	}
	c := &Cluster{bin: bin}
	if os.Geteuid() == 0 {
		if c.owner, err = user.Lookup("postgres"); err != nil {
			return nil, fmt.Errorf("pg: running as root needs the postgres user: %w", err)
		}
	}
	if c.dir, err = os.MkdirTemp("", "renkei-pg-"); err != nil {
		return nil, err
	}
	return c, c.chown(c.dir)
}

// findBin returns EnvBin, or the newest directory matching binGlob.
func findBin() (string, error) {
	if b := os.Getenv(EnvBin); b != "" {
		return b, nil
	}
	dirs, _ := filepath.Glob(binGlob)
	sort.Slice(dirs, func(i, j int) bool { return majorOf(dirs[i]) < majorOf(dirs[j]) })
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "postgres")); err == nil {
			return dirs[i], nil
		}
	}
	return "", fmt.Errorf("pg: no PostgreSQL server binaries match %s (Debian package postgresql)", binGlob)
}

// majorOf returns the version number in a path matching binGlob.
func majorOf(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

// chown gives path to the postgres user when running as root.
func (c *Cluster) chown(path string) error {
	if c.owner == nil {
		return nil
	}
	uid, _ := strconv.Atoi(c.owner.Uid)
	gid, _ := strconv.Atoi(c.owner.Gid)
	return os.Chown(path, uid, gid)
}

// command returns a command running the named binary, through runuser as
// the postgres user when running as root.
func (c *Cluster) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	path := filepath.Join(c.bin, name)
	var cmd *exec.Cmd
	if c.owner != nil {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, path, args...)
	}
	cmd.Dir = c.dir
	return cmd
}

// initdb creates the cluster's data directory, trusting local connections.
func (c *Cluster) initdb(ctx context.Context) error {
	cmd := c.command(ctx, "initdb", "-D", filepath.Join(c.dir, "data"), "-A", "trust", "-U", "postgres",
		"-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("pg: initdb: %w\n%s", err, out)
	}
	return nil
}

// DSN returns the DSN of database name on the cluster, as the postgres
// user.
func (c *Cluster) DSN(name string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, name)
}

// errPortTaken reports that another process took the chosen port first.
var errPortTaken = errors.New("pg: port taken")

// freePort returns a loopback port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// start runs postgres on a free port and waits until it accepts
// connections.
func (c *Cluster) start(ctx context.Context) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	c.port = port
	logPath := filepath.Join(c.dir, "postgres.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logFile.Close()
	c.cmd = c.command(context.Background(), "postgres", c.serverArgs()...)
	c.cmd.Stdout, c.cmd.Stderr = logFile, logFile
	dieWithParent(c.cmd) // runuser passes SIGTERM on to postgres
	if err := c.cmd.Start(); err != nil {
		return fmt.Errorf("pg: start postgres: %w", err)
	}
	c.done = make(chan struct{})
	go func() { c.cmd.Wait(); close(c.done) }()
	return c.waitReady(ctx, logPath)
}

// serverArgs returns the postgres command line: loopback only, the socket
// in the cluster's directory, and fsync off unless Durable.
func (c *Cluster) serverArgs() []string {
	args := []string{"-D", filepath.Join(c.dir, "data"), "-k", c.dir,
		"-c", "listen_addresses=127.0.0.1", "-p", strconv.Itoa(c.port)}
	if !c.cfg.Durable {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	return args
}

// waitReady polls until the server answers, the process exits, or a
// bounded wait runs out.
func (c *Cluster) waitReady(ctx context.Context, logPath string) error {
	for range 600 {
		select {
		case <-c.done:
			return c.exitError(logPath)
		case <-time.After(50 * time.Millisecond):
		}
		if c.ready(ctx) {
			return c.readPID()
		}
	}
	c.kill()
	return fmt.Errorf("pg: postgres not ready after 30s\n%s", tail(logPath))
}

// ready reports whether the server accepts a connection.
func (c *Cluster) ready(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.DSN("postgres"))
	if err != nil {
		return false
	}
	conn.Close(ctx)
	return true
}

// exitError explains an early exit, telling a lost port race apart.
func (c *Cluster) exitError(logPath string) error {
	log := tail(logPath)
	if strings.Contains(log, "could not bind") || strings.Contains(log, "already in use") {
		return errPortTaken
	}
	return fmt.Errorf("pg: postgres exited: %v\n%s", c.cmd.ProcessState, log)
}

// readPID reads the postmaster's PID: under runuser it is not our child.
func (c *Cluster) readPID() error {
	b, err := os.ReadFile(filepath.Join(c.dir, "data", "postmaster.pid"))
	if err != nil {
		return fmt.Errorf("pg: %w", err)
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	c.pid, err = strconv.Atoi(string(line))
	if err != nil || c.pid <= 0 {
		return fmt.Errorf("pg: bad postmaster.pid %q", line)
	}
	return nil
}

// PID is the postmaster's PID.
func (c *Cluster) PID() int { return c.pid }

// Dir is the cluster's temporary directory (data/, the socket, the log),
// removed by Stop.
func (c *Cluster) Dir() string { return c.dir }

// CreateDatabase creates the empty database name (letters, digits and
// underscores) and returns its DSN.
func (c *Cluster) CreateDatabase(ctx context.Context, name string) (string, error) {
	for _, r := range name {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return "", fmt.Errorf("pg: database name %q: only a-z, 0-9 and _", name)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.DSN("postgres"))
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", fmt.Errorf("pg: create database %s: %w", name, err)
	}
	return c.DSN(name), nil
}

// Stop asks the postmaster for a fast shutdown (SIGINT), waits for it, and
// removes the cluster's files.
func (c *Cluster) Stop() error {
	if err := syscall.Kill(c.pid, syscall.SIGINT); err != nil {
		return fmt.Errorf("pg: signal postmaster %d: %w", c.pid, err)
	}
	select {
	case <-c.done:
	case <-time.After(30 * time.Second):
		c.kill()
		return fmt.Errorf("pg: postmaster %d ignored SIGINT for 30s; killed", c.pid)
	}
	return os.RemoveAll(c.dir)
}

// kill ends the server at once and waits for it.
func (c *Cluster) kill() {
	if c.pid <= 0 {
		c.readPID()
	}
	if c.pid > 0 {
		syscall.Kill(c.pid, syscall.SIGQUIT)
	}
	c.cmd.Process.Kill()
	<-c.done
}

// tail returns the end of the log file.
func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}
