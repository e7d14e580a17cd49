// Package dsserver assembles Renkei's Discovery Service from its
// configuration file: the keys, the relay database (the store the IdP
// shares), the metadata aggregate as the trust directory (wsf/metadir),
// the discovery engine behind the wsf/server receiver, and the HTTPS
// listener. The renkei-ds binary and the demo both build it here.
package dsserver

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/beevik/etree"
	"github.com/gorilla/mux"

	"github.com/renkei-idwsf/renkei/discovery"
	"github.com/renkei-idwsf/renkei/internal/httpx"
	"github.com/renkei-idwsf/renkei/internal/keyfile"
	"github.com/renkei-idwsf/renkei/internal/obs"
	"github.com/renkei-idwsf/renkei/internal/rolekit"
	"github.com/renkei-idwsf/renkei/internal/wsfstore"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/store/sqlstore"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/metadir"
	"github.com/renkei-idwsf/renkei/wsf/server"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
	"github.com/renkei-idwsf/renkei/xmlsec/xmlenc"
	"github.com/renkei-idwsf/renkei/xmlsec/xsd"
)

// Name of the listener in the server group (Server.Addr).
const Main = "main"

// Defaults of Options.
const (
	DefaultCollectInterval = 10 * time.Minute
)

// Options are what a caller sets beside the file.
type Options struct {
	// Store, when set, replaces File.Store.
	Store string
	// Listener, when set, is served instead of listening on File.Listen.
	// The server owns it.
	Listener net.Listener
	// Log receives the server's events and one line per request; nil
	// means slog.Default().
	Log *slog.Logger
	// CollectInterval is how often expired rows are removed; 0 means the
	// default.
	CollectInterval time.Duration
	// Now is the clock of the engine and the receiver; nil is time.Now.
	Now func() time.Time
}

// Server is the Discovery Service built from a configuration file.
type Server struct {
	File      *File
	Store     *sqlstore.DB
	Metadata  *md.Set
	Directory *metadir.Directory
	DS        *discovery.DS
	Receiver  *server.Receiver

	opts Options
	keys *rolekit.ServiceKeys
	life rolekit.Lifecycle
}

func loadKeys(c *File) (*rolekit.ServiceKeys, error) {
	l := &keyfile.Loader{}
	k := rolekit.LoadServiceKeys(l, c.TLS, c.Signing, c.Encryption, c.Metadata)
	return k, l.Err()
}

// Build reads the files f names, opens the store, loads the metadata and
// assembles the engine; every problem is reported at once. The metadata
// must list the DS itself (its web service role with this signing and
// encryption key and the SOAP endpoint BaseURL+PathSOAP) and the IdP.
// Build serves nothing: Start or Run does. The caller must call Shutdown.
func Build(ctx context.Context, f *File, opts Options) (*Server, error) {
	var k *rolekit.ServiceKeys
	db, err := rolekit.Prepare(ctx, f, func() (err error) { k, err = loadKeys(f); return err }, f.Store, opts.Store, opts.Listener)
	if err != nil {
		return nil, err
	}
	s := &Server{File: f, Store: db, opts: opts, keys: k}
	s.life.Log = opts.Log
	s.life.OwnListeners(opts.Listener)
	s.life.Own(db.Close)
	s.life.Observe("ds", db)
	if err := s.assemble(ctx); err != nil {
		return nil, errors.Join(err, s.Shutdown())
	}
	return s, nil
}

func (s *Server) now() time.Time {
	if s.opts.Now != nil {
		return s.opts.Now()
	}
	return time.Now()
}

// SOAPURL is the DS's SOAP endpoint.
func (s *Server) SOAPURL() string { return strings.TrimSuffix(s.File.BaseURL, "/") + PathSOAP }

// ConsentURL is the consent page.
func (s *Server) ConsentURL() string { return strings.TrimSuffix(s.File.BaseURL, "/") + PathConsent }

func (s *Server) assemble(ctx context.Context) error {
	c, k := s.File, s.keys
	schema, err := xsd.Default()
	if err != nil {
		return err
	}
	if s.Metadata, err = md.New(md.Config{Sources: k.Metadata, Schema: schema}); err != nil {
		return err
	}
	loadErr := s.Metadata.Refresh(ctx, s.now())
	peers := map[string]wsf.Profile{}
	for peer, name := range c.Peers {
		peers[peer] = profiles[name]
	}
	if s.Directory, err = metadir.New(metadir.Config{Metadata: s.Metadata, Issuers: []string{c.IdP, c.EntityID},
		Profiles: peers, Now: s.opts.Now}); err != nil {
		return err
	}
	if err := s.checkMetadata(ctx, loadErr); err != nil {
		return err
	}
	pol, err := s.policy()
	if err != nil {
		return err
	}
	signer := &dsig.Signer{Key: k.Signing, Certificates: []*x509.Certificate{k.SigningCert}}
	s.DS, err = discovery.New(discovery.Config{EntityID: c.EntityID, NameQualifier: c.IdP, Signer: signer,
		SigningKeys: []*etree.Element{(&md.KeyDescriptor{Use: md.UseSigning, Certificates: []*x509.Certificate{k.SigningCert}}).Element()}, Store: s.Store, Providers: s.Directory,
		Policy: pol, ConsentURL: s.ConsentURL(), AuditURL: s.SOAPURL(), Schema: schema, Now: s.opts.Now, Meter: s.life.Metrics})
	if err != nil {
		return err
	}
	dec, _ := k.EncKey.(crypto.Decrypter)
	cfg := server.Config{EntityID: c.EntityID, Endpoints: []string{s.SOAPURL()}, Key: k.Signing, Certificate: k.SigningCert,
		Decrypter: &xmlenc.Decrypter{Key: dec, EntityID: c.EntityID}, Directory: s.Directory,
		Mechanisms: wsf.Mechanisms(), Replay: wsfstore.Replay(s.Store), Schema: schema, SkipOutgoingValidation: !c.CheckOutgoing, Now: s.opts.Now,
		Meter: s.life.Metrics, Verified: obs.Verified(s.life.Logger())}
	s.DS.Mount(&cfg)
	s.Receiver, err = server.New(cfg)
	return err
}

