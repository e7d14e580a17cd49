package idpkit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	kitproc "github.com/renkei-idwsf/renkei/internal/testkit/proc"
)

// Bounds of a start: attempts on a port collision, and how long the
// binary may take to answer /metadata.
const (
	startAttempts = 4
	startWait     = 20 * time.Second
	stopWait      = 5 * time.Second
)

// Start builds the binary (once per process), writes the configuration
// with two free loopback ports, runs the IdP and waits until /metadata
// answers; Metadata then holds the served bytes. A port taken between
// choosing and binding is retried with new ports.
func (k *IdP) Start() {
	k.tb.Helper()
	if err := k.TryStart(); err != nil {
		k.tb.Fatal(err)
	}
}

// TryStart is Start returning its failure (with the binary's output), for
// tests of configurations or builds the IdP must refuse.
func (k *IdP) TryStart() error {
	if k.p != nil {
		return errors.New("idpkit: already started")
	}
	bin, err := Binary(k.opts.Tags)
	if err != nil {
		return err
	}
	for attempt := 1; ; attempt++ {
		err = k.startOnce(bin)
		if err == nil || !strings.Contains(err.Error(), "address already in use") || attempt == startAttempts {
			return err
		}
	}
}

// PID is the running IdP's process ID, or 0.
func (k *IdP) PID() int {
	if k.p == nil {
		return 0
	}
	return k.p.cmd.Process.Pid
}

func (k *IdP) startOnce(bin string) error {
	ports, err := freePorts(3)
	if err != nil {
		return err
	}
	k.setAddrs(ports[0], ports[1], ports[2])
	path, err := k.writeConfig()
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, "-config", path)
	cmd.Dir = k.Dir
	kitproc.DieWithParent(cmd, kitproc.Kill)
	p := &proc{cmd: cmd, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = &p.stderr, &p.stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	go func() { cmd.Wait(); close(p.done) }()
	k.p = p
	if err := k.awaitMetadata(); err != nil {
		p.stop()
		k.p = nil
		return fmt.Errorf("idpkit: %w\nrenkei-idp output:\n%s", err, p.stderr.String())
	}
	k.tb.Cleanup(p.stop)
	return nil
}

func (k *IdP) setAddrs(main, card, admin int) {
	k.Config.Listen, k.Config.CardListen = fmt.Sprintf("127.0.0.1:%d", main), fmt.Sprintf("127.0.0.1:%d", card)
	k.Config.Admin = fmt.Sprintf("127.0.0.1:%d", admin)
	k.AdminURL = "http://" + k.Config.Admin
	k.BaseURL, k.CardBaseURL = "https://"+k.Config.Listen, "https://"+k.Config.CardListen
	k.Config.BaseURL, k.Config.CardBaseURL = k.BaseURL, k.CardBaseURL
	k.MetadataURL, k.SSOURL = k.BaseURL+PathMetadata, k.BaseURL+PathSSO
	k.CardLoginURL, k.ECPURL = k.CardBaseURL+PathLogin, k.CardBaseURL+PathECP
}

func (k *IdP) writeConfig() (string, error) {
	c := k.Config
	if k.opts.Tweak != nil {
		k.opts.Tweak(&c)
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return "", err
	}
	path := filepath.Join(k.Dir, "idp.json")
	return path, os.WriteFile(path, b, 0o600)
}

// awaitMetadata polls /metadata until it answers 200 or the process ends.
func (k *IdP) awaitMetadata() error {
	ctx, cancel := context.WithTimeout(context.Background(), startWait)
	defer cancel()
	var last error
	for {
		if b, err := k.fetchMetadata(ctx); err == nil {
			k.Metadata = b
			return nil
		} else {
			last = err
		}
		select {
		case <-k.p.done:
			return fmt.Errorf("renkei-idp exited: %v", k.p.cmd.ProcessState)
		case <-ctx.Done():
			return fmt.Errorf("renkei-idp did not serve %s within %s: %v", k.MetadataURL, startWait, last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// freePorts asks the kernel for n distinct free loopback ports; they are
// released before the IdP binds them, hence Start's retry.
func freePorts(n int) ([]int, error) {
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	var ports []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// proc is the running binary.
type proc struct {
	cmd    *exec.Cmd
	stderr kitproc.Output
	done   chan struct{}
}

// stop sends SIGTERM (the IdP shuts down gracefully) and kills the
// process by PID if it has not ended within stopWait.
func (p *proc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(stopWait):
		p.cmd.Process.Kill()
		<-p.done
	}
}
