package idpserver

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
	"os"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/renkei-idwsf/renkei/card/ocspcheck"
	"github.com/renkei-idwsf/renkei/card/trust"
	"github.com/renkei-idwsf/renkei/idp"
	"github.com/renkei-idwsf/renkei/internal/httpx"
	"github.com/renkei-idwsf/renkei/internal/obs"
	"github.com/renkei-idwsf/renkei/internal/rolekit"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/store/sqlstore"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/metadir"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/xsd"
)

// Names of the two listeners in the server group (Server.Addr).
const (
	Main = "main" // metadata, SSO, SLO, ManageNameID; asks for no client certificate
	Card = "card" // card login, ECP and artifact resolution; requests a client certificate
)

// Defaults of Options.
const (
	DefaultCRLInterval     = 30 * time.Second
	DefaultCollectInterval = 10 * time.Minute
)

// Options are what a caller sets beside the file.
type Options struct {
	// Store, when set, replaces File.Store (printing the metadata opens a
	// private in-memory store so that it touches no database).
	Store string
	// MainListener and CardListener, when set, are served instead of
	// listening on File.Listen and File.CardListen: the demo opens them on
	// free loopback ports before it knows its URLs. The server owns them.
	MainListener, CardListener net.Listener
	// Log receives the server's events and one line per request; nil
	// means slog.Default().
	Log *slog.Logger
	// Refused receives the private cause of every refused request; nil
	// logs it through Log.
	Refused func(r *http.Request, err error)
	// CRLInterval is how often the CRL files are read again;
	// CollectInterval how often expired rows are removed from the store.
	// 0 means the defaults.
	CRLInterval, CollectInterval time.Duration
	// Reload, when set, has the server read its metadata sources and CRL
	// files again at each signal received (renkei-idp passes SIGHUP), and
	// log what changed in the metadata.
	Reload <-chan os.Signal
}

// Server is the IdP built from a configuration file: the engine over its
// store and metadata set, ready to serve on its two listeners.
type Server struct {
	File     *File
	Store    *sqlstore.DB
	Metadata *md.Set
	SSO      *idp.SSO
	SLO      *idp.SLO

	directory *metadir.Directory

	opts Options
	keys *keys
	life rolekit.Lifecycle
}

// Build reads the files f names, opens the store and assembles the
// engine; every problem with the files is reported at once. Build serves
// nothing: Start or Run does. The caller must call Shutdown.
func Build(ctx context.Context, f *File, opts Options) (*Server, error) {
	var k *keys
	db, err := rolekit.Prepare(ctx, f, func() (err error) { k, err = loadKeys(f); return err }, f.Store, opts.Store,
		opts.MainListener, opts.CardListener)
	if err != nil {
		return nil, err
	}
	s := &Server{File: f, Store: db, opts: opts, keys: k}
	s.life.Log = opts.Log
	s.life.Observe("idp", db)
	s.life.OwnListeners(opts.MainListener, opts.CardListener)
	s.life.Own(db.Close)
	if err := s.assemble(ctx); err != nil {
		return nil, errors.Join(err, s.Shutdown())
	}
	return s, nil
}

func (s *Server) assemble(ctx context.Context) error {
	c, k := s.File, s.keys
	schema, err := xsd.Default()
	if err != nil {
		return err
	}
	if s.Metadata, err = md.New(md.Config{Sources: k.metadataSources, Schema: schema}); err != nil {
		return err
	}
	if s.directory, err = metadir.New(metadir.Config{Metadata: s.Metadata}); err != nil {
		return err
	}
	if err := s.checkDiscovery(ctx); err != nil {
		return err
	}
	cfg := s.idpConfig()
	if c.CheckOutgoing {
		cfg.Schema = schema
	}
	if cfg.Attributes, err = s.attributes(); err != nil {
		return err
	}
	core, err := idp.New(cfg)
	if err != nil {
		return err
	}
	base, card := strings.TrimSuffix(c.BaseURL, "/"), strings.TrimSuffix(c.CardBaseURL, "/")
	ecp, _ := ParseDuration(c.Lifetimes.ECP)
	enrol, _ := ParseDuration(c.Lifetimes.Enrol)
	artifact, _ := ParseDuration(c.Lifetimes.Artifact)
	s.SSO, err = idp.NewSSO(core, idp.SSOConfig{Metadata: s.Metadata, Replay: s.Store, Pending: s.Store, Schema: schema, CheckOutgoing: c.CheckOutgoing,
		SSOURL: base + idp.PathSSO, ECPURL: card + idp.PathECP, LoginURL: card + idp.PathLogin,
		SLOURL: base + idp.PathSLO, SLOSOAPURL: base + idp.PathSLOSOAP,
		WantAuthnRequestsSigned: c.WantAuthnRequestsSigned, Quirks: quirks(c.Quirks), IdPInitiated: c.IdPInitiated,
		EncryptionCert: k.encCert, ECPLifetime: ecp, NIM: idp.NIMConfig{URL: base + idp.PathNIM, EnrolWindow: enrol, Client: s.soapClient()},
		// The ArtifactResolutionService is on the card listener, which
		// requests the TLS client certificate an SP may authenticate with.
		Artifact:            idp.ArtifactConfig{URL: card + idp.PathArtifact, Lifetime: artifact},
		AttributeServiceURL: s.serviceURL(c.Attributes != "", idp.PathAttributeQuery),
		NameIDMapping:       idp.NameIDMappingConfig{URL: s.serviceURL(len(c.NameIDMapping) > 0, idp.PathNameIDMapping), Allowed: c.NameIDMapping}})
	if err != nil {
		return err
	}
	s.SLO, err = idp.NewSLO(s.SSO, idp.SLOConfig{Client: s.soapClient()})
	return err
}

