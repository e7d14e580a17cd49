// Package wspserver assembles one institution's WSP from its
// configuration file: the keys, the WSP's own store (replay cache and
// access audit), the metadata aggregate as the trust directory
// (wsf/metadir), the back office through its mapping file (wsp/sqlmap or
// wsp/httpjson), the DST engine behind the wsf/server receiver, the HTTPS
// listener, and the registration of its SvcMDs at the Discovery Service.
// The renkei-wsp binary and the demo both build it here.
package wspserver

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
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/mux"

	"github.com/renkei-idwsf/renkei/internal/httpx"
	"github.com/renkei-idwsf/renkei/internal/keyfile"
	"github.com/renkei-idwsf/renkei/internal/obs"
	"github.com/renkei-idwsf/renkei/internal/rolekit"
	"github.com/renkei-idwsf/renkei/internal/wsfstore"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/store/sqlstore"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/client"
	"github.com/renkei-idwsf/renkei/wsf/disco"
	"github.com/renkei-idwsf/renkei/wsf/dst"
	"github.com/renkei-idwsf/renkei/wsf/metadir"
	"github.com/renkei-idwsf/renkei/wsf/server"
	"github.com/renkei-idwsf/renkei/wsp"
	"github.com/renkei-idwsf/renkei/xmlsec/xmlenc"
	"github.com/renkei-idwsf/renkei/xmlsec/xsd"
)

// Name of the listener in the server group (Server.Addr).
const Main = "main"

// Defaults of Options.
const (
	DefaultCollectInterval  = 10 * time.Minute
	DefaultRegisterInterval = 10 * time.Minute
	// registerRetry is the first wait after a failed registration; it
	// doubles up to the register interval.
	registerRetry = 2 * time.Second
)

// Options are what a caller sets beside the file.
type Options struct {
	// Store, when set, replaces File.Store; Backend the back office's
	// address: File.Backend.DSN (sql) or File.Backend.Base (http).
	Store   string
	Backend string
	// Listener, when set, is served instead of listening on File.Listen.
	// The server owns it.
	Listener net.Listener
	// RootCAs, when set, replace File.TrustedRoots.
	RootCAs *x509.CertPool
	// Log receives the server's events and one line per request; nil
	// means slog.Default().
	Log *slog.Logger
	// CollectInterval and RegisterInterval are how often expired rows are
	// removed and the SvcMDs re-checked at the DS; 0 means the defaults.
	CollectInterval  time.Duration
	RegisterInterval time.Duration
	// Now is the clock of the engine and the receiver; nil is time.Now.
	Now func() time.Time
}

// Server is a WSP built from a configuration file.
type Server struct {
	File      *File
	Store     *sqlstore.DB
	Metadata  *md.Set
	Directory *metadir.Directory
	Backend   wsp.Backend
	WSP       *wsp.WSP
	// SLO is the SingleLogoutService when File.IdP is set, else nil.
	SLO       *wsp.SLO
	Receiver  *server.Receiver
	Registrar *wsp.Registrar

	opts   Options
	keys   *keys
	sloURL string // the SingleLogoutService as the metadata lists it
	mapped mapped
	life   rolekit.Lifecycle

	regMu sync.Mutex
	reg   *wsp.Registration
}

type keys struct {
	*rolekit.ServiceKeys
	roots *x509.CertPool
}

func loadKeys(c *File) (*keys, error) {
	l := &keyfile.Loader{}
	k := &keys{ServiceKeys: rolekit.LoadServiceKeys(l, c.TLS, c.Signing, c.Encryption, c.Metadata), roots: rolekit.Roots(l, c.TrustedRoots)}
	return k, l.Err()
}

// Build reads the files f names, opens the store and the back office,
// loads the metadata and assembles the engine; every problem is reported
// at once. The metadata must list the WSP itself (its web service role
// with this signing and encryption key and the SOAP endpoint
// BaseURL+PathSOAP for every service type served; with File.IdP, its SP
// role with the SOAP SingleLogoutService SLOURL, and the IdP) and the DS. Build
// serves nothing: Start or Run does. The caller must call Shutdown.
func Build(ctx context.Context, f *File, opts Options) (*Server, error) {
	var k *keys
	db, err := rolekit.Prepare(ctx, f, func() (err error) { k, err = loadKeys(f); return err }, f.Store, opts.Store, opts.Listener)
	if err != nil {
		return nil, err
	}
	s := &Server{File: f, Store: db, opts: opts, keys: k}
	s.life.Log = opts.Log
	s.life.Observe("wsp", db)
	s.life.OwnListeners(opts.Listener)
	s.life.Own(func() error { // the back office, once assembled, then the store
		var err error
		if s.Backend != nil {
			err = s.Backend.Close()
		}
		return errors.Join(err, db.Close())
	})
	if err := s.assemble(ctx); err != nil {
		return nil, errors.Join(err, s.Shutdown())
	}
	return s, nil
}