// checkMetadata requires the aggregate to list the DS as this
// configuration runs it, and the IdP: a DS the metadata describes
// otherwise would mint tokens WSPs refuse, or be sent tokens it cannot
// read.
func (s *Server) checkMetadata(ctx context.Context, loadErr error) error {
	c, k := s.File, s.keys
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	errs = append(errs, rolekit.CheckSelf(ctx, s.Directory, "DS", c.EntityID, k)...)
	if eps, err := s.Directory.Service(ctx, c.EntityID, wsf.ServiceTypeDisco); err != nil || !contains(eps, s.SOAPURL()) {
		add("metadata does not list %s as the DS's SOAP endpoint for %s (%v)", s.SOAPURL(), wsf.ServiceTypeDisco, err)
	}
	if _, err := s.Directory.Peer(ctx, c.IdP); err != nil {
		add("metadata does not list the IdP %s: %v", c.IdP, err)
	}
	if len(errs) > 0 && loadErr != nil {
		errs = append(errs, fmt.Errorf("loading the metadata: %w", loadErr))
	}
	return errors.Join(errs...)
}

func (s *Server) policy() (discovery.Policy, error) {
	p := s.File.Policy
	life, _ := ParseDuration(p.TokenLifetime)
	age, _ := ParseDuration(p.Reception.MaxAge)
	pol := discovery.Policy{TokenLifetime: life, EncryptBearer: p.EncryptBearer, Portals: p.Portals,
		Reception: discovery.Reception{Terminals: p.Reception.Terminals, MaxAge: age, Purposes: p.Reception.Purposes}}
	for _, m := range p.Mechanisms {
		mech, _ := wsf.ParseMechanism(m)
		pol.Mechanisms = append(pol.Mechanisms, mech)
	}
	return pol, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Handler returns the listener's router behind httpx.Secure: the SOAP
// endpoint and the consent page its RedirectRequests send browsers to.
func (s *Server) Handler() http.Handler {
	r := mux.NewRouter()
	r.Use(httpx.MarkRoute)
	r.Handle(PathSOAP, server.Handler{Receiver: s.Receiver, Log: s.logFault}).Methods(http.MethodPost)
	(&discovery.ConsentHTTP{DS: s.DS, Path: PathConsent, Log: s.logRefused}).Mount(r)
	return httpx.Secure(r)
}

func (s *Server) logRefused(r *http.Request, err error) { s.life.LogRequest(r, err) }

func (s *Server) logFault(r *http.Request, resp *server.Response) {
	s.life.LogRequest(r, fmt.Errorf("fault %v: %v", resp.Fault, resp.Err))
}

// Servers are the main listener, TLS that requests a client certificate
// without verifying a chain (the receiver trusts client keys by the
// metadata, ARCHITECTURE "Card login"), and the admin listener when
// File.Admin is set, whose /readyz checks the store, the metadata
// (this role's entity valid now) and the signing key (rolekit.Ready).
func (s *Server) Servers() []httpx.Server {
	return s.life.Serving(httpx.Server{Name: Main, Addr: s.File.Listen, Listener: s.opts.Listener, Handler: s.life.Observed(Main, s.Handler()),
		TLS: &tls.Config{Certificates: []tls.Certificate{s.keys.TLS}, ClientAuth: tls.RequestClientCert, MinVersion: tls.VersionTLS12}}, s.File.Admin,
		rolekit.Ready(s.Store, s.Metadata, s.File.EntityID, s.keys.Signing, s.keys.SigningCert, s.opts.Now)...)
}

// AdminAddr returns the admin listener's address once started, nil
// without one.
func (s *Server) AdminAddr() net.Addr { return s.life.Addr(rolekit.AdminListener) }

// Start starts the background work (metadata refresh, garbage
// collection) until ctx ends or Shutdown, and serves the listener.
func (s *Server) Start(ctx context.Context) error {
	s.life.Start(ctx)
	s.life.Go(func(ctx context.Context) { _ = s.Metadata.Run(ctx) })
	s.life.Every(rolekit.Or(s.opts.CollectInterval, DefaultCollectInterval), s.life.Collect(s.Store))
	return s.life.Serve(s.Servers()...)
}

// Run starts the server and serves until ctx ends or the listener fails,
// then shuts down gracefully.
func (s *Server) Run(ctx context.Context) error {
	return s.life.Run(ctx, s.Start, func() string { return s.File.EntityID + " on " + s.Addr().String() })
}

// Addr returns the address the listener listens on, once started.
func (s *Server) Addr() net.Addr { return s.life.Addr(Main) }

// Shutdown stops the listener gracefully, ends the background work and
// closes the store. It may be called more than once.
func (s *Server) Shutdown() error { return s.life.Shutdown() }
