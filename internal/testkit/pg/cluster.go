package pg

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

	"github.com/renkei-idwsf/renkei/internal/testkit/proc"
)

// EnvBin names the environment variable that may hold the directory of the
// PostgreSQL server binaries; by default the newest Debian installation
// under binGlob is used.
const EnvBin = "RENKEI_TEST_PG_BIN"

// binGlob matches Debian's PostgreSQL server binaries, one per major version.
const binGlob = "/usr/lib/postgresql/*/bin"

// cluster is a throwaway PostgreSQL cluster.
type cluster struct {
	cfg   Config
	bin   string     // directory of initdb and postgres
	dir   string     // temporary directory: data/, the socket, the log
	owner *user.User // the postgres user when running as root, else nil
	port  int
	cmd   *exec.Cmd     // runuser or postgres
	done  chan struct{} // closed when cmd has exited
	pid   int           // the postmaster's PID
}

// startCluster creates and starts a cluster, trying a few ports.
func startCluster(ctx context.Context, cfg Config) (*cluster, error) {
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
func newCluster() (*cluster, error) {
	bin, err := findBin()
	if err != nil {
		return nil, err
	}
	c := &cluster{bin: bin}
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
func (c *cluster) chown(path string) error {
	if c.owner == nil {
		return nil
	}
	uid, _ := strconv.Atoi(c.owner.Uid)
	gid, _ := strconv.Atoi(c.owner.Gid)
	return os.Chown(path, uid, gid)
}

// command returns a command running the named binary, through runuser as
// the postgres user when running as root.
func (c *cluster) command(ctx context.Context, name string, args ...string) *exec.Cmd {
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
func (c *cluster) initdb(ctx context.Context) error {
	cmd := c.command(ctx, "initdb", "-D", filepath.Join(c.dir, "data"), "-A", "trust", "-U", "postgres",
		"-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("pg: initdb: %w\n%s", err, out)
	}
	return nil
}

// dsn returns the DSN of database name on the cluster.
func (c *cluster) dsn(name string) string {
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
func (c *cluster) start(ctx context.Context) error {
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
	proc.DieWithParent(c.cmd, proc.Term) // runuser passes SIGTERM on to postgres
	if err := c.cmd.Start(); err != nil {
		return fmt.Errorf("pg: start postgres: %w", err)
	}
	c.done = make(chan struct{})
	go func() { c.cmd.Wait(); close(c.done) }()
	return c.waitReady(ctx, logPath)
}

// serverArgs returns the postgres command line: loopback only, the socket
// in the cluster's directory, and fsync off unless Durable.
func (c *cluster) serverArgs() []string {
	args := []string{"-D", filepath.Join(c.dir, "data"), "-k", c.dir,
		"-c", "listen_addresses=127.0.0.1", "-p", strconv.Itoa(c.port)}
	if !c.cfg.Durable {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	return args
}

// waitReady polls until the server answers, the process exits, or a
// bounded wait runs out.
func (c *cluster) waitReady(ctx context.Context, logPath string) error {
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
func (c *cluster) ready(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.dsn("postgres"))
	if err != nil {
		return false
	}
	conn.Close(ctx)
	return true
}

// exitError explains an early exit, telling a lost port race apart.
func (c *cluster) exitError(logPath string) error {
	log := tail(logPath)
	if strings.Contains(log, "could not bind") || strings.Contains(log, "already in use") {
		return errPortTaken
	}
	return fmt.Errorf("pg: postgres exited: %v\n%s", c.cmd.ProcessState, log)
}

// readPID reads the postmaster's PID: under runuser it is not our child.
func (c *cluster) readPID() error {
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

// stop asks the postmaster for a fast shutdown (SIGINT), waits for it, and
// removes the cluster's files.
func (c *cluster) stop() error {
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
func (c *cluster) kill() {
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
