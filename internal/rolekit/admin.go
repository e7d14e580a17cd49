package rolekit

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/renkei-idwsf/renkei/internal/httpx"
	"github.com/renkei-idwsf/renkei/internal/obs"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/store/sqlstore"
)

// AdminListener names the admin listener in a role's server group: plain
// HTTP on loopback, serving /metrics, /healthz and /readyz (obs.Admin),
// when the role's file sets "admin".
const AdminListener = "admin"

// CheckAdmin reports what is wrong with a role's admin address: "" (no
// admin listener) or host:port on a loopback address. The listener is
// plain HTTP without authentication, so it never listens beyond the
// machine; a scraper elsewhere goes through a proxy the operator runs.
func CheckAdmin(addr string) error {
	if addr == "" {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("admin %q: %v", addr, err)
	}
	// A literal address only: what a name resolves to is not the
	// configuration's to promise.
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("admin %q: the admin listener is plain HTTP and listens on a loopback address only (127.0.0.1, ::1)", addr)
	}
	return nil
}

// Observe gives the server the metrics of role (Lifecycle.Metrics, the
// engines' meter) and has db report its calls to them. Every role calls it
// before Admin.
func (l *Lifecycle) Observe(role string, db *sqlstore.DB) {
	l.Metrics = obs.NewMetrics(role)
	db.Observe(l.Metrics.ObserveStore)
}

// Admin returns the admin listener on addr with the readiness checks,
// or nothing when addr is "".
func (l *Lifecycle) Admin(addr string, checks ...obs.Check) []httpx.Server {
	if addr == "" {
		return nil
	}
	return []httpx.Server{{Name: AdminListener, Addr: addr, Handler: obs.Admin(l.Metrics, l.Logger(), checks...)}}
}

// Ready are the checks of a role's /readyz: its store answers, the
// metadata is loaded and lists self valid now, its signing key is loaded
// and its certificate in date.
func Ready(db *sqlstore.DB, meta *md.Set, self string, key crypto.Signer, cert *x509.Certificate, now func() time.Time) []obs.Check {
	return []obs.Check{StoreReady(db), MetadataReady(meta, self, now), KeysReady(key, cert, now)}
}

// Serving is a role's listeners: main, then the admin listener at addr
// (none when addr is ""), whose /readyz runs checks.
func (l *Lifecycle) Serving(main httpx.Server, addr string, checks ...obs.Check) []httpx.Server {
	return append([]httpx.Server{main}, l.Admin(addr, checks...)...)
}

// StoreReady is ready when the store answers a ping.
func StoreReady(db *sqlstore.DB) obs.Check {
	return obs.Check{Name: "store", Run: db.Ping}
}

// MetadataReady is ready when every metadata source has loaded at least
// once and the set holds an entity valid now; with self set, the role's
// own entity must be one (a copy past its validUntil is not).
func MetadataReady(meta *md.Set, self string, now func() time.Time) obs.Check {
	return obs.Check{Name: "metadata", Run: func(context.Context) error {
		t := time.Now()
		if now != nil {
			t = now()
		}
		for _, st := range meta.Status() {
			if st.Loaded.IsZero() {
				return fmt.Errorf("%s never loaded: %v", st.Location, st.Err)
			}
		}
		if len(meta.Entries(t)) == 0 {
			return errors.New("no entity valid now")
		}
		if self != "" {
			if _, err := meta.Entity(self, t); err != nil {
				return err
			}
		}
		return nil
	}}
}

// KeysReady is ready when the signing key is loaded and its certificate
// is valid now.
func KeysReady(key crypto.Signer, cert *x509.Certificate, now func() time.Time) obs.Check {
	return obs.Check{Name: "keys", Run: func(context.Context) error {
		t := time.Now()
		if now != nil {
			t = now()
		}
		switch {
		case key == nil || cert == nil:
			return errors.New("no signing key loaded")
		case t.Before(cert.NotBefore) || t.After(cert.NotAfter):
			return fmt.Errorf("the signing certificate is valid from %s to %s", cert.NotBefore.UTC().Format(time.RFC3339), cert.NotAfter.UTC().Format(time.RFC3339))
		}
		return nil
	}}
}
