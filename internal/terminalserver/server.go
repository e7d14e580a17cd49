package terminalserver

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
	"time"

	"github.com/renkei-idwsf/renkei/internal/httpx"
	"github.com/renkei-idwsf/renkei/internal/keyfile"
	"github.com/renkei-idwsf/renkei/internal/rolekit"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/store/sqlstore"
	"github.com/renkei-idwsf/renkei/wsc"
	"github.com/renkei-idwsf/renkei/wsc/sp"
	"github.com/renkei-idwsf/renkei/wsc/terminal"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/client"
	"github.com/renkei-idwsf/renkei/wsf/metadir"
	"github.com/renkei-idwsf/renkei/xmlsec/xmlenc"
	"github.com/renkei-idwsf/renkei/xmlsec/xsd"
)

// Main names the staff page's listener.
const Main = "staff"

// DefaultCollectInterval is how often expired store rows are removed.
const DefaultCollectInterval = 10 * time.Minute

// Options are what a caller of Build may supply besides the file.
type Options struct {
	// Store replaces File.Store (a test's database).
	Store string
	// Listener, when set, is the staff page's listener.
	Listener net.Listener
	// RootCAs, when set, replace File.TrustedRoots.
	RootCAs *x509.CertPool
	// Reader, when set, replaces the PC/SC reader File.Reader names.
	Reader terminal.Reader
	// Tap, when set, is given every answer the terminal receives from
	// the IdP's SOAP endpoints, the DS and the WSPs (tests that keep a
	// token aside).
	Tap func(body []byte)
	// Ended receives each visit's logout outcome.
	Ended func(*sp.LogoutResult, error)
	// Log receives the events and one line per request to the staff page;
	// nil means slog.Default().
	Log *slog.Logger
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// Server is a reception terminal built from its file.
type Server struct {
	File      *File
	Store     *sqlstore.DB
	Metadata  *md.Set
	Directory *metadir.Directory
	SP        *sp.SP
	Client    *client.Client
	Terminal  *terminal.Terminal
	Desk      *terminal.Desk
	Staff     *terminal.Staff

	opts    Options
	keys    *keys
	reader  terminal.Reader
	handler http.Handler
	life    rolekit.Lifecycle
}

type keys struct {
	*rolekit.ServiceKeys
	roots *x509.CertPool
}

// Build reads the files f names, opens the store, loads the metadata,
// opens the card reader and assembles the terminal; every problem is
// reported at once. The metadata must list the institution's entity
// with this signing and encryption key and a PAOS consumer at
// ECPConsumer, the IdP with an ECP (SOAP) single sign-on service, and
// the DS. The caller must call Shutdown.
func Build(ctx context.Context, f *File, opts Options) (*Server, error) {
	var k *keys
	load := func() error {
		l := &keyfile.Loader{}
		k = &keys{ServiceKeys: rolekit.LoadServiceKeys(l, f.TLS, f.Signing, f.Encryption, f.Metadata), roots: rolekit.Roots(l, f.TrustedRoots)}
		return l.Err()
	}
	db, err := rolekit.Prepare(ctx, f, load, f.Store, opts.Store, opts.Listener)
	if err != nil {
		return nil, err
	}
	s := &Server{File: f, Store: db, opts: opts, keys: k}
	s.life.Log = opts.Log
	s.life.Observe("terminal", db)
	s.life.OwnListeners(opts.Listener)
	s.life.Own(db.Close)
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

func (s *Server) assemble(ctx context.Context) error {
	c, k := s.File, s.keys
	schema, err := xsd.Default()
	if err != nil {
		return err
	}
	if s.Metadata, err = md.New(md.Config{Sources: k.Metadata, Schema: schema, Now: s.opts.Now}); err != nil {
		return err
	}
	loadErr := s.Metadata.Refresh(ctx, s.now())
	if s.Directory, err = metadir.New(metadir.Config{Metadata: s.Metadata, Issuers: []string{c.IdP, c.DS}, Now: s.opts.Now}); err != nil {
		return err
	}
	if err := s.checkMetadata(ctx, loadErr); err != nil {
		return err
	}
	dec, _ := k.EncKey.(crypto.Decrypter)
	if s.SP, err = sp.New(sp.Config{EntityID: c.EntityID, ECPACSURL: c.ECPConsumer, IdP: c.IdP, Metadata: s.Metadata,
		Key: k.Signing, Certificate: k.SigningCert, Decrypter: &xmlenc.Decrypter{Key: dec, EntityID: c.EntityID},
		EncryptionCertificate: k.EncCert, Store: s.Store, Schema: schema, Now: s.opts.Now}); err != nil {
		return err
	}
	roots := k.roots
	if s.opts.RootCAs != nil {
		roots = s.opts.RootCAs
	}
	own := tls.Certificate{Certificate: [][]byte{k.SigningCert.Raw}, PrivateKey: k.Signing, Leaf: k.SigningCert}
	var rt http.RoundTripper = &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{own}},
		MaxIdleConnsPerHost: 16, ForceAttemptHTTP2: true}
	if s.opts.Tap != nil {
		rt = rolekit.TapTransport(rt, s.opts.Tap)
	}
	hc := &http.Client{Timeout: 30 * time.Second, Transport: rt}
	if s.Client, err = client.New(client.Config{EntityID: c.EntityID, Key: k.Signing, Certificate: k.SigningCert,
		Directory: s.Directory, HTTP: hc, Schema: schema, Mechanisms: []wsf.Mechanism{wsf.ClientTLSSAMLV2}, Now: s.opts.Now,
		Meter: s.life.Metrics, Log: s.life.Logger()}); err != nil {
		return err
	}
	asItself, err := client.New(client.Config{EntityID: c.EntityID, Key: k.Signing, Certificate: k.SigningCert,
		Directory: s.Directory, HTTP: hc, Schema: schema, Mechanisms: []wsf.Mechanism{wsf.ClientTLSX509}, Now: s.opts.Now,
		Meter: s.life.Metrics, Log: s.life.Logger()})
	if err != nil {
		return err
	}
	eps, _ := s.Directory.Service(ctx, c.DS, wsf.ServiceTypeDisco)
	ds := &wsf.EPR{Address: eps[0], Metadata: &wsf.EPRMetadata{Abstract: "Discovery Service", ProviderID: c.DS,
		ServiceType: wsf.ServiceTypeDisco, Framework: wsf.FrameworkVersion,
		SecurityContexts: []wsf.SecurityContext{{Mechanisms: []string{string(wsf.ClientTLSX509)}}}}}
	life, _ := rolekit.ParseDuration(c.TokenLife)
	timeout, _ := rolekit.ParseDuration(c.Timeout)
	if s.Terminal, err = terminal.New(terminal.Config{SP: s.SP, Transport: &terminal.HTTPTransport{RootCAs: roots, Client: hc},
		WSC: wsc.Config{Client: s.Client, Mechanisms: []wsf.Mechanism{wsf.ClientTLSSAMLV2}}, Self: c.EntityID,
		DS: ds, AsItself: asItself, Names: s.name, TokenLife: life, Timeout: timeout, Now: s.opts.Now}); err != nil {
		return err
	}
	s.reader = s.opts.Reader
	if s.reader == nil {
		r, err := terminal.OpenPCSC(c.Reader)
		if err != nil {
			return fmt.Errorf("card reader %q: %w", c.Reader, err)
		}
		s.life.Own(r.Close)
		s.reader = r
	}
	s.Desk = terminal.NewDesk(s.Terminal, s.reader, s.logf, s.opts.Ended)
	s.Staff = &terminal.Staff{Desk: s.Desk, Log: s.life.LogRequest}
	s.handler, err = s.Staff.Handler()
	return err
}

