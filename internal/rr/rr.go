// Package rr is a small round-robin TCP balancer on loopback for several
// nodes of a role, in the demo (renkei demo -nodes) and the tests: it
// accepts on 127.0.0.1, hands each new connection to the next backend in
// turn, skips a backend whose dial fails (a killed node) and copies bytes
// both ways untouched, so TLS passes through and the client authenticates
// to the node itself. Every node of a role is configured with the
// balancer's URL as its public URL. Everything is bounded: the connections
// open at once, each dial, and Close waits for every copy to end. Nothing
// here is for production use.
package rr

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// Bounds of a Balancer.
const (
	// MaxConns is how many client connections may be open at once; one
	// more is closed at once.
	MaxConns = 512
	// DialTimeout bounds each dial of a backend.
	DialTimeout = 2 * time.Second
)

// Balancer is a listening round-robin balancer.
type Balancer struct {
	ln    net.Listener
	slots chan struct{}

	mu       sync.Mutex
	backends []string
	next     int
	conns    map[net.Conn]struct{}
	closed   bool
	counts   map[string]int64

	wg sync.WaitGroup
}

// Listen opens a balancer on a free 127.0.0.1 port with no backend yet
// (SetBackends names them): nodes are usually configured with its URL
// before they listen.
func Listen() (*Balancer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	b := &Balancer{ln: ln, slots: make(chan struct{}, MaxConns), conns: map[net.Conn]struct{}{},
		counts: map[string]int64{}}
	b.wg.Add(1)
	go b.serve()
	return b, nil
}

// Addr is the balancer's host:port.
func (b *Balancer) Addr() string { return b.ln.Addr().String() }

// URL is the balancer's https URL: what every node behind it publishes.
func (b *Balancer) URL() string { return "https://" + b.Addr() }

// SetBackends replaces the backends (host:port, loopback) that new
// connections go to, in this order.
func (b *Balancer) SetBackends(addrs ...string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.backends = append([]string(nil), addrs...)
	b.next = 0
}

// Connections is how many connections backend addr has been handed.
func (b *Balancer) Connections(addr string) int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.counts[addr]
}

// Close stops accepting, closes every open connection and waits until
// every copy has ended.
func (b *Balancer) Close() error {
	b.mu.Lock()
	b.closed = true
	for c := range b.conns {
		c.Close()
	}
	b.mu.Unlock()
	err := b.ln.Close()
	b.wg.Wait()
	return err
}

func (b *Balancer) serve() {
	defer b.wg.Done()
	for {
		c, err := b.ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return
		}
		select {
		case b.slots <- struct{}{}:
		default:
			c.Close() // over MaxConns
			continue
		}
		if !b.track(c) {
			<-b.slots
			c.Close()
			return
		}
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			defer func() { <-b.slots }()
			b.forward(c)
		}()
	}
}

// track registers c as open; false once the balancer is closed.
func (b *Balancer) track(c net.Conn) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return false
	}
	b.conns[c] = struct{}{}
	return true
}

func (b *Balancer) untrack(cs ...net.Conn) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range cs {
		delete(b.conns, c)
		c.Close()
	}
}

// forward connects c to the next backend that answers and copies both
// ways until either side ends; c is closed when no backend answers.
func (b *Balancer) forward(c net.Conn) {
	be, err := b.dial()
	if err != nil {
		b.untrack(c)
		return
	}
	if !b.track(be) {
		be.Close()
		b.untrack(c)
		return
	}
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		if tc, ok := dst.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
		done <- struct{}{}
	}
	go pipe(be, c)
	go pipe(c, be)
	<-done
	// One side ended. A reset (a killed node) ends the other copy at
	// once; an orderly close half-closes and waits a bounded time for
	// the answer still under way.
	select {
	case <-done:
		b.untrack(c, be)
	case <-time.After(30 * time.Second):
		b.untrack(c, be)
		<-done
	}
}

// dial tries each backend once, starting with the next in turn.
func (b *Balancer) dial() (net.Conn, error) {
	b.mu.Lock()
	addrs := b.backends
	start := b.next
	if len(addrs) > 0 {
		b.next = (b.next + 1) % len(addrs)
	}
	b.mu.Unlock()
	var errs []error
	for i := range addrs {
		a := addrs[(start+i)%len(addrs)]
		c, err := net.DialTimeout("tcp", a, DialTimeout)
		if err == nil {
			b.mu.Lock()
			b.counts[a]++
			b.mu.Unlock()
			return c, nil
		}
		errs = append(errs, err)
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("rr: no backend")
	}
	return nil, errors.Join(errs...)
}
