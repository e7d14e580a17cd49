package idp

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/renkei-idwsf/renkei/card/trust"
	"github.com/renkei-idwsf/renkei/internal/keyfile"
	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/ra"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/store"
	"github.com/renkei-idwsf/renkei/store/sqlstore"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/metadir"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
	"github.com/renkei-idwsf/renkei/xmlsec/xmlenc"
	"github.com/renkei-idwsf/renkei/xmlsec/xsd"
)

// Entity IDs of the test federation.
const (
	idpID    = "https://idp.example.org/saml"
	dsID     = "https://idp.example.org/disco"
	dsAddr   = "https://idp.example.org/disco/soap"
	portalID = "https://portal.example.org/sp"
	portalAC = "https://portal.example.org/sp/acs"
	otherSP  = "https://other.example.org/sp"
)

var ctx = context.Background()

// cardHolder is a certificate and key a client presents, and what the
// registry knows of it.
type cardHolder struct {
	Number string
	Cert   *x509.Certificate
	Key    crypto.Signer
}

func (c cardHolder) tls() tls.Certificate {
	return tls.Certificate{Certificate: [][]byte{c.Cert.Raw}, PrivateKey: c.Key, Leaf: c.Cert}
}

// keys are the RSA identities of the federation, made once per binary.
type keys struct {
	IdP, IdPNext, DS, WSC, Other *pki.Identity
	CA                           *pki.CA
}

var (
	keysOnce sync.Once
	fedKeys  keys
	keysErr  error
)

func federationKeys(t testing.TB) keys {
	t.Helper()
	keysOnce.Do(func() {
		p := pki.MustGet()
		fedKeys = keys{IdP: p.RSA, CA: p.CA}
		for _, x := range []struct {
			dst  **pki.Identity
			name string
		}{{&fedKeys.IdPNext, "idp-next"}, {&fedKeys.DS, "ds"}, {&fedKeys.WSC, "portal"}, {&fedKeys.Other, "other"}} {
			if *x.dst, keysErr = p.CA.Issue(x.name, pki.RSA2048); keysErr != nil {
				return
			}
		}
	})
	if keysErr != nil {
		t.Fatal(keysErr)
	}
	return fedKeys
}

// fixture is an IdP on a real SQLite file, with an RA whose card-issuer CA
// certified the cards of the test principals.
type fixture struct {
	t      testing.TB
	now    time.Time
	dir    string
	dsn    string
	db     *sqlstore.DB
	ra     *ra.Authority
	crl    *x509.RevocationList
	server tls.Certificate
	idp    *IdP
	cfg    Config

	Alice        cardHolder // principal p-alice, SmartcardPKI
	Soft         cardHolder // principal p-alice's soft certificate, X509
	Revoked      cardHolder // on the CRL
	RegRevoked   cardHolder // revoked in the registry only
	Unregistered cardHolder // certified, never registered
	Expired      cardHolder
}

func newFixture(t testing.TB) *fixture { return newFixtureOn(t, "") }

// newFixtureOn is newFixture on the store dsn names; "" is a new SQLite
// file.
func newFixtureOn(t testing.TB, dsn string) *fixture {
	t.Helper()
	f := &fixture{t: t, now: time.Now().UTC().Truncate(time.Second), dir: t.TempDir(), dsn: dsn}
	if f.dsn == "" {
		f.dsn = "sqlite:" + filepath.Join(f.dir, "idp.db")
	}
	db, err := sqlstore.Open(ctx, f.dsn)
	must(t, err)
	t.Cleanup(func() { db.Close() })
	f.db = db
	f.principal("p-alice")
	f.principal("p-bob")
	f.Expired = f.expiredCard("HIC-EXP-1", "p-bob")
	f.ra, err = ra.Open(ra.Config{Dir: filepath.Join(f.dir, "ra"), Now: f.clock})
	must(t, err)
	f.Alice = f.card("HIC-0001", "p-alice", true)
	f.Revoked = f.card("HIC-0002", "p-bob", true)
	f.RegRevoked = f.card("HIC-0003", "p-bob", true)
	f.Unregistered = f.card("HIC-0004", "p-bob", false)
	f.Soft = f.soft("SOFT-0001", "p-alice")
	must(t, f.ra.Revoke(f.Revoked.Number, 1))
	_, err = db.RevokeCard(ctx, f.RegRevoked.Number, f.now)
	must(t, err)
	f.crl, err = keyfile.ReadCRL(filepath.Join(f.dir, "ra", ra.CardCRL))
	must(t, err)
	cert, key, err := f.ra.IssueServer("idp", []string{"localhost"})
	must(t, err)
	f.server = tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key, Leaf: cert}
	f.cfg = f.config()
	f.idp, err = New(f.cfg)
	must(t, err)
	return f
}

func (f *fixture) clock() time.Time { return f.now }

func (f *fixture) principal(id string) {
	must(f.t, f.db.CreatePrincipal(ctx, store.Principal{ID: id, Created: f.now}))
}

// expiredCard is certified by an RA whose clock is two hours behind, for
// an hour: expired at f.now. The RA is initialised here.
func (f *fixture) expiredCard(number, principal string) cardHolder {
	old, err := ra.Init(ra.Config{Dir: filepath.Join(f.dir, "ra"), Now: func() time.Time { return f.now.Add(-2 * time.Hour) },
		CardValidity: time.Hour})
	must(f.t, err)
	return f.certify(old, number, principal, true)
}

