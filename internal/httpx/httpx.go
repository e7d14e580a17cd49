// Package httpx is Renkei's shared server plumbing: the security headers
// every page carries, and a group of HTTP servers that start together and
// shut down gracefully together.
package httpx

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// DefaultCSP is the Content-Security-Policy of a page that needs nothing
// but itself: no script, no frame, no form target. A handler that serves
// an auto-submitting form replaces it (see FormCSP).
const DefaultCSP = "default-src 'none'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// FormCSP is the policy of an HTTP-POST binding page whose script is
// served from this origin and whose form posts to action's origin.
func FormCSP(actionOrigin string) string {
	return "default-src 'none'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action " + actionOrigin
}

// Secure adds the headers every response of a Renkei server carries: no
// caching (pages carry one-time messages and session state), no framing,
// no MIME sniffing, no referrer (URLs carry SAML messages), and
// DefaultCSP unless the handler sets its own.
func Secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("Pragma", "no-cache")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", DefaultCSP)
		next.ServeHTTP(w, r)
	})
}

// Server is one listener of a Group.
type Server struct {
	Name string
	Addr string // host:port; ":0" style ports pick a free one
	// Listener, when set, is served instead of listening on Addr (a
	// caller that must know its URL before it builds its handlers opens
	// it first). The Group owns it from Start on.
	Listener net.Listener
	TLS      *tls.Config // nil serves plain HTTP (tests only)
	Handler  http.Handler
}

// Group runs servers together: Start listens on every address (failing
// as a whole when one cannot), Shutdown stops them all gracefully.
type Group struct {
	// ShutdownTimeout bounds the graceful shutdown; 0 means 10 s.
	ShutdownTimeout time.Duration

	mu      sync.Mutex
	servers []*http.Server
	addrs   map[string]net.Addr
	errs    chan error
}

// Start listens on every server's address and serves in the background.
func (g *Group) Start(servers ...Server) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.addrs = map[string]net.Addr{}
	g.errs = make(chan error, len(servers))
	var lns []net.Listener
	for i, s := range servers {
		ln, err := listen(s)
		if err != nil {
			for _, l := range lns {
				l.Close()
			}
			for _, rest := range servers[i+1:] {
				if rest.Listener != nil {
					rest.Listener.Close()
				}
			}
			return fmt.Errorf("httpx: %s: %w", s.Name, err)
		}
		lns = append(lns, ln)
		g.addrs[s.Name] = ln.Addr()
	}
	for i, s := range servers {
		hs := &http.Server{Handler: s.Handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute,
			WriteTimeout: time.Minute, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
		g.servers = append(g.servers, hs)
		go func(ln net.Listener) {
			if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				g.errs <- err
			}
		}(lns[i])
	}
	return nil
}

func listen(s Server) (net.Listener, error) {
	ln := s.Listener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", s.Addr); err != nil {
			return nil, err
		}
	}
	if s.TLS == nil {
		return ln, nil
	}
	return tls.NewListener(ln, s.TLS), nil
}

// Addr returns the address the server named name listens on.
func (g *Group) Addr(name string) net.Addr {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.addrs[name]
}

// Wait blocks until ctx is done or a server fails, then shuts every
// server down gracefully; it returns the failure, if any.
func (g *Group) Wait(ctx context.Context) error {
	var err error
	select {
	case <-ctx.Done():
	case err = <-g.errs:
	}
	return errors.Join(err, g.Shutdown())
}

// Shutdown stops every server, letting requests in flight finish within
// ShutdownTimeout.
func (g *Group) Shutdown() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	d := g.ShutdownTimeout
	if d == 0 {
		d = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var errs []error
	for _, s := range g.servers {
		errs = append(errs, s.Shutdown(ctx))
	}
	g.servers = nil
	return errors.Join(errs...)
}