// SLOURL is this node's SOAP SingleLogoutService.
func (s *Server) SLOURL() string { return strings.TrimSuffix(s.File.BaseURL, "/") + PathSLO }

// SOAPURL is this node's SOAP endpoint.
func (s *Server) SOAPURL() string { return strings.TrimSuffix(s.File.BaseURL, "/") + PathSOAP }

// Endpoints are the WSP's SOAP endpoints: File.Endpoints, or this node's.
func (s *Server) Endpoints() []string {
	if len(s.File.Endpoints) > 0 {
		return s.File.Endpoints
	}
	return []string{s.SOAPURL()}
}

func (s *Server) assemble(ctx context.Context) error {
	c, k := s.File, s.keys
	schema, err := xsd.Default()
	if err != nil {
		return err
	}
	if s.Backend, s.mapped, err = openBackend(ctx, c, s.opts.Backend); err != nil {
		return fmt.Errorf("backend: %w", err)
	}
	services, err := s.services()
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
	var issuers []string
	if c.DS != "" {
		issuers = append(issuers, c.DS)
	}
	if s.Directory, err = metadir.New(metadir.Config{Metadata: s.Metadata, Issuers: issuers,
		Profiles: peers, Now: s.opts.Now}); err != nil {
		return err
	}
	if err := s.checkMetadata(ctx, services, loadErr); err != nil {
		return err
	}
	timeout, _ := rolekit.ParseDuration(c.Backend.Timeout)
	s.WSP, err = wsp.New(wsp.Config{EntityID: c.EntityID, Backend: s.Backend, Services: services, Audit: s.Store,
		AuditReaders: c.AuditReaders, Timeout: timeout, Now: s.opts.Now, Logf: s.logf})
	if err != nil {
		return err
	}
	mechs := []wsf.Mechanism{wsf.ClientTLSSAMLV2, wsf.ClientTLSPeerSAMLV2}
	if len(c.Mechanisms) > 0 {
		mechs = nil
		for _, m := range c.Mechanisms {
			mech, _ := wsf.ParseMechanism(m)
			mechs = append(mechs, mech)
		}
	}
	dec, _ := k.EncKey.(crypto.Decrypter)
	cfg := server.Config{EntityID: c.EntityID, Endpoints: s.Endpoints(), Key: k.Signing, Certificate: k.SigningCert,
		Decrypter: &xmlenc.Decrypter{Key: dec, EntityID: c.EntityID}, Directory: s.Directory,
		Mechanisms: mechs, Replay: wsfstore.Replay(s.Store), Schema: schema, SkipOutgoingValidation: !c.CheckOutgoing, Now: s.opts.Now,
		Meter: s.life.Metrics, Verified: obs.Verified(s.life.Logger())}
	if c.IdP != "" {
		if s.SLO, err = s.newSLO(schema); err != nil {
			return err
		}
		cfg.Sessions = s.SLO
	}
	s.WSP.Mount(&cfg)
	if s.Receiver, err = server.New(cfg); err != nil {
		return err
	}
	if c.DS != "" {
		return s.registrar(ctx, services, schema)
	}
	return nil
}

// services are the service types served: the file's list, or every one
// the mapping maps, each with what the mapping maps of it.
func (s *Server) services() ([]wsp.ServiceConfig, error) {
	var out []wsp.ServiceConfig
	var errs []error
	types := s.mapped.types
	if len(s.File.Services) > 0 {
		types = nil
		for _, sv := range s.File.Services {
			if !slices.Contains(s.mapped.types, sv.Type) {
				errs = append(errs, fmt.Errorf("services: the mapping maps nothing of %s", sv.Type))
				continue
			}
			types = append(types, sv.Type)
		}
	}
	for _, t := range types {
		sc := wsp.ServiceConfig{Type: t, Items: s.mapped.items[t], Writable: s.mapped.writable[t]}
		for _, sv := range s.File.Services {
			if sv.Type == t {
				sc.Purposes = sv.Purposes
			}
		}
		out = append(out, sc)
	}
	return out, errors.Join(errs...)
}

