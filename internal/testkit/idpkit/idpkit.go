// Package idpkit runs Renkei's IdP for interop and conformance tests the
// way an operator runs it: the real cmd/renkei-idp binary (built once per
// test process, with optional build tags), a JSON configuration file, keys
// from internal/testkit/pki, a card-issuer CA and CRL kept by the ra
// package, and a store in which the kit registers principals and cards
// while the IdP has it open: a SQLite file (WAL) by default, or the
// database Options.Store names (PostgreSQL shared with a Discovery
// Service). Both listeners are on
// 127.0.0.1; the process is stopped by PID in Cleanup and killed with the
// test binary (Pdeathsig) if Cleanup never runs.
//
// Use is two-phase, because the IdP reads its card CRL when it starts:
//
//	k := idpkit.New(t, idpkit.Options{SPMetadata: [][]byte{sp.Metadata}})
//	card := k.IssueCard("p-alice", "HIC-0001", pki.P256) // load into vcard.Insert
//	k.Start()
//	// k.Metadata is /metadata exactly as served; k.RootCAs trusts its TLS.
//
// StartNode runs one more process of the same configuration, for tests of
// several nodes behind a balancer (internal/testkit/rr); Kill ends a
// process with SIGKILL, as a crashed machine ends.
package idpkit

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/internal/fedfiles"
	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/ra"
	"github.com/renkei-idwsf/renkei/store"
	"github.com/renkei-idwsf/renkei/store/sqlstore"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// Paths the IdP serves (idp.Path*), relative to BaseURL or CardBaseURL.
const (
	PathMetadata = "/metadata"
	PathSSO      = "/sso"
	PathLogin    = "/login"
	PathECP      = "/ecp"
)

// ServerName is the name the IdP's TLS certificate (the shared test PKI's
// RSA leaf) carries; clients dial 127.0.0.1 and check this name.
const ServerName = "localhost"

// Options are what a test may vary.
type Options struct {
	// SPMetadata are the SPs' metadata documents, each written to a file
	// the IdP loads as an unsigned source placed by the operator.
	SPMetadata [][]byte
	// Discovery configures a Discovery Service for the DiscoveryEPR
	// bootstrap: the configuration names DSEntityID, and the metadata
	// lists its ID-WSF role with DSAddress and a fresh key (DSEncryption)
	// for signing and encryption.
	Discovery bool
	// DSAddress, when set, replaces DSAddress as the DS's SOAP endpoint in
	// its metadata (ds.xml), for a test that runs a real DS there.
	DSAddress string
	// Store is a store/sqlstore DSN for the IdP and the kit's own
	// connection; "" is a SQLite file idp.db in Dir.
	Store string
	// WantAuthnRequestsSigned is published in the IdP's metadata and
	// enforced.
	WantAuthnRequestsSigned bool
	// Tags are build tags for the binary.
	Tags []string
	// Tweak changes the configuration before it is written.
	Tweak func(*Config)
	// AsDeployed runs the IdP as renkei-idp runs by default (benchmarks):
	// without idpserver.File.CheckOutgoing, which the kit otherwise sets
	// so that every assertion and Response the IdP sends in a test is
	// checked against the schemas.
	AsDeployed bool
	// Args are more command-line arguments for every process of the IdP
	// (such as -cpuprofile FILE).
	Args []string
}

// The Discovery Service named when Options.Discovery is set.
const (
	DSEntityID = "https://ds.renkei.test/disco"
	DSAddress  = "https://ds.renkei.test/disco/soap"
)

// IdP is one configured IdP process.
type IdP struct {
	// EntityID, BaseURL (main listener) and CardBaseURL (card login) are
	// fixed by New; MetadataURL, SSOURL, CardLoginURL and ECPURL derive
	// from them.
	EntityID, BaseURL, CardBaseURL            string
	MetadataURL, SSOURL, CardLoginURL, ECPURL string
	// AdminURL is the admin listener's plain-HTTP URL on loopback
	// (/metrics, /healthz, /readyz), set by Start.
	AdminURL string
	// Metadata is GET /metadata exactly as served, set by Start.
	Metadata []byte
	// RootCAs trusts the IdP's TLS certificate (check ServerName).
	RootCAs *x509.CertPool
	// Signing and Encryption are the IdP's SAML keys; DSEncryption the
	// Discovery Service's key (nil without Options.Discovery).
	Signing, Encryption, DSEncryption *pki.Identity
	// Config is the configuration as written; Dir holds it and every file.
	Config Config
	Dir    string
	// RA is the registration authority of the cards; Store the kit's own
	// connection to the IdP's store.
	RA    *ra.Authority
	Store *sqlstore.DB

	tb    testing.TB
	opts  Options
	p     *proc
	nodes int // StartNode's count, naming each node's configuration file
}

