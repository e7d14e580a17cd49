package idpserver

import (
	"context"
	"errors"
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
		s.logf("metadata: %v (serving what loaded)", err)
	}
	s.bg.Start(ctx)
	s.bg.Go(func(ctx context.Context) { _ = s.Metadata.Run(ctx) })
	s.bg.Every(rolekit.Or(s.opts.CRLInterval, DefaultCRLInterval), func(context.Context) { s.keys.crls.reloadLogged(s.logf) })
	s.bg.Every(rolekit.Or(s.opts.CollectInterval, DefaultCollectInterval), s.collect)
	return s.group.Start(s.Servers()...)
}

// Run starts the server and serves until ctx ends (SIGINT, SIGTERM) or a
// listener fails, then shuts down gracefully.
func (s *Server) Run(ctx context.Context) error {
	if err := s.Start(ctx); err != nil {
		return errors.Join(err, s.Shutdown())
	}
	s.logf("serving %s on %s, card login on %s", s.File.EntityID, s.Addr(Main), s.Addr(Card))
	err := errors.Join(s.group.Wait(ctx), s.Shutdown())
	s.logf("stopped")
	return err
}

// Addr returns the address listener name (Main or Card) listens on, once
// started.
func (s *Server) Addr(name string) net.Addr { return s.group.Addr(name) }

// Shutdown stops the listeners gracefully, ends the background work and
// closes the store. It may be called more than once, and on a Server that
// was built but never started.
func (s *Server) Shutdown() error {
	err := s.group.Shutdown()
	s.closed.Do(func() {
		closeListeners(s.opts) // never served when Start was not called
		s.bg.Stop()
		err = errors.Join(err, s.Store.Close())
	})
	return err
}

// collect removes expired rows from the store.
func (s *Server) collect(ctx context.Context) {
	if _, err := s.Store.GarbageCollect(ctx, time.Now()); err != nil {
		s.logf("garbage collection: %v", err)
	}
}
