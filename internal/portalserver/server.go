// Package portalserver assembles My Portal from its configuration file:
// the keys, the store of the SAML requests under way and the assertions
// seen, the metadata aggregate (the IdP, the DS and the institutions, and
// the portal itself), the SAML SP (wsc/sp), the ID-WSF client that the
// citizens' sessions call the DS and the WSPs with (wsc), the portal's
// engine and pages (wsc/portal) and the HTTPS listener. The renkei-portal
// binary and the demo both build it here.
package portalserver

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/renkei-idwsf/renkei/internal/httpx"
	"github.com/renkei-idwsf/renkei/internal/keyfile"
	"github.com/renkei-idwsf/renkei/internal/rolekit"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/store/sqlstore"
	"github.com/renkei-idwsf/renkei/wsc"
	"github.com/renkei-idwsf/renkei/wsc/portal"
	"github.com/renkei-idwsf/renkei/wsc/sp"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/client"
	"github.com/renkei-idwsf/renkei/wsf/metadir"
	"github.com/renkei-idwsf/renkei/xmlsec/xmlenc"
	"github.com/renkei-idwsf/renkei/xmlsec/xsd"
)

// Name of the listener in the server group (Server.Addr).
const Main = "main"

// Defaults of Options.
const (
	// DefaultCollectInterval matches the AuthnRequests' lifetime, so that
	// unanswered ones do not pile up.
	DefaultCollectInterval = sp.DefaultRequestLifetime
	DefaultSweepInterval   = time.Minute
	// callTimeout bounds one HTTP exchange with the DS or a WSP; the
	// portal's own per-institution timeout is shorter.
	callTimeout = 30 * time.Second
)

// Options are what a caller sets beside the file.
type Options struct {
	// Store, when set, replaces File.Store.
	Store string
	// Listener, when set, is served instead of listening on File.Listen.
	// The server owns it.
	Listener net.Listener
	// RootCAs, when set, replace File.TrustedRoots.
	RootCAs *x509.CertPool
	// Dial, when set, replaces the dialer of the ID-WSF client (tests
	// that stop an institution's network).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Log receives the server's events and one line per request; nil
	// means slog.Default().
	Log *slog.Logger
	// Tap, when set, is given every body the portal receives: each
	// request to its listener and each answer of the DS and the WSPs
	// (tests that prove what the portal learns).
	Tap func(body []byte)
	// CollectInterval is how often expired rows are removed; 0 means the
	// default.
	CollectInterval time.Duration
	// Now is the clock of the engines; nil is time.Now.
	Now func() time.Time
}

// Server is My Portal built from a configuration file.
type Server struct {
	File      *File
	Store     *sqlstore.DB
	Metadata  *md.Set
	Directory *metadir.Directory
	SP        *sp.SP
	Client    *client.Client
	Portal    *portal.Portal
	HTTP      *portal.HTTP

	opts    Options
	keys    *keys
	handler http.Handler
	life    rolekit.Lifecycle
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

// Build reads the files f names, opens the store, loads the metadata and
// assembles the SP, the client and the portal; every problem is reported
// at once. The metadata must list the portal itself (its SP role with
// this signing and encryption key and its ACS at BaseURL/acs), the IdP
// and the DS. Build serves nothing: Start or Run does. The caller must
// call Shutdown.
func Build(ctx context.Context, f *File, opts Options) (*Server, error) {
	var k *keys
	db, err := rolekit.Prepare(ctx, f, func() (err error) { k, err = loadKeys(f); return err }, f.Store, opts.Store, opts.Listener)
	if err != nil {
		return nil, err
	}
	s := &Server{File: f, Store: db, opts: opts, keys: k}
	s.life.Log = opts.Log
	s.life.Observe("portal", db)
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

// URL returns the public URL of path on the portal.
func (s *Server) URL(path string) string { return strings.TrimSuffix(s.File.BaseURL, "/") + path }

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
	var names []md.Localized
	for _, lang := range portal.Langs {
		if n := c.Names[lang]; n != "" {
			names = append(names, md.Localized{Lang: lang, Value: n})
		}
	}
	if s.SP, err = sp.New(sp.Config{EntityID: c.EntityID, ACSURL: s.URL(portal.PathACS), SLOURL: s.URL(portal.PathSLO),
		SOAPSLOURL: s.URL(portal.PathSOAPSLO), IdP: c.IdP, Metadata: s.Metadata, Key: k.Signing, Certificate: k.SigningCert,
		Decrypter: &xmlenc.Decrypter{Key: dec, EntityID: c.EntityID}, EncryptionCertificate: k.EncCert,
		Store: s.Store, Schema: schema, Now: s.opts.Now, Names: names}); err != nil {
		return err
	}
	roots := k.roots
	if s.opts.RootCAs != nil {
		roots = s.opts.RootCAs
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12,
		Certificates: []tls.Certificate{{Certificate: [][]byte{k.SigningCert.Raw}, PrivateKey: k.Signing, Leaf: k.SigningCert}}},
		MaxIdleConnsPerHost: 64, ForceAttemptHTTP2: true}
	if s.opts.Dial != nil {
		tr.DialContext = s.opts.Dial
	}
	var rt http.RoundTripper = tr
	if s.opts.Tap != nil {
		rt = rolekit.TapTransport(tr, s.opts.Tap)
	}
	mechs := []wsf.Mechanism{wsf.ClientTLSSAMLV2}
	if len(c.Mechanisms) > 0 {
		mechs = nil
		for _, m := range c.Mechanisms {
			mech, _ := wsf.ParseMechanism(m)
			mechs = append(mechs, mech)
		}
	}
	if s.Client, err = client.New(client.Config{EntityID: c.EntityID, Key: k.Signing, Certificate: k.SigningCert,
		Directory: s.Directory, HTTP: &http.Client{Transport: rt, Timeout: callTimeout}, Schema: schema,
		Mechanisms: mechs, Now: s.opts.Now, Meter: s.life.Metrics, Log: s.life.Logger()}); err != nil {
		return err
	}
	timeout, _ := rolekit.ParseDuration(c.Timeout)
	life, _ := rolekit.ParseDuration(c.SessionLife)
	if s.Portal, err = portal.New(portal.Config{WSC: wsc.Config{Client: s.Client, Mechanisms: mechs}, Directory: s.Metadata,
		DS: c.DS, Timeout: timeout, SessionLife: life, MaxPerCitizen: c.MaxSessionsPerCitizen, Now: s.opts.Now}); err != nil {
		return err
	}
	s.HTTP = &portal.HTTP{Portal: s.Portal, Auth: &portal.SAML{SP: s.SP, AuthnContexts: c.AuthnContexts}, BaseURL: c.BaseURL,
		FormTargets: s.formTargets(), Log: s.life.LogRequest}
	s.handler, err = s.HTTP.Handler()
	if err == nil && s.opts.Tap != nil {
		s.handler = rolekit.TapHandler(s.handler, s.opts.Tap)
	}
	return err
}

