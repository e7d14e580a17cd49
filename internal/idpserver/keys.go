package main

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gorilla/mux"

	"github.com/renkei-idwsf/renkei/card/trust"
	"github.com/renkei-idwsf/renkei/idp"
	"github.com/renkei-idwsf/renkei/internal/httpx"
	"github.com/renkei-idwsf/renkei/internal/idpconf"
	"github.com/renkei-idwsf/renkei/internal/keyfile"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/store/sqlstore"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/xsd"
)

// loader reads the files a configuration names and collects every
// failure, so that the operator sees them all at once.
type loader struct{ errs []error }

func (l *loader) fail(name string, err error) {
	l.errs = append(l.errs, fmt.Errorf("%s: %w", name, err))
}

func (l *loader) cert(name, path string) *x509.Certificate {
	c, err := keyfile.ReadCert(path)
	if err != nil {
		l.fail(name, err)
	}
	return c
}

func (l *loader) key(name, path string) crypto.Signer {
	k, err := keyfile.ReadKey(path)
	if err != nil {
		l.fail(name, err)
	}
	return k
}

func (l *loader) pair(name string, kp idpconf.KeyPair) tls.Certificate {
	c, err := tls.LoadX509KeyPair(kp.Cert, kp.Key)
	if err != nil {
		l.fail(name, err)
	}
	return c
}

// keys are the parsed files of a configuration.
type keys struct {
	tls, cardTLS    tls.Certificate
	signing         crypto.Signer
	signingCerts    []*x509.Certificate
	encKey          crypto.Signer
	encCert         *x509.Certificate
	cardCA, softCA  *x509.Certificate
	crls            *crlFiles
	discoveryCert   *x509.Certificate
	metadataSources []md.Source
}

func loadKeys(c *idpconf.File) (*keys, error) {
	l := &loader{}
	k := &keys{tls: l.pair("tls", c.TLS), cardTLS: l.pair("cardTLS", c.CardTLS),
		signing: l.key("signing.key", c.Signing.Key), signingCerts: []*x509.Certificate{l.cert("signing.cert", c.Signing.Cert)},
		cardCA: l.cert("cardCA", c.CardCA)}
	if c.RolloverCert != "" {
		k.signingCerts = append(k.signingCerts, l.cert("rolloverCert", c.RolloverCert))
	}
	if c.Encryption.Key != "" {
		k.encKey, k.encCert = l.key("encryption.key", c.Encryption.Key), l.cert("encryption.cert", c.Encryption.Cert)
	}
	if c.SoftCA != "" {
		k.softCA = l.cert("softCA", c.SoftCA)
	}
	var err error
	if k.crls, err = newCRLFiles(c.CardCRL, k.cardCA, c.SoftCRL, k.softCA); err != nil {
		l.errs = append(l.errs, err)
	}
	if c.Discovery != nil {
		k.discoveryCert = l.cert("discovery.encryptionCert", c.Discovery.EncryptionCert)
	}
	for i, m := range c.Metadata {
		src := md.Source{Location: m.Location, Unsigned: m.Unsigned}
		if m.OperatorCert != "" {
			src.Trust = xmlsec.NewTrustSet([]*x509.Certificate{l.cert(fmt.Sprintf("metadata[%d].operatorCert", i), m.OperatorCert)})
		}
		k.metadataSources = append(k.metadataSources, src)
	}
	return k, errors.Join(l.errs...)
}

// service is the IdP built from a configuration, ready to serve.
type service struct {
	cfg  *idpconf.File
	keys *keys
	db   *sqlstore.DB
	set  *md.Set
	sso  *idp.SSO
	slo  *idp.SLO
}