// name is an institution's name as the metadata gives it.
func (s *Server) name(provider string) terminal.Name {
	e, _ := s.Metadata.Entity(provider, s.now())
	return wsc.OrganizationName(e)
}

// checkMetadata requires the aggregate to list the institution with
// these keys and the PAOS consumer, the IdP with its ECP endpoint, and
// the DS.
func (s *Server) checkMetadata(ctx context.Context, loadErr error) error {
	c := s.File
	return rolekit.CheckSPRole(ctx, s.Metadata, s.Directory, rolekit.SPRole{Role: "terminal", EntityID: c.EntityID,
		Keys: s.keys.ServiceKeys, ACS: c.ECPConsumer, ACSBinding: samlp.BindingPAOS,
		IdP: c.IdP, SSOBinding: samlp.BindingSOAP, DS: c.DS}, loadErr, s.now())
}

// Handler returns the staff page.
func (s *Server) Handler() http.Handler { return s.handler }

// Servers are the staff page's loopback listener and the admin listener
// when File.Admin is set.
func (s *Server) Servers() []httpx.Server {
	return s.life.Serving(httpx.Server{Name: Main, Addr: s.File.Listen, Listener: s.opts.Listener, Handler: s.life.Observed(Main, s.handler),
		TLS: &tls.Config{Certificates: []tls.Certificate{s.keys.TLS}, MinVersion: tls.VersionTLS12}}, s.File.Admin,
		rolekit.Ready(s.Store, s.Metadata, s.File.EntityID, s.keys.Signing, s.keys.SigningCert, s.opts.Now)...)
}

