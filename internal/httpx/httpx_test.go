package httpx

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestGroup: every server listens on loopback, answers with the security
// headers, and a request in flight finishes during the graceful shutdown.
func TestGroup(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		<-release
		_, _ = io.WriteString(w, "done")
	})
	g := &Group{ShutdownTimeout: 5 * time.Second}
	if err := g.Start(Server{Name: "a", Addr: "127.0.0.1:0", Handler: Secure(slow)},
		Server{Name: "b", Addr: "127.0.0.1:0", Handler: Secure(http.NotFoundHandler())}); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + g.Addr("b").String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for k, want := range map[string]string{"Cache-Control": "no-store", "Content-Security-Policy": DefaultCSP,
		"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff"} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	body := make(chan string, 1)
	go func() {
		r, err := http.Get("http://" + g.Addr("a").String() + "/")
		if err != nil {
			body <- err.Error()
			return
		}
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		body <- string(b)
	}()
	<-started
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	done := make(chan error, 1)
	go func() { done <- g.Wait(ctx) }()
	time.Sleep(50 * time.Millisecond)
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if b := <-body; b != "done" {
		t.Fatalf("request in flight got %q", b)
	}
	if _, err := http.Get("http://" + g.Addr("b").String() + "/"); err == nil {
		t.Fatal("server b still answers after shutdown")
	}
}

// TestGroupStartFails: one address that cannot be bound fails the whole
// group and leaves nothing listening.
func TestGroupStartFails(t *testing.T) {
	g1 := &Group{}
	if err := g1.Start(Server{Name: "x", Addr: "127.0.0.1:0", Handler: http.NotFoundHandler()}); err != nil {
		t.Fatal(err)
	}
	defer g1.Shutdown()
	taken := g1.Addr("x").String()
	g2 := &Group{}
	err := g2.Start(Server{Name: "ok", Addr: "127.0.0.1:0", Handler: http.NotFoundHandler()},
		Server{Name: "clash", Addr: taken, Handler: http.NotFoundHandler()})
	if err == nil || !strings.Contains(err.Error(), "clash") {
		t.Fatalf("err = %v", err)
	}
	if errors.Is(err, http.ErrServerClosed) {
		t.Fatal("unexpected error kind")
	}
}

// TestGroupListener: a listener opened before Start is served, and one
// not yet served when Start fails is closed, since the Group owns it.
func TestGroupListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := &Group{}
	if err := g.Start(Server{Name: "pre", Listener: ln, Handler: http.NotFoundHandler()}); err != nil {
		t.Fatal(err)
	}
	if g.Addr("pre").String() != ln.Addr().String() {
		t.Fatalf("ok/pre-opened: serving on %s, not on the listener given (%s)", g.Addr("pre"), ln.Addr())
	}
	resp, err := http.Get("http://" + ln.Addr().String() + "/")
	if err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("ok/pre-opened: %v", err)
	}
	resp.Body.Close()
	_ = g.Shutdown()

	unserved, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	err = (&Group{}).Start(Server{Name: "bad", Addr: "no port", Handler: http.NotFoundHandler()},
		Server{Name: "later", Listener: unserved, Handler: http.NotFoundHandler()})
	if err == nil {
		t.Fatal("fail/bad-address: started")
	}
	if c, err := net.Dial("tcp", unserved.Addr().String()); err == nil {
		c.Close()
		t.Fatal("fail/bad-address: the listener not served is still open")
	}
}

// TestFormCSP names the form's target origin.
func TestFormCSP(t *testing.T) {
	if got := FormCSP("https://sp.example.org"); !strings.Contains(got, "form-action https://sp.example.org") || !strings.Contains(got, "script-src 'self'") {
		t.Fatal(got)
	}
}
