package idpserver

import (
	"context"
	"crypto/sha256"
	"log/slog"
	"os"
	"sort"
	"time"

	"github.com/renkei-idwsf/renkei/xmlsec"
)

// MetadataChange is what a metadata reload changed: the entityIDs that
// appeared, disappeared, or whose descriptor differs, each sorted.
type MetadataChange struct {
	Added, Removed, Changed []string
}

// ReloadMetadata loads every metadata source again at once, as renkei-idp
// does on SIGHUP, instead of waiting up to the aggregate's cacheDuration,
// and logs what changed. A source that fails keeps its last good copy
// (saml/md.Set); the failure is logged and returned with the change.
func (s *Server) ReloadMetadata(ctx context.Context) (MetadataChange, error) {
	now := time.Now()
	before := s.entityDigests(now)
	err := s.Metadata.Refresh(ctx, now)
	ch := diffEntities(before, s.entityDigests(now))
	attrs := []any{slog.Any("added", ch.Added), slog.Any("removed", ch.Removed), slog.Any("changed", ch.Changed)}
	if err != nil {
		s.life.Logger().Warn("metadata reload failed for a source, its last good copy kept",
			append(attrs, slog.String("error", err.Error()))...)
		return ch, err
	}
	s.life.Logger().Info("metadata reloaded", attrs...)
	return ch, nil
}

// entityDigests are the SHA-256 digests of each entity valid at now, by
// entityID.
func (s *Server) entityDigests(now time.Time) map[string][32]byte {
	out := map[string][32]byte{}
	for _, e := range s.Metadata.Entries(now) {
		b, err := xmlsec.Serialize(e.Entity.Element())
		if err != nil {
			b = []byte(err.Error()) // still an entry: it is listed
		}
		out[e.Entity.EntityID] = sha256.Sum256(b)
	}
	return out
}

func diffEntities(before, after map[string][32]byte) MetadataChange {
	var ch MetadataChange
	for id, d := range after {
		old, ok := before[id]
		switch {
		case !ok:
			ch.Added = append(ch.Added, id)
		case old != d:
			ch.Changed = append(ch.Changed, id)
		}
	}
	for id := range before {
		if _, ok := after[id]; !ok {
			ch.Removed = append(ch.Removed, id)
		}
	}
	for _, l := range [][]string{ch.Added, ch.Removed, ch.Changed} {
		sort.Strings(l)
	}
	return ch
}

// reloadOn reloads the metadata and the CRL files at each signal received
// on c until ctx ends.
func (s *Server) reloadOn(c <-chan os.Signal) func(context.Context) {
	return func(ctx context.Context) {
		for {
			select {
			case <-ctx.Done():
				return
			case <-c:
				_, _ = s.ReloadMetadata(ctx)
				s.keys.crls.reloadLogged(s.life.Logger())
			}
		}
	}
}