// AdminAddr returns the admin listener's address once started, nil
// without one.
func (s *Server) AdminAddr() net.Addr { return s.life.Addr(rolekit.AdminListener) }

// Start refreshes the metadata, removes expired store rows, watches the
// card reader and serves the staff page, until ctx ends or Shutdown.
func (s *Server) Start(ctx context.Context) error {
	s.life.Start(ctx)
	s.life.Go(func(ctx context.Context) { _ = s.Metadata.Run(ctx) })
	s.life.Every(DefaultCollectInterval, s.life.Collect(s.Store))
	s.life.Go(func(ctx context.Context) { _ = s.Desk.Run(ctx) })
	return s.life.Serve(s.Servers()...)
}

// Run starts the terminal and serves until ctx ends, then shuts down.
func (s *Server) Run(ctx context.Context) error {
	return s.life.Run(ctx, s.Start, func() string { return s.File.EntityID + " desk on " + s.Addr().String() })
}

// Addr is the staff page's address, once started.
func (s *Server) Addr() net.Addr { return s.life.Addr(Main) }

// URL is the staff page's URL.
func (s *Server) URL() string { return "https://" + s.Addr().String() + "/" }

// Shutdown stops everything; it may be called more than once.
func (s *Server) Shutdown() error { return s.life.Shutdown() }

func (s *Server) logf(format string, args ...any) { s.life.Printf(format, args...) }

// Check is one visit without the staff page, for scripts: it waits for
// a card at most wait, opens it with pin, logs in, asks the
// eligibility, and ends the visit (tokens dropped, the IdP told) before
// returning the eligibility.
func (s *Server) Check(ctx context.Context, pin string, wait time.Duration) (*terminal.Eligibility, error) {
	wctx, cancel := context.WithTimeout(ctx, wait)
	err := s.reader.WaitForCard(wctx)
	cancel()
	if err != nil {
		return nil, fmt.Errorf("no card within %v: %w", wait, err)
	}
	c, closer, err := s.reader.Open(pin)
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	v, err := s.Terminal.Login(ctx, c)
	if err != nil {
		return nil, err
	}
	el, err := v.Eligibility(ctx)
	res, endErr := v.End(ctx)
	if endErr == nil && !res.Success() {
		endErr = fmt.Errorf("the IdP answered the logout with %s", res.Status.Code.Value)
	}
	if s.opts.Ended != nil {
		s.opts.Ended(res, endErr)
	}
	if err != nil {
		return nil, err
	}
	if endErr != nil {
		s.life.Logger().Warn("logout", slog.String("error", endErr.Error()))
	}
	return el, nil
}