// checkMetadata requires the aggregate to list the WSP as this
// configuration runs it, and the DS: a WSP the metadata describes
// otherwise would be sent tokens it cannot read, or be found at an
// address it does not serve.
func (s *Server) checkMetadata(ctx context.Context, services []wsp.ServiceConfig, loadErr error) error {
	c, k := s.File, s.keys
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	errs = append(errs, rolekit.CheckSelf(ctx, s.Directory, "WSP", c.EntityID, k.ServiceKeys)...)
	for _, sc := range services {
		eps, err := s.Directory.Service(ctx, c.EntityID, sc.Type)
		for _, ep := range s.Endpoints() {
			if err != nil || !slices.Contains(eps, ep) {
				add("metadata does not list %s as the WSP's SOAP endpoint for %s (%v)", ep, sc.Type, err)
			}
		}
	}
	if c.DS != "" {
		if _, err := s.Directory.Service(ctx, c.DS, wsf.ServiceTypeDisco); err != nil {
			add("metadata does not list the DS %s with its SOAP endpoint: %v", c.DS, err)
		}
	}
	if c.IdP != "" {
		errs = append(errs, s.checkSLOMetadata()...)
	}
	if len(errs) > 0 && loadErr != nil {
		errs = append(errs, fmt.Errorf("loading the metadata: %w", loadErr))
	}
	return errors.Join(errs...)
}

// registrar builds the client that registers the SvcMDs at the DS, as
// the WSP itself (ClientTLS:X509: its metadata key signs, and is its TLS
// client key).
func (s *Server) registrar(ctx context.Context, services []wsp.ServiceConfig, schema client.Validator) error {
	c, k := s.File, s.keys
	roots := k.roots
	if s.opts.RootCAs != nil {
		roots = s.opts.RootCAs
	}
	tc := &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12,
		Certificates: []tls.Certificate{{Certificate: [][]byte{k.SigningCert.Raw}, PrivateKey: k.Signing, Leaf: k.SigningCert}}}
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: tc, ForceAttemptHTTP2: false}}
	cl, err := client.New(client.Config{EntityID: c.EntityID, Key: k.Signing, Certificate: k.SigningCert, Directory: s.Directory,
		HTTP: hc, Schema: schema, Mechanisms: []wsf.Mechanism{wsf.ClientTLSX509, wsf.ClientTLSSAMLV2}, Now: s.opts.Now, Meter: s.life.Metrics})
	if err != nil {
		return err
	}
	eps, err := s.Directory.Service(ctx, c.DS, wsf.ServiceTypeDisco)
	if err != nil || len(eps) == 0 {
		return fmt.Errorf("the DS %s has no SOAP endpoint in the metadata: %v", c.DS, err)
	}
	epr := &wsf.EPR{Address: eps[0], Metadata: &wsf.EPRMetadata{Abstract: "Discovery Service", ProviderID: c.DS,
		ServiceType: wsf.ServiceTypeDisco, Framework: wsf.FrameworkVersion,
		SecurityContexts: []wsf.SecurityContext{{Mechanisms: []string{string(wsf.ClientTLSX509)}}}}}
	s.Registrar = &wsp.Registrar{Client: cl, DS: epr}
	for _, sc := range services {
		s.Registrar.Want = append(s.Registrar.Want, s.svcMD(sc.Type))
	}
	if len(c.AuditReaders) > 0 {
		s.Registrar.Want = append(s.Registrar.Want, s.svcMD(wsp.AuditService))
	}
	return nil
}

// svcMD is the SvcMD of one service type this WSP serves.
func (s *Server) svcMD(serviceType string) *disco.SvcMD {
	c := s.File
	abstract := c.Abstract
	for _, sv := range c.Services {
		if sv.Type == serviceType && sv.Abstract != "" {
			abstract = sv.Abstract
		}
	}
	if abstract == "" {
		abstract = c.EntityID
	}
	if name := serviceName(serviceType); name != "" && !strings.Contains(abstract, name) {
		abstract += ": " + name
	}
	mechs := []string{string(wsf.ClientTLSSAMLV2), string(wsf.ClientTLSPeerSAMLV2)}
	if len(c.Mechanisms) > 0 {
		mechs = c.Mechanisms
	}
	return &disco.SvcMD{Abstract: abstract, ProviderID: c.EntityID, ServiceContexts: []disco.ServiceContext{{
		ServiceTypes: []string{serviceType},
		EndpointContexts: []disco.EndpointContext{{Addresses: s.Endpoints(),
			Frameworks: []disco.Framework{{Version: wsf.FrameworkVersion}}, SecurityMechIDs: mechs}}}}}
}