func (s *Server) idpConfig() idp.Config {
	c, k := s.File, s.keys
	roots := x509.NewCertPool() // empty without cardCA: no certificate passes for a card
	if k.cardCA != nil {
		roots.AddCert(k.cardCA)
	}
	cardCRLs, softCRLs := k.crls.lists()
	cfg := idp.Config{EntityID: c.EntityID, SigningKey: k.signing, SigningCerts: k.signingCerts, Meter: s.life.Metrics,
		Cards: s.Store, Federations: s.Store, Sessions: s.Store,
		CardTrust: &trust.Verifier{Roots: roots, CRLs: cardCRLs, OCSP: s.ocspChecker()}, SoftCRLs: softCRLs, RevocationLists: k.crls.lists}
	if dec, ok := k.encKey.(crypto.Decrypter); ok {
		cfg.EncryptionKey = dec
	}
	if k.softCA != nil {
		cfg.SoftCAs = []*x509.Certificate{k.softCA}
	}
	if d := c.Discovery; d != nil {
		cfg.Discovery = &idp.Discovery{EntityID: d.EntityID, Metadata: s.directory}
	}
	cfg.AssertionLifetime, _ = ParseDuration(c.Lifetimes.Assertion)
	cfg.SessionLifetime, _ = ParseDuration(c.Lifetimes.Session)
	cfg.BootstrapLifetime, _ = ParseDuration(c.Lifetimes.Bootstrap)
	return cfg
}

// checkDiscovery loads the metadata and reports, all at once, what would
// make every bootstrap fail: a Discovery Service the metadata does not
// list, or lists without a SOAP endpoint for urn:liberty:disco:2006-08 or
// without an encryption key. The IdP still reads both at each mint, so a
// later change in the aggregate is picked up without a restart.
func (s *Server) checkDiscovery(ctx context.Context) error {
	d := s.File.Discovery
	if d == nil {
		return nil
	}
	loadErr := s.Metadata.Refresh(ctx, time.Now())
	var errs []error
	if _, err := s.directory.Peer(ctx, d.EntityID); err != nil {
		errs = append(errs, fmt.Errorf("discovery %s is not in the metadata: %w", d.EntityID, err))
	} else {
		if _, err := s.directory.Service(ctx, d.EntityID, wsf.ServiceTypeDisco); err != nil {
			errs = append(errs, fmt.Errorf("discovery %s: the metadata lists no SOAP endpoint for %s: %w", d.EntityID, wsf.ServiceTypeDisco, err))
		}
		if _, err := s.directory.Recipient(ctx, d.EntityID); err != nil {
			errs = append(errs, fmt.Errorf("discovery %s: the metadata lists no encryption key, so it could receive no token: %w", d.EntityID, err))
		}
	}
	if len(errs) > 0 && loadErr != nil {
		errs = append(errs, fmt.Errorf("metadata: %w", loadErr))
	}
	return errors.Join(errs...)
}

// attributes is the release policy over the operator's attribute file;
// nil without one.
func (s *Server) attributes() (*idp.AttributeRelease, error) {
	if s.File.Attributes == "" {
		return nil, nil
	}
	src, err := idp.ReadAttributeFile(s.File.Attributes)
	if err != nil {
		return nil, err
	}
	return &idp.AttributeRelease{Source: src, Policy: s.File.Release}, nil
}

// serviceURL is the main listener's URL of path when on, else "".
func (s *Server) serviceURL(on bool, path string) string {
	if !on {
		return ""
	}
	return strings.TrimSuffix(s.File.BaseURL, "/") + path
}

func quirks(in map[string]SPQuirks) map[string]idp.SPQuirks {
	out := map[string]idp.SPQuirks{}
	for sp, q := range in {
		out[sp] = idp.SPQuirks{AllowSHA1: q.AllowSHA1, SignResponse: q.SignResponse, AllowHTTPACS: q.AllowHTTPACS}
	}
	return out
}

