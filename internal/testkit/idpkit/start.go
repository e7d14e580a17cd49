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
	path, err := k.writeConfig("idp.json", k.Config)
	if err != nil {
		return err
	}
	p, b, err := k.run(bin, path, k.MetadataURL)
	if err != nil {
		return err
	}
	k.p, k.Metadata = p, b
	return nil
}

// run starts the binary on the configuration file path and waits until
// metadataURL answers, returning the served metadata; the process is
// stopped at Cleanup.
func (k *IdP) run(bin, path, metadataURL string) (*proc, []byte, error) {
	cmd := exec.Command(bin, append([]string{"-config", path}, k.opts.Args...)...)
	cmd.Dir = k.Dir
	kitproc.DieWithParent(cmd, kitproc.Kill)
	p := &proc{cmd: cmd, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = &p.stderr, &p.stderr
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	go func() { cmd.Wait(); close(p.done) }()
	b, err := k.awaitMetadata(p, metadataURL)
	if err != nil {
		p.stop()
		return nil, nil, fmt.Errorf("idpkit: %w\nrenkei-idp output:\n%s", err, p.stderr.String())
	}
	k.tb.Cleanup(p.stop)
	return p, b, nil
}

// Node is one more process of the IdP's configuration (StartNode).
type Node struct {
	// Listen and CardListen are the node's own listeners (host:port).
	Listen, CardListen string
	p                  *proc
}

// StartNode runs one more renkei-idp process of the running IdP's
// configuration (its keys, store, CRL, metadata and Options.Tweak) on two
// fresh loopback ports, for tests of several nodes behind a balancer:
// Tweak then sets BaseURL and CardBaseURL to the balancer's, which every
// node publishes. Start must have run; the node is stopped at Cleanup.
func (k *IdP) StartNode() *Node {
	k.tb.Helper()
	if k.p == nil {
		k.tb.Fatal("idpkit: StartNode before Start")
	}
	bin, err := Binary(k.opts.Tags)
	if err != nil {
		k.tb.Fatal(err)
	}
	for attempt := 1; ; attempt++ {
		n, err := k.startNode(bin)
		if err == nil {
			return n
		}
		if !strings.Contains(err.Error(), "address already in use") || attempt == startAttempts {
			k.tb.Fatal(err)
		}
	}
}

func (k *IdP) startNode(bin string) (*Node, error) {
	ports, err := freePorts(3)
	if err != nil {
		return nil, err
	}
	k.nodes++
	c := k.Config
	c.Listen, c.CardListen = fmt.Sprintf("127.0.0.1:%d", ports[0]), fmt.Sprintf("127.0.0.1:%d", ports[1])
	c.Admin = fmt.Sprintf("127.0.0.1:%d", ports[2])
	c.BaseURL, c.CardBaseURL = "https://"+c.Listen, "https://"+c.CardListen
	path, err := k.writeConfig(fmt.Sprintf("idp-node-%d.json", k.nodes), c)
	if err != nil {
		return nil, err
	}
	p, _, err := k.run(bin, path, c.BaseURL+PathMetadata)
	if err != nil {
		return nil, err
	}
	return &Node{Listen: c.Listen, CardListen: c.CardListen, p: p}, nil
}

// Kill ends the process Start ran at once with SIGKILL, as a crashed
// machine ends, and waits until it is gone.
func (k *IdP) Kill() {
	if k.p == nil {
		return
	}
	k.p.kill()
}

// kill ends p at once with SIGKILL and waits until it is gone.
func (p *proc) kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
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

func (k *IdP) writeConfig(name string, c Config) (string, error) {
	if k.opts.Tweak != nil {
		k.opts.Tweak(&c)
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return "", err
	}
	path := filepath.Join(k.Dir, name)
	return path, os.WriteFile(path, b, 0o600)
}

// awaitMetadata polls url (a node's /metadata) until it answers 200 or
// the process ends, and returns the served bytes.
func (k *IdP) awaitMetadata(p *proc, url string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), startWait)
	defer cancel()
	var last error
	for {
		b, err := k.fetchMetadata(ctx, url)
		if err == nil {
			return b, nil
		}
		last = err
		select {
		case <-p.done:
			return nil, fmt.Errorf("renkei-idp exited: %v", p.cmd.ProcessState)
		case <-ctx.Done():
			return nil, fmt.Errorf("renkei-idp did not serve %s within %s: %v", url, startWait, last)
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
