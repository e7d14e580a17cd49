package rolekit

import (
	"context"
	"crypto/x509"
	"errors"
	"log"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/renkei-idwsf/renkei/internal/httpx"
	"github.com/renkei-idwsf/renkei/internal/keyfile"
	"github.com/renkei-idwsf/renkei/store"
)

// Lifecycle is a role's server around its listeners, the same for every
// assembly: the background work, the group of listeners, the log, and
// the graceful stop that closes what the server owns, once.
type Lifecycle struct {
	// Logf receives the server's events; nil means log.Printf.
	Logf func(format string, args ...any)
	Background

	group   httpx.Group
	closed  sync.Once
	mu      sync.Mutex
	closers []func() error
}

// Own has Shutdown close c after the listeners and the background work
// have stopped, in the order owned (the back office, then the store).
func (l *Lifecycle) Own(c func() error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closers = append(l.closers, c)
}

// OwnListeners has Shutdown close the listeners handed to Build, which
// were never served when Start was not called; an error closing one the
// group already closed is nothing to report.
func (l *Lifecycle) OwnListeners(lns ...net.Listener) {
	l.Own(func() error {
		for _, ln := range lns {
			if ln != nil {
				_ = ln.Close()
			}
		}
		return nil
	})
}

// Serve starts listening on every server, in the background.
func (l *Lifecycle) Serve(servers ...httpx.Server) error { return l.group.Start(servers...) }

// Addr returns the address the listener name listens on, once serving.
func (l *Lifecycle) Addr(name string) net.Addr { return l.group.Addr(name) }

// Run calls start, then serves until ctx ends or a listener fails, and
// shuts down gracefully; serving says what in the log.
func (l *Lifecycle) Run(ctx context.Context, start func(context.Context) error, serving func() string) error {
	if err := start(ctx); err != nil {
		return errors.Join(err, l.Shutdown())
	}
	l.Printf("serving %s", serving())
	err := errors.Join(l.group.Wait(ctx), l.Shutdown())
	l.Printf("stopped")
	return err
}

// Shutdown stops the listeners gracefully, ends the background work and
// closes what the server owns. It may be called more than once, and on a
// server built but never started.
func (l *Lifecycle) Shutdown() error {
	err := l.group.Shutdown()
	l.closed.Do(func() {
		l.Background.Stop()
		l.mu.Lock()
		defer l.mu.Unlock()
		for _, c := range l.closers {
			err = errors.Join(err, c())
		}
	})
	return err
}

// Printf logs an event of the server.
func (l *Lifecycle) Printf(format string, args ...any) {
	if l.Logf != nil {
		l.Logf(format, args...)
		return
	}
	log.Printf(format, args...)
}

// Collect is the garbage collection of st, its failures logged: the
// expired sessions, artifacts and seen identifiers removed.
func (l *Lifecycle) Collect(st store.Collector) func(context.Context) {
	return func(ctx context.Context) {
		if _, err := st.GarbageCollect(ctx, time.Now()); err != nil {
			l.Printf("garbage collection: %v", err)
		}
	}
}

// Roots reads the PEM file of the CAs a role trusts for its peers' TLS
// certificates; "" is nil, the system's roots. Problems go to ld.
func Roots(ld *keyfile.Loader, path string) *x509.CertPool {
	if path == "" {
		return nil
	}
	pool := x509.NewCertPool()
	b, err := os.ReadFile(path)
	if err != nil {
		ld.Fail("trustedRoots", err)
	} else if !pool.AppendCertsFromPEM(b) {
		ld.Fail("trustedRoots", errors.New("holds no PEM certificate"))
	}
	return pool
}

// LogRequest logs a request's failure (the HTTP adapters' Log): the
// method and path, and the private cause.
func (l *Lifecycle) LogRequest(r *http.Request, err error) {
	if r == nil {
		l.Printf("%v", err)
		return
	}
	l.Printf("%s %s: %v", r.Method, r.URL.Path, err)
}