// build opens the store and assembles the engine. storeDSN overrides the
// configured store (print-metadata uses a private in-memory one).
func build(ctx context.Context, c *idpconf.File, storeDSN string) (*service, error) {
	k, err := loadKeys(c)
	if err != nil {
		return nil, err
	}
	db, err := sqlstore.Open(ctx, storeDSN)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	s := &service{cfg: c, keys: k, db: db}
	if err := s.assemble(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func (s *service) assemble() error {
	c, k := s.cfg, s.keys
	var err error
	if s.set, err = md.New(md.Config{Sources: k.metadataSources}); err != nil {
		return err
	}
	core, err := idp.New(s.idpConfig())
	if err != nil {
		return err
	}
	schema, err := xsd.Default()
	if err != nil {
		return err
	}
	base, card := strings.TrimSuffix(c.BaseURL, "/"), strings.TrimSuffix(c.CardBaseURL, "/")
	ecp, _ := idpconf.ParseDuration(c.Lifetimes.ECP)
	enrol, _ := idpconf.ParseDuration(c.Lifetimes.Enrol)
	s.sso, err = idp.NewSSO(core, idp.SSOConfig{Metadata: s.set, Replay: s.db, Pending: s.db, Schema: schema,
		SSOURL: base + idp.PathSSO, ECPURL: card + idp.PathECP, LoginURL: card + idp.PathLogin,
		SLOURL: base + idp.PathSLO, SLOSOAPURL: base + idp.PathSLOSOAP,
		WantAuthnRequestsSigned: c.WantAuthnRequestsSigned, Quirks: quirks(c.Quirks), IdPInitiated: c.IdPInitiated,
		EncryptionCert: k.encCert, ECPLifetime: ecp, NIM: idp.NIMConfig{URL: base + idp.PathNIM, EnrolWindow: enrol}})
	if err != nil {
		return err
	}
	s.slo, err = idp.NewSLO(s.sso, idp.SLOConfig{})
	return err
}

func (s *service) idpConfig() idp.Config {
	c, k := s.cfg, s.keys
	roots := x509.NewCertPool()
	roots.AddCert(k.cardCA)
	cardCRLs, softCRLs := k.crls.lists()
	cfg := idp.Config{EntityID: c.EntityID, SigningKey: k.signing, SigningCerts: k.signingCerts,
		Cards: s.db, Federations: s.db, Sessions: s.db,
		CardTrust: &trust.Verifier{Roots: roots, CRLs: cardCRLs}, SoftCRLs: softCRLs, RevocationLists: k.crls.lists}
	if dec, ok := k.encKey.(crypto.Decrypter); ok {
		cfg.EncryptionKey = dec
	}
	if k.softCA != nil {
		cfg.SoftCAs = []*x509.Certificate{k.softCA}
	}
	if d := c.Discovery; d != nil {
		cfg.Discovery = &idp.Discovery{EntityID: d.EntityID, Address: d.Address, EncryptionCert: k.discoveryCert}
	}
	cfg.AssertionLifetime, _ = idpconf.ParseDuration(c.Lifetimes.Assertion)
	cfg.SessionLifetime, _ = idpconf.ParseDuration(c.Lifetimes.Session)
	cfg.BootstrapLifetime, _ = idpconf.ParseDuration(c.Lifetimes.Bootstrap)
	return cfg
}

func quirks(in map[string]idpconf.SPQuirks) map[string]idp.SPQuirks {
	out := map[string]idp.SPQuirks{}
	for sp, q := range in {
		out[sp] = idp.SPQuirks{AllowSHA1: q.AllowSHA1, SignResponse: q.SignResponse}
	}
	return out
}

// servers are the two listeners: the main one asks for no client
// certificate, the card-login one requests it (idp.CardLoginTLSConfig).
func (s *service) servers(logf func(string, ...any)) []httpx.Server {
	h := &idp.HTTP{SSO: s.sso, SLO: s.slo, CookieDomain: s.cfg.CookieDomain,
		Log: func(r *http.Request, err error) { logf("%s %s: %v", r.Method, r.URL.Path, err) }}
	mainR, cardR := mux.NewRouter(), mux.NewRouter()
	h.MountMain(mainR)
	h.MountCard(cardR)
	hints := []*x509.Certificate{s.keys.cardCA}
	if s.keys.softCA != nil {
		hints = append(hints, s.keys.softCA)
	}
	return []httpx.Server{
		{Name: "main", Addr: s.cfg.Listen, Handler: httpx.Secure(mainR),
			TLS: &tls.Config{Certificates: []tls.Certificate{s.keys.tls}, MinVersion: tls.VersionTLS12}},
		{Name: "card", Addr: s.cfg.CardListen, Handler: httpx.Secure(cardR), TLS: idp.CardLoginTLSConfig(s.keys.cardTLS, hints...)},
	}
}