// formTargets are the origins the portal's forms lead to by redirect:
// the IdP's single logout endpoints and the DS's consent page (the DS's
// SOAP endpoint's origin).
func (s *Server) formTargets() []string {
	var out []string
	add := func(u string) {
		p, err := url.Parse(u)
		if err != nil || p.Scheme != "https" || p.Host == "" {
			return
		}
		o := "https://" + p.Host
		for _, x := range out {
			if x == o {
				return
			}
		}
		out = append(out, o)
	}
	if e, err := s.Metadata.Entity(s.File.IdP, s.now()); err == nil {
		for _, d := range e.IDPSSO {
			for _, ep := range d.SingleLogout {
				add(ep.Location)
			}
		}
	}
	if eps, err := s.Directory.Service(context.Background(), s.File.DS, wsf.ServiceTypeDisco); err == nil {
		for _, u := range eps {
			add(u)
		}
	}
	return out
}

// checkMetadata requires the aggregate to list the portal as this
// configuration runs it (its keys, its ACS), the IdP with a single sign-on
// service, and the DS.
func (s *Server) checkMetadata(ctx context.Context, loadErr error) error {
	c := s.File
	return rolekit.CheckSPRole(ctx, s.Metadata, s.Directory, rolekit.SPRole{Role: "portal", EntityID: c.EntityID,
		Keys: s.keys.ServiceKeys, ACS: s.URL(portal.PathACS), ACSBinding: samlp.BindingHTTPPOST,
		IdP: c.IdP, SSOBinding: samlp.BindingHTTPRedirect, DS: c.DS}, loadErr, s.now())
}

// Handler returns the portal's pages and SAML endpoints.
func (s *Server) Handler() http.Handler { return s.handler }

// Servers are the main listener, which requests no client certificate
// (the citizen's card authenticates at the IdP, not here), and the admin
// listener when File.Admin is set. Each request to the main listener gets
// the portal's request ID, which its calls to the DS and the WSPs carry
// in their MessageIDs (wsf.NewMessageIDFor).
func (s *Server) Servers() []httpx.Server {
	return s.life.Serving(httpx.Server{Name: Main, Addr: s.File.Listen, Listener: s.opts.Listener, Handler: s.life.Observed(Main, s.handler),
		TLS: &tls.Config{Certificates: []tls.Certificate{s.keys.TLS}, MinVersion: tls.VersionTLS12}}, s.File.Admin,
		rolekit.Ready(s.Store, s.Metadata, s.File.EntityID, s.keys.Signing, s.keys.SigningCert, s.opts.Now)...)
}

// AdminAddr returns the admin listener's address once started, nil
// without one.
func (s *Server) AdminAddr() net.Addr { return s.life.Addr(rolekit.AdminListener) }

// Start starts the background work (metadata refresh, expired sessions
// and store rows removed) until ctx ends or Shutdown, and serves the
// listener.
func (s *Server) Start(ctx context.Context) error {
	s.life.Start(ctx)
	s.life.Go(func(ctx context.Context) { _ = s.Metadata.Run(ctx) })
	s.life.Every(rolekit.Or(s.opts.CollectInterval, DefaultCollectInterval), s.life.Collect(s.Store))
	s.life.Every(DefaultSweepInterval, func(context.Context) { s.Portal.Sweep() })
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
