package idpserver

import (
	"context"
	"log/slog"
	"net"
	"time"

	"github.com/renkei-idwsf/renkei/internal/rolekit"
)

// Start loads the metadata (a source that fails is logged, and what
// loaded is served), starts the background work (metadata refresh, CRL
// files, garbage collection) until ctx ends or Shutdown, and serves both
// listeners.
func (s *Server) Start(ctx context.Context) error {
	if err := s.Metadata.Refresh(ctx, time.Now()); err != nil {
		s.life.Logger().Warn("metadata not all loaded, serving what loaded", slog.String("error", err.Error()))
	}
	s.announceQuirks()
	s.life.Start(ctx)
	s.life.Go(func(ctx context.Context) { _ = s.Metadata.Run(ctx) })
	s.life.Every(rolekit.Or(s.opts.CRLInterval, DefaultCRLInterval), func(context.Context) { s.keys.crls.reloadLogged(s.life.Logger()) })
	s.life.Every(rolekit.Or(s.opts.CollectInterval, DefaultCollectInterval), s.life.Collect(s.Store))
	if s.opts.Reload != nil {
		s.life.Go(s.reloadOn(s.opts.Reload))
	}
	return s.life.Serve(s.Servers()...)
}

// Run starts the server and serves until ctx ends (SIGINT, SIGTERM) or a
// listener fails, then shuts down gracefully.
func (s *Server) Run(ctx context.Context) error {
	return s.life.Run(ctx, s.Start, func() string {
		return s.File.EntityID + " on " + s.Addr(Main).String() + ", card login on " + s.Addr(Card).String()
	})
}

// Addr returns the address listener name (Main, Card or
// rolekit.AdminListener) listens on, once started.
func (s *Server) Addr(name string) net.Addr { return s.life.Addr(name) }

// Shutdown stops the listeners gracefully, ends the background work and
// closes the store. It may be called more than once, and on a Server that
// was built but never started.
func (s *Server) Shutdown() error { return s.life.Shutdown() }