func serviceName(t string) string {
	switch t {
	case dst.Clinical:
		return "lab results and prescriptions"
	case dst.Checkup:
		return "health check-ups"
	case dst.Appointment:
		return "outpatient bookings"
	case dst.Eligibility:
		return "insurance eligibility"
	case dst.Pension:
		return "pension record"
	case wsp.AuditService:
		return "who looked at your data"
	}
	return ""
}

// Register brings the DS's SvcMDs of this WSP up to date once.
func (s *Server) Register(ctx context.Context) (*wsp.Registration, error) {
	if s.Registrar == nil {
		return nil, errors.New("no DS to register at")
	}
	r, err := s.Registrar.Sync(ctx)
	if err != nil {
		return nil, err
	}
	s.regMu.Lock()
	s.reg = r
	s.regMu.Unlock()
	if len(r.Stale) > 0 {
		s.life.Logger().Warn("the DS holds SvcMDs of this WSP for service types it no longer serves (left for the operator)",
			slog.String("stale", strings.Join(r.Stale, ", ")))
	}
	return r, nil
}

// Associate associates the principal of a card login at this institution
// with every service of the WSP but its access log (which needs none), as
// enrolment does once the IdP has taken the institution's local
// identifier: dsEPR is the DS's EPR with the DS token of that login, bound
// to the WSP's key.
func (s *Server) Associate(ctx context.Context, dsEPR *wsf.EPR) error {
	reg := s.Registration()
	if s.Registrar == nil || reg == nil {
		return errors.New("not registered at a DS")
	}
	var ids []string
	for typ, id := range reg.IDs {
		if typ != wsp.AuditService {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return s.Registrar.Associate(ctx, dsEPR, ids...)
}

// Registration returns the last successful registration, or nil.
func (s *Server) Registration() *wsp.Registration {
	s.regMu.Lock()
	defer s.regMu.Unlock()
	return s.reg
}

// keepRegistered registers at start, retrying with a doubling wait, and
// then re-checks every interval.
func (s *Server) keepRegistered(ctx context.Context) {
	interval := rolekit.Or(s.opts.RegisterInterval, DefaultRegisterInterval)
	wait := registerRetry
	for {
		r, err := s.Register(ctx)
		next := interval
		if err != nil {
			s.life.Logger().Warn("registration at the DS failed", slog.String("error", err.Error()), slog.Duration("retry_in", wait))
			next, wait = wait, min(2*wait, interval)
		} else {
			wait = registerRetry
			if len(r.Registered)+len(r.Replaced) > 0 {
				s.life.Logger().Info("registered at the DS", slog.Any("new", r.Registered), slog.Any("replaced", r.Replaced))
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(next):
		}
	}
}

// Handler returns the listener's router behind httpx.Secure: the SOAP
// endpoint, and the SingleLogoutService when File.IdP is set.
func (s *Server) Handler() http.Handler {
	r := mux.NewRouter()
	r.Use(httpx.MarkRoute)
	r.Handle(PathSOAP, server.Handler{Receiver: s.Receiver, Log: s.logFault}).Methods(http.MethodPost)
	if s.SLO != nil {
		r.HandleFunc(PathSLO, s.slo).Methods(http.MethodPost)
	}
	return httpx.Secure(r)
}

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
// collection, registration at the DS) until ctx ends or Shutdown, and
// serves the listener.
func (s *Server) Start(ctx context.Context) error {
	s.life.Start(ctx)
	s.life.Go(func(ctx context.Context) { _ = s.Metadata.Run(ctx) })
	s.life.Every(rolekit.Or(s.opts.CollectInterval, DefaultCollectInterval), s.life.Collect(s.Store))
	if err := s.life.Serve(s.Servers()...); err != nil {
		return err
	}
	if s.Registrar != nil {
		s.life.Go(s.keepRegistered)
	}
	return nil
}

// Run starts the server and serves until ctx ends or the listener fails,
// then shuts down gracefully.
func (s *Server) Run(ctx context.Context) error {
	return s.life.Run(ctx, s.Start, func() string { return s.File.EntityID + " on " + s.Addr().String() })
}

// Addr returns the address the listener listens on, once started.
func (s *Server) Addr() net.Addr { return s.life.Addr(Main) }

// Shutdown stops the listener gracefully, ends the background work and
// closes the back office and the store. It may be called more than once.
func (s *Server) Shutdown() error { return s.life.Shutdown() }

func (s *Server) now() time.Time {
	if s.opts.Now != nil {
		return s.opts.Now()
	}
	return time.Now()
}

func (s *Server) logf(format string, args ...any) { s.life.Printf(format, args...) }