// New prepares an IdP: keys, RA, store and configuration; Start runs it.
func New(tb testing.TB, opts Options) *IdP {
	tb.Helper()
	k := &IdP{tb: tb, opts: opts, Dir: tb.TempDir(), EntityID: "https://idp.renkei.test/saml"}
	if err := k.prepare(); err != nil {
		tb.Fatalf("idpkit: %v", err)
	}
	return k
}

// Start is New followed by Start, for tests that need no cards.
func Start(tb testing.TB, opts Options) *IdP {
	tb.Helper()
	k := New(tb, opts)
	k.Start()
	return k
}

func (k *IdP) prepare() error {
	p, err := pki.Get()
	if err != nil {
		return err
	}
	k.RootCAs = x509.NewCertPool()
	k.RootCAs.AddCert(p.CA.Cert)
	if k.RA, err = ra.Init(ra.Config{Dir: filepath.Join(k.Dir, "ra")}); err != nil {
		return err
	}
	if _, err = k.RA.WriteCRL(); err != nil {
		return err
	}
	if k.Store, err = sqlstore.Open(context.Background(), k.dsn()); err != nil {
		return err
	}
	k.tb.Cleanup(func() { k.Store.Close() })
	if err := k.writeKeys(p); err != nil {
		return err
	}
	return k.writeMetadata()
}

// writeKeys issues the IdP's keys and fills the configuration's files.
func (k *IdP) writeKeys(p *pki.Shared) error {
	c := &k.Config
	var err error
	if c.TLS.Cert, c.TLS.Key, err = p.RSA.WriteFiles(k.Dir); err != nil {
		return err
	}
	c.CardTLS = c.TLS
	// One ticket key for every node (StartNode), as an operator shares it.
	var tk [32]byte
	rand.Read(tk[:])
	c.TLSTicketKeys = filepath.Join(k.Dir, "tls-tickets.key")
	if err := os.WriteFile(c.TLSTicketKeys, []byte(hex.EncodeToString(tk[:])+"\n"), 0o600); err != nil {
		return err
	}
	for _, x := range []struct {
		name string
		id   **pki.Identity
		kp   *KeyPair
		use  bool
	}{{"idp-signing", &k.Signing, &c.Signing, true}, {"idp-encryption", &k.Encryption, &c.Encryption, true},
		{"ds-encryption", &k.DSEncryption, nil, k.opts.Discovery}} {
		if !x.use {
			continue
		}
		if *x.id, err = p.CA.Issue(x.name, pki.RSA2048); err != nil {
			return err
		}
		var kp KeyPair
		if kp.Cert, kp.Key, err = (*x.id).WriteFiles(k.Dir); err != nil {
			return err
		}
		if x.kp != nil {
			*x.kp = kp
		} else {
			c.Discovery = &DiscoveryRef{EntityID: DSEntityID}
		}
	}
	c.EntityID = k.EntityID
	c.CardCA, c.CardCRL = filepath.Join(k.Dir, "ra", ra.CardCACert), filepath.Join(k.Dir, "ra", ra.CardCRL)
	// The SPs' SOAP endpoints (back-channel logout, ManageNameID) have
	// certificates of the test CA.
	c.TrustedRoots = filepath.Join(k.Dir, "trusted-roots.pem")
	if err := os.WriteFile(c.TrustedRoots, p.CA.CertPEM(), 0o600); err != nil {
		return err
	}
	c.Store = k.dsn()
	c.WantAuthnRequestsSigned = k.opts.WantAuthnRequestsSigned
	c.CheckOutgoing = !k.opts.AsDeployed
	return nil
}

// dsn is the store's DSN: Options.Store, else the SQLite file idp.db.
func (k *IdP) dsn() string {
	if k.opts.Store != "" {
		return k.opts.Store
	}
	return "sqlite:" + filepath.Join(k.Dir, "idp.db")
}

// DSAddress is the DS's SOAP endpoint as ds.xml lists it:
// Options.DSAddress, else the package's DSAddress.
func (k *IdP) DSAddress() string {
	if k.opts.DSAddress != "" {
		return k.opts.DSAddress
	}
	return DSAddress
}