// announceQuirks logs each quirk that weakens what the IdP sends, so that
// a test lab's relaxation never goes unnoticed in production.
func (s *Server) announceQuirks() {
	for sp, q := range s.File.Quirks {
		if q.AllowHTTPACS {
			s.life.Logger().Warn("quirk allowHTTPACS: responses to this SP may go to an http ACS, in clear text (for test labs only)",
				slog.String("sp", sp))
		}
	}
}

// Handlers returns the routers of the two listeners, each behind
// httpx.Secure: main serves metadata, SSO, IdP-initiated SSO, Single
// Logout (HTTP-Redirect, HTTP-POST, SOAP, IdP-initiated) and ManageNameID;
// card serves card login, ECP and the ArtifactResolutionService.
func (s *Server) Handlers() (main, card http.Handler) {
	h := s.httpAdapter()
	mainR, cardR := mux.NewRouter(), mux.NewRouter()
	mainR.Use(httpx.MarkRoute)
	cardR.Use(httpx.MarkRoute)
	h.MountMain(mainR)
	h.MountCard(cardR)
	return httpx.Secure(mainR), httpx.Secure(cardR)
}

// httpAdapter is the IdP's HTTP adapter as the file configures it.
func (s *Server) httpAdapter() *idp.HTTP {
	l := s.File.AuthnLimits
	return &idp.HTTP{SSO: s.SSO, SLO: s.SLO, CookieDomain: s.File.CookieDomain, Log: s.refused,
		Limits: idp.AuthnLimits{ClientBurst: l.ClientBurst, ClientRate: l.ClientRate, MaxPending: l.MaxPending}}
}

// Servers are the two listeners: the main one asks for no client
// certificate and resumes TLS sessions with the shared ticket keys
// (tickets.go), the card-login one requests it (idp.CardLoginTLSConfig),
// hinting the card-issuer CA and the soft CA.
func (s *Server) Servers() []httpx.Server {
	mainH, cardH := s.Handlers()
	var hints []*x509.Certificate
	for _, ca := range []*x509.Certificate{s.keys.cardCA, s.keys.softCA} {
		if ca != nil {
			hints = append(hints, ca)
		}
	}
	return append([]httpx.Server{
		{Name: Main, Addr: s.File.Listen, Listener: s.opts.MainListener, Handler: s.life.Observed(Main, mainH),
			TLS: s.mainTLS()},
		{Name: Card, Addr: s.File.CardListen, Listener: s.opts.CardListener, Handler: s.life.Observed(Card, cardH),
			TLS: idp.CardLoginTLSConfig(s.keys.cardTLS, hints...)},
	}, s.life.Admin(s.File.Admin, s.Readiness()...)...)
}

// Readiness are the checks of /readyz: the store answers, the metadata
// (the SPs' and the DS's; the IdP serves its own) is loaded with an
// entity valid now, the signing key is loaded and its certificate valid.
func (s *Server) Readiness() []obs.Check {
	return []obs.Check{rolekit.StoreReady(s.Store), rolekit.MetadataReady(s.Metadata, "", nil),
		rolekit.KeysReady(s.keys.signing, s.keys.signingCerts[0], nil)}
}

// SignedMetadata returns the IdP's metadata, signed at now.
func (s *Server) SignedMetadata(now time.Time) ([]byte, error) {
	el, err := s.SSO.SignedMetadata(now)
	if err != nil {
		return nil, err
	}
	return xmlsec.Serialize(el)
}

// ReloadCRLs reads the CRL files again at once, as the refresher does
// every CRLInterval: a newer CRL signed by its CA replaces the one in use;
// anything else is reported and the CRL in use kept.
func (s *Server) ReloadCRLs() error { return s.keys.crls.reload() }

// ocspChecker is the OCSP client of File.OCSP, nil when it is unset.
func (s *Server) ocspChecker() trust.OCSPChecker {
	o := s.File.OCSP
	if o == nil {
		return nil
	}
	timeout, _ := ParseDuration(o.Timeout)
	return &ocspcheck.Client{Responder: o.Responder, Timeout: timeout, Log: s.life.Logger()}
}

// soapClient is the transport of the IdP's own SOAP calls to SPs,
// trusting File.TrustedRoots (nil: the system's roots).
func (s *Server) soapClient() *idp.HTTPClient {
	if s.keys.roots == nil {
		return nil
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: s.keys.roots, MinVersion: tls.VersionTLS12}}}
}

func (s *Server) refused(r *http.Request, err error) {
	if s.opts.Refused != nil {
		s.opts.Refused(r, err)
		return
	}
	s.life.LogRequest(r, err)
}
