package rolekit

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/renkei-idwsf/renkei/internal/httpx"
	"github.com/renkei-idwsf/renkei/internal/keyfile"
	"github.com/renkei-idwsf/renkei/internal/obs"
	"github.com/renkei-idwsf/renkei/store"
	"github.com/renkei-idwsf/renkei/wsf"
)

// Lifecycle is a role's server around its listeners, the same for every
// assembly: the background work, the group of listeners, the log and the
// metrics, and the graceful stop that closes what the server owns, once.
type Lifecycle struct {
	// Log receives the server's events and one line per request; nil
	// means slog.Default().
	Log *slog.Logger
	// Metrics are the role's own (obs.NewMetrics); nil counts nothing.
	Metrics *obs.Metrics
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
	l.Logger().Info("serving", slog.String("on", serving()))
	err := errors.Join(l.group.Wait(ctx), l.Shutdown())
	l.Logger().Info("stopped")
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

// Logger returns Log, or slog.Default() when it is nil.
func (l *Lifecycle) Logger() *slog.Logger {
	if l.Log != nil {
		return l.Log
	}
	return slog.Default()
}

// Printf logs an event of the server at level Info, for the engines that
// take a printf-style log (wsp.Config.Logf, the terminal's desk).
func (l *Lifecycle) Printf(format string, args ...any) {
	l.Logger().Info(fmt.Sprintf(format, args...))
}

// Collect is the garbage collection of st, its failures logged: the
// expired sessions, artifacts and seen identifiers removed.
func (l *Lifecycle) Collect(st store.Collector) func(context.Context) {
	return func(ctx context.Context) {
		if _, err := st.GarbageCollect(ctx, time.Now()); err != nil {
			l.Logger().Warn("garbage collection", slog.String("error", err.Error()))
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
// request ID, the method and path, and the private cause.
func (l *Lifecycle) LogRequest(r *http.Request, err error) {
	if r == nil {
		l.Logger().Warn("refused", slog.String("error", err.Error()))
		return
	}
	l.Logger().LogAttrs(r.Context(), slog.LevelWarn, "refused", slog.String("request_id", wsf.RequestID(r.Context())),
		slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("error", err.Error()))
}

// Observed wraps the handler of the listener named listener: a request
// ID, one log line and the metrics of each request (obs.Serve).
func (l *Lifecycle) Observed(listener string, h http.Handler) http.Handler {
	return obs.Serve(l.Metrics, l.Logger(), listener, h)
}
