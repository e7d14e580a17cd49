// Package rolekit is what every role's assembly (internal/idpserver,
// internal/dsserver, internal/wspserver) shares: reading its strict JSON
// configuration file, the metadata sources an operator names, durations,
// the background work that runs beside the listeners until the server
// stops, a web service's keys and their check against the metadata
// (service.go), and the log, metrics and admin listener of every role
// (lifecycle.go, admin.go, over internal/obs).
package rolekit

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"github.com/renkei-idwsf/renkei/internal/keyfile"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/store/sqlstore"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// File is a role's configuration file.
type File interface {
	// Defaults fills the fields left empty.
	Defaults()
	// Validate reports every problem at once.
	Validate() error
}

// Read reads path into f, unknown fields refused, fills the defaults and
// validates it.
func Read(path string, f File) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(f); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	f.Defaults()
	if err := f.Validate(); err != nil {
		return fmt.Errorf("%s:\n%w", path, err)
	}
	return nil
}

// MetadataSource is the operator's signed aggregate (OperatorCert set) or
// a file placed by the operator (Unsigned).
type MetadataSource struct {
	Location     string `json:"location"`
	OperatorCert string `json:"operatorCert,omitempty"`
	Unsigned     bool   `json:"unsigned,omitempty"`
}

// CheckMetadata reports every problem of the metadata sources.
func CheckMetadata(srcs []MetadataSource) []error {
	var errs []error
	if len(srcs) == 0 {
		errs = append(errs, errors.New("metadata lists no source: no peer could be trusted"))
	}
	for i, m := range srcs {
		switch {
		case m.Location == "":
			errs = append(errs, fmt.Errorf("metadata[%d] has no location", i))
		case m.Unsigned == (m.OperatorCert != ""):
			errs = append(errs, fmt.Errorf("metadata[%d] needs exactly one of operatorCert and unsigned", i))
		}
	}
	return errs
}

// Sources reads the operator certificates the sources name (failures go
// to l) and returns them as md.Sources.
func Sources(l *keyfile.Loader, srcs []MetadataSource) []md.Source {
	var out []md.Source
	for i, m := range srcs {
		src := md.Source{Location: m.Location, Unsigned: m.Unsigned}
		if m.OperatorCert != "" {
			src.Trust = xmlsec.NewTrustSet([]*x509.Certificate{l.Cert(fmt.Sprintf("metadata[%d].operatorCert", i), m.OperatorCert)})
		}
		out = append(out, src)
	}
	return out
}

// ParseDuration reads a Go duration ("5m", "120s"); "" is zero (the
// default).
func ParseDuration(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err == nil && d <= 0 {
		err = fmt.Errorf("%q is not positive", s)
	}
	return d, err
}

// Or returns d, or def when d is not positive.
func Or(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// Background runs a server's work beside its listeners (metadata
// refresh, garbage collection, CRL reloads) until Stop.
type Background struct {
	wg     sync.WaitGroup
	cancel context.CancelFunc
	ctx    context.Context
}

// Start begins the background's life under ctx; Go and Every run until ctx
// ends or Stop.
func (b *Background) Start(ctx context.Context) {
	b.ctx, b.cancel = context.WithCancel(ctx)
}

// Go runs fn(ctx) in its own goroutine.
func (b *Background) Go(fn func(ctx context.Context)) {
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		fn(b.ctx)
	}()
}

// Every calls fn at each tick of interval.
func (b *Background) Every(interval time.Duration, fn func(context.Context)) {
	b.Go(func(ctx context.Context) {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				fn(ctx)
			}
		}
	})
}

// Stop ends the work and waits for it; it may be called on a Background
// never started.
func (b *Background) Stop() {
	if b.cancel != nil {
		b.cancel()
	}
	b.wg.Wait()
}

// Prepare is what every assembly's Build does before it assembles: the
// file's own check (a File built in code is not read), the reading of its
// key files by load, and opening the store (override, when set, replaces
// dsn). On failure it closes the listeners the caller handed over, which
// the server would otherwise have owned.
func Prepare(ctx context.Context, f File, load func() error, dsn, override string, lns ...net.Listener) (*sqlstore.DB, error) {
	db, err := prepare(ctx, f, load, dsn, override)
	if err != nil {
		for _, ln := range lns {
			if ln != nil {
				ln.Close()
			}
		}
	}
	return db, err
}

func prepare(ctx context.Context, f File, load func() error, dsn, override string) (*sqlstore.DB, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	if err := load(); err != nil {
		return nil, err
	}
	if override != "" {
		dsn = override
	}
	db, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return db, nil
}