func (k *IdP) writeMetadata() error {
	type doc struct {
		name string
		b    []byte
	}
	var docs []doc
	for i, b := range k.opts.SPMetadata {
		docs = append(docs, doc{fmt.Sprintf("sp-%d.xml", i), b})
	}
	if k.opts.Discovery {
		b, err := xmlsec.Serialize(fedfiles.DSEntityDescriptor(DSEntityID, k.DSAddress(), k.DSEncryption.Cert).Element())
		if err != nil {
			return err
		}
		docs = append(docs, doc{"ds.xml", b})
	}
	for _, d := range docs {
		path := filepath.Join(k.Dir, d.name)
		if err := os.WriteFile(path, d.b, 0o600); err != nil {
			return err
		}
		k.Config.Metadata = append(k.Config.Metadata, MetadataSource{Location: path, Unsigned: true})
	}
	return nil
}

// Principal registers a principal in the store (once; again is a no-op).
func (k *IdP) Principal(id string) {
	k.tb.Helper()
	err := k.Store.CreatePrincipal(context.Background(), store.Principal{ID: id, Created: time.Now().UTC()})
	if err != nil && !errors.Is(err, store.ErrAlreadyExists) {
		k.tb.Fatalf("idpkit: principal %s: %v", id, err)
	}
}

// IssueCard makes a card for principal (created if new): a fresh key of
// kt (pki.P256 or pki.RSA2048), certified by the card-issuer CA with the
// card number, registered in the store. The identity is what
// internal/testkit/vcard loads into the virtual card.
func (k *IdP) IssueCard(principal, number string, kt pki.KeyType) *pki.Identity {
	k.tb.Helper()
	return k.IssueCardFor(principal, number, kt, ra.Holder{})
}

// IssueCardFor is IssueCard with what the certificate says of the holder
// (ra.Holder: name, date of birth).
func (k *IdP) IssueCardFor(principal, number string, kt pki.KeyType, h ra.Holder) *pki.Identity {
	k.tb.Helper()
	k.Principal(principal)
	key, err := ra.NewKey(string(kt), nil)
	if err != nil {
		k.tb.Fatalf("idpkit: %v", err)
	}
	cert, err := k.RA.IssueCardFor(number, key.Public(), h)
	if err != nil {
		k.tb.Fatalf("idpkit: card %s: %v", number, err)
	}
	err = k.Store.IssueCard(context.Background(), store.Card{Number: number, PrincipalID: principal,
		CertIssuer: cert.Issuer.String(), CertSerial: cert.SerialNumber.String(), Status: store.CardIssued, Issued: time.Now().UTC()})
	if err != nil {
		k.tb.Fatalf("idpkit: register card %s: %v", number, err)
	}
	return &pki.Identity{Name: "card-" + number, Key: key, Cert: cert}
}

// RevokeOnCRL revokes the card's certificates (keyCompromise) and
// rewrites the CRL; the IdP reads the CRL when it starts, so call it
// before Start.
func (k *IdP) RevokeOnCRL(number string) {
	k.tb.Helper()
	if k.p != nil {
		k.tb.Fatal("idpkit: RevokeOnCRL after Start: the running IdP keeps the CRL it read")
	}
	if err := k.RA.Revoke(number, 1); err != nil {
		k.tb.Fatalf("idpkit: revoke %s: %v", number, err)
	}
}

// RevokeInRegistry marks the card revoked in the store, which the running
// IdP sees at the next login.
func (k *IdP) RevokeInRegistry(number string) {
	k.tb.Helper()
	if _, err := k.Store.RevokeCard(context.Background(), number, time.Now().UTC()); err != nil {
		k.tb.Fatalf("idpkit: revoke %s: %v", number, err)
	}
}

// Client is an HTTPS client trusting the IdP's TLS certificate, with no
// client certificate.
func (k *IdP) Client() *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: k.RootCAs, ServerName: ServerName, MinVersion: tls.VersionTLS12}}}
}

// Stderr is what the IdP logged so far.
func (k *IdP) Stderr() string {
	if k.p == nil {
		return ""
	}
	return k.p.stderr.String()
}

// fetchMetadata GETs url (a node's /metadata) once.
func (k *IdP) fetchMetadata(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := k.Client().Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: HTTP %d: %s", url, resp.StatusCode, strings.TrimSpace(string(b)))
	}
	return b, err
}