func (f *fixture) card(number, principal string, register bool) cardHolder {
	return f.certify(f.ra, number, principal, register)
}

func (f *fixture) certify(a *ra.Authority, number, principal string, register bool) cardHolder {
	key, err := ra.NewKey("p256", nil)
	must(f.t, err)
	cert, err := a.IssueCard(number, key.Public())
	must(f.t, err)
	c := cardHolder{Number: number, Cert: cert, Key: key}
	if register {
		f.register(c, principal)
	}
	return c
}

func (f *fixture) register(c cardHolder, principal string) {
	must(f.t, f.db.IssueCard(ctx, store.Card{Number: c.Number, PrincipalID: principal, CertIssuer: c.Cert.Issuer.String(),
		CertSerial: c.Cert.SerialNumber.String(), Status: store.CardIssued, Issued: f.now}))
}

// soft makes the demo PKCS#12 through the RA and registers its
// certificate for principal.
func (f *fixture) soft(number, principal string) cardHolder {
	p12, err := f.ra.IssueSoft("Demo User", "demo-pass")
	must(f.t, err)
	key, cert, _, err := pkcs12.DecodeChain(p12, "demo-pass")
	must(f.t, err)
	c := cardHolder{Number: number, Cert: cert, Key: key.(crypto.Signer)}
	f.register(c, principal)
	return c
}

func (f *fixture) config() Config {
	k := federationKeys(f.t)
	roots := x509.NewCertPool()
	roots.AddCert(f.ra.CardCA())
	return Config{
		EntityID: idpID, SigningKey: k.IdP.Key, SigningCerts: []*x509.Certificate{k.IdP.Cert, k.IdPNext.Cert},
		Cards: f.db, Federations: f.db, Sessions: f.db,
		CardTrust: &trust.Verifier{Roots: roots, CRLs: []*x509.RevocationList{f.crl}},
		SoftCAs:   []*x509.Certificate{f.ra.ServiceCA()},
		Discovery: &Discovery{EntityID: dsID, Metadata: f.dsMetadata(encryptionKey(k.DS.Cert))},
		Schema:    testSchema(f.t),
		Now:       f.clock,
	}
}

// testSchema is the schema set every IdP in the tests checks its
// assertions with.
func testSchema(t testing.TB) *xsd.Schema {
	t.Helper()
	s, err := xsd.Default()
	must(t, err)
	return s
}

// withConfig returns an IdP on the fixture's store with cfg changed by fn.
func (f *fixture) withConfig(fn func(*Config)) *IdP {
	cfg := f.config()
	fn(&cfg)
	p, err := New(cfg)
	must(f.t, err)
	return p
}

// aliceAuthn is a card login of Alice at the fixture's now.
func (f *fixture) aliceAuthn() Authn {
	a, err := f.idp.AuthenticateCertificate(ctx, []*x509.Certificate{f.Alice.Cert}, f.now)
	must(f.t, err)
	return a
}

// idpVerifier trusts the IdP's first signing key only.
func idpVerifier(t testing.TB) *dsig.Verifier {
	return &dsig.Verifier{Trust: xmlsec.NewTrustSet([]*x509.Certificate{federationKeys(t).IdP.Cert})}
}

// recipient is the portal's encryption key as its metadata lists it.
func recipient(t testing.TB) *xmlenc.Recipient {
	return &xmlenc.Recipient{EntityID: portalID, Cert: federationKeys(t).WSC.Cert}
}

func decrypter(id *pki.Identity, entityID string) *xmlenc.Decrypter {
	return &xmlenc.Decrypter{Key: id.Key.(*rsa.PrivateKey), EntityID: entityID}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t testing.TB, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error = %v, want %v", err, target)
	}
}

func storeCard(c cardHolder, now time.Time) store.Card {
	return store.Card{Number: c.Number, CertIssuer: c.Cert.Issuer.String(), CertSerial: c.Cert.SerialNumber.String(),
		Status: store.CardIssued, Issued: now}
}

// The SQL backend serves every store interface the engine needs.
var (
	_ store.CardReader      = (*sqlstore.DB)(nil)
	_ store.FederationStore = (*sqlstore.DB)(nil)
	_ store.SessionStore    = (*sqlstore.DB)(nil)
)

// entities is metadata held in memory.
type entities map[string]*md.EntityDescriptor

func (m entities) Entity(entityID string, _ time.Time) (*md.EntityDescriptor, error) {
	if e, ok := m[entityID]; ok {
		return e, nil
	}
	return nil, md.Errorf(md.KindNotFound, "%s", entityID)
}

// dsMetadata is the aggregate as the IdP reads the Discovery Service from
// it: the DS's ID-WSF role with its SOAP endpoint and keys.
func (f *fixture) dsMetadata(keys ...md.KeyDescriptor) *metadir.Directory {
	role := (&metadir.WebService{ServiceTypes: []string{wsf.ServiceTypeDisco}, Endpoints: []string{dsAddr}, Keys: keys}).Role()
	d, err := metadir.New(metadir.Config{Metadata: entities{dsID: {EntityID: dsID, Roles: []*md.RoleDescriptor{role}}}, Now: f.clock})
	must(f.t, err)
	return d
}

// encryptionKey is a KeyDescriptor use="encryption" for c.
func encryptionKey(c *x509.Certificate) md.KeyDescriptor {
	return md.KeyDescriptor{Use: md.UseEncryption, Certificates: []*x509.Certificate{c}}
}
