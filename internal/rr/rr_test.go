package rr_test

import (
	"bufio"
	"io"
	"net"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/internal/rr"
)

// node is a backend that answers each line with its name and the line.
func node(t *testing.T, name string) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if _, err := io.WriteString(c, name+" "+line); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln
}

// ask opens a connection through the balancer and returns the answer to
// one line, or "" when the connection failed.
func ask(t *testing.T, b *rr.Balancer) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", b.Addr(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, "ping\n"); err != nil {
		return ""
	}
	line, _ := bufio.NewReader(c).ReadString('\n')
	return line
}

// TestRoundRobin: new connections alternate between the backends; once
// one is gone (its dial refused) every connection reaches the other; with
// none left a connection is closed, not held.
func TestRoundRobin(t *testing.T) {
	b, err := rr.Listen()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	a, z := node(t, "a"), node(t, "z")
	b.SetBackends(a.Addr().String(), z.Addr().String())
	got := map[string]int{}
	for range 6 {
		got[ask(t, b)]++
	}
	if got["a ping\n"] != 3 || got["z ping\n"] != 3 {
		t.Fatalf("answers %v, want 3 from each node", got)
	}
	a.Close()
	for range 4 {
		if s := ask(t, b); s != "z ping\n" {
			t.Fatalf("with node a gone the answer is %q", s)
		}
	}
	if n := b.Connections(a.Addr().String()); n != 3 {
		t.Fatalf("node a was handed %d connections, want 3", n)
	}
	z.Close()
	if s := ask(t, b); s != "" {
		t.Fatalf("with no node left the answer is %q", s)
	}
}
