// Package dskit is the test kit of the Discovery Service: a federation on
// the test PKI with the IdP that mints the DS tokens, the DS engine behind
// the wsf/server receiver on a loopback HTTPS listener that asks for
// client certificates, the My Portal WSC, a reception terminal, another
// WSC, and the sample institutions' WSPs (two hospitals, an insurer, the
// pension service, and a clinic with no encryption key), each with its
// SvcMD registered by the WSP itself over SOAP. Nothing here is for
// production use; tests, benchmarks and the conformance suite's own test
// share it.
package dskit

import (
	"context"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/gorilla/mux"

	"github.com/renkei-idwsf/renkei/discovery"
	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/internal/wsfstore"
	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/store"
	"github.com/renkei-idwsf/renkei/store/sqlstore"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/client"
	"github.com/renkei-idwsf/renkei/wsf/disco"
	"github.com/renkei-idwsf/renkei/wsf/secmech"
	"github.com/renkei-idwsf/renkei/wsf/server"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
	"github.com/renkei-idwsf/renkei/xmlsec/xmlenc"
	"github.com/renkei-idwsf/renkei/xmlsec/xsd"
)

// Entity IDs of the federation.
const (
	IdPID      = "https://idp.renkei.test/metadata"
	DSID       = "https://ds.renkei.test/metadata"
	PortalID   = "https://portal.renkei.test/metadata"
	TerminalID = "https://reception.hospital-a.renkei.test/metadata"
	OtherWSCID = "https://other.renkei.test/metadata"
)

// Service types (ARCHITECTURE "Service types").
const (
	Clinical    = "urn:renkei:svc:clinical:1.0"
	Checkup     = "urn:renkei:svc:checkup:1.0"
	Appointment = "urn:renkei:svc:appointment:1.0"
	Eligibility = "urn:renkei:svc:eligibility:1.0"
	Pension     = "urn:renkei:svc:pension:1.0"
)

// WSP is one sample service of one institution.
type WSP struct {
	EntityID    string
	ServiceType string
	Abstract    string
	Address     string
	// LocalID is the institution's local identifier of the principal.
	LocalID string
	// NoKey: the institution's metadata has no encryption key.
	NoKey    bool
	Identity *pki.Identity
	SvcMDID  string // assigned at registration
}

// Samples are the five services of the sample institutions: two
// hospitals, an insurer and the pension service; SamplesNoKey the clinic
// whose metadata has no encryption key.
func Samples() []*WSP {
	return []*WSP{
		{EntityID: "https://hospital-a.renkei.test/metadata", ServiceType: Clinical, Abstract: "Hospital A: lab results and prescriptions",
			Address: "https://hospital-a.renkei.test/wsp/clinical", LocalID: "patient:A-000123"},
		{EntityID: "https://hospital-a.renkei.test/metadata", ServiceType: Appointment, Abstract: "Hospital A: outpatient bookings",
			Address: "https://hospital-a.renkei.test/wsp/appointment", LocalID: "patient:A-000123"},
		{EntityID: "https://hospital-b.renkei.test/metadata", ServiceType: Checkup, Abstract: "Hospital B: health check-ups",
			Address: "https://hospital-b.renkei.test/wsp/checkup", LocalID: "patient:B-77"},
		{EntityID: "https://insurer.renkei.test/metadata", ServiceType: Eligibility, Abstract: "Insurer: eligibility",
			Address: "https://insurer.renkei.test/wsp/eligibility", LocalID: "06139999:%E8%A8%98%E5%8F%B7:1234:01"},
		{EntityID: "https://pension.renkei.test/metadata", ServiceType: Pension, Abstract: "Pension service: pension record",
			Address: "https://pension.renkei.test/wsp/pension", LocalID: "1234-567890"},
	}
}

// Options vary the federation.
type Options struct {
	// DSN is the store; "" is a private SQLite file in the test's
	// temporary directory.
	DSN string
	// KeyType of the IdP, DS and WSC signing keys; "" is RSA-2048. The
	// WSPs' encryption keys are RSA-2048 always (XML Encryption key
	// transport here is RSA-OAEP).
	KeyType pki.KeyType
	// PortalProfile is the portal's peer profile (TLS:Bearer tests).
	PortalProfile wsf.Profile
	// Policy, when set, replaces the default policy (portal listed,
	// reception terminal listed with eligibility and treatment purposes).
	Policy *discovery.Policy
	// Consent gives the DS its consent page's address, ConsentURL: /consent
	// on the DS's own listener (a WSC follows a RedirectRequest only to the
	// host of the EPR it called), served there by discovery.ConsentHTTP
	// beside the receiver at /disco.
	Consent bool
	// NoKeyClinic adds a sixth service whose institution has no
	// encryption key.
	NoKeyClinic bool
	// Wrap, when set, wraps the DS engine's service map (fault builds).
	Wrap func(c *server.Config)
	// WrapStore, when set, wraps the store the DS engine is given (tests
	// that count its reads and writes).
	WrapStore func(discovery.Store) discovery.Store
	// Deaf are the providers whose metadata lists no SOAP
	// SingleLogoutService (discovery.SingleLogouts); nil: every WSP
	// hears single logout.
	Deaf []string
	// AsDeployed answers without checking each answer against the schemas,
	// as renkei-ds runs by default (dsserver.File.CheckOutgoing; for
	// benchmarks); tests check every answer.
	AsDeployed bool
}

// Federation is the running federation.
type Federation struct {
	Keys     *Keys
	Store    *sqlstore.DB
	DS       *discovery.DS
	Receiver *server.Receiver
	Server   *httptest.Server
	URL      string // the DS's SOAP endpoint
	// ConsentURL is the consent page's address when Options.Consent.
	ConsentURL string
	Directory  wsf.StaticDirectory
	WSPs       []*WSP
	Clock      *Clock
	Schema     *xsd.Schema
	Principal  string
	Policy     discovery.Policy
	minter     *secmech.Minter
	providers  Recipients
}

// Keys are the federation's identities.
type Keys struct {
	IdP, DS, Portal, Terminal, Other, Rogue *pki.Identity
	CA                                      *pki.CA
}

var (
	keysMu sync.Mutex
	keys   = map[pki.KeyType]*Keys{}
	wspMu  sync.Mutex
	wspIDs = map[string]*pki.Identity{}
)

// KeysOf returns the identities for a key type, made once per binary.
func KeysOf(t testing.TB, kt pki.KeyType) *Keys {
	t.Helper()
	if kt == "" {
		kt = pki.RSA2048
	}
	keysMu.Lock()
	defer keysMu.Unlock()
	if k := keys[kt]; k != nil {
		return k
	}
	ca := pki.MustGet().CA
	k := &Keys{CA: ca}
	for _, x := range []struct {
		dst  **pki.Identity
		name string
	}{{&k.IdP, "idp"}, {&k.DS, "ds"}, {&k.Portal, "portal"}, {&k.Terminal, "terminal"}, {&k.Other, "other-wsc"}, {&k.Rogue, "rogue"}} {
		id, err := ca.Issue(x.name+"-"+string(kt), kt)
		if err != nil {
			t.Fatal(err)
		}
		*x.dst = id
	}
	keys[kt] = k
	return k
}

// wspIdentity returns the RSA identity of an institution, one per
// entityID per binary.
func wspIdentity(t testing.TB, entityID string) *pki.Identity {
	wspMu.Lock()
	defer wspMu.Unlock()
	if id := wspIDs[entityID]; id != nil {
		return id
	}
	id, err := pki.MustGet().CA.Issue(entityID, pki.RSA2048)
	if err != nil {
		t.Fatal(err)
	}
	wspIDs[entityID] = id
	return id
}

// Clock is the federation's settable clock.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock on.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Recipients are providers' encryption keys as the metadata lists them:
// the discovery.Providers of a DS in a test.
type Recipients map[string]xmlenc.Recipient

// Recipient returns the provider's key, or ProviderIDNotValid.
func (p Recipients) Recipient(_ context.Context, entityID string) (xmlenc.Recipient, error) {
	r, ok := p[entityID]
	if !ok {
		return xmlenc.Recipient{}, wsf.Errorf(wsf.ProviderIDNotValid, "%s has no encryption key in the metadata", entityID)
	}
	return r, nil
}

// deafProviders are Recipients some of which hear no single logout.
type deafProviders struct {
	Recipients
	deaf []string
}

// HearsLogout reports whether entityID is not one of the deaf.
func (p deafProviders) HearsLogout(_ context.Context, entityID string) bool {
	return !slices.Contains(p.deaf, entityID)
}

func providersOf(r Recipients, deaf []string) discovery.Providers {
	if deaf == nil {
		return r
	}
	return deafProviders{Recipients: r, deaf: deaf}
}

// DefaultPolicy is the federation's policy: the portal collects consent;
// the reception terminal may discover eligibility, and clinical results
// for treatment, with the card present.
func DefaultPolicy() discovery.Policy {
	return discovery.Policy{Portals: []string{PortalID}, Reception: discovery.Reception{
		Terminals: []string{TerminalID},
		Purposes: map[string][]string{wsf.PurposeEligibility: {Eligibility},
			wsf.PurposeTreatment: {Clinical, Eligibility}}}}
}

// New starts the federation: the store, the DS on its listener, the
// sample WSPs' SvcMDs registered over SOAP, and a principal with no link
// yet.
func New(t testing.TB, o Options) *Federation {
	t.Helper()
	k := KeysOf(t, o.KeyType)
	schema, err := xsd.Default()
	if err != nil {
		t.Fatal(err)
	}
	dsn := o.DSN
	if dsn == "" {
		dsn = "sqlite:" + t.TempDir() + "/relay.db"
	}
	db, err := sqlstore.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f := &Federation{Keys: k, Store: db, Clock: &Clock{t: time.Now().UTC().Truncate(time.Second)}, Schema: schema,
		providers: Recipients{}}
	f.WSPs = Samples()
	if o.NoKeyClinic {
		f.WSPs = append(f.WSPs, &WSP{EntityID: "https://clinic.renkei.test/metadata", ServiceType: Clinical,
			Abstract: "Clinic C: lab results", Address: "https://clinic.renkei.test/wsp/clinical", LocalID: "C-1", NoKey: true})
	}
	f.directory(t, o)
	f.providers[DSID] = xmlenc.Recipient{EntityID: DSID, Cert: DSEncryption(t, o.KeyType).Cert}
	f.Policy = DefaultPolicy()
	if o.Policy != nil {
		f.Policy = *o.Policy
	}
	f.start(t, o)
	f.minter = &secmech.Minter{Issuer: IdPID, Signer: &dsig.Signer{Key: k.IdP.Key, Certificates: []*x509.Certificate{k.IdP.Cert}}}
	f.Principal = f.NewPrincipal(t)
	f.RegisterAll(t)
	return f
}

func (f *Federation) directory(t testing.TB, o Options) {
	k := f.Keys
	idp := wsf.NewPeer(IdPID, k.IdP.Cert)
	idp.TokenIssuer = true
	ds := wsf.NewPeer(DSID, k.DS.Cert)
	ds.TokenIssuer = true
	portal := wsf.NewPeer(PortalID, k.Portal.Cert)
	portal.Profile = o.PortalProfile
	f.Directory = wsf.StaticDirectory{IdPID: idp, DSID: ds, PortalID: portal,
		TerminalID: wsf.NewPeer(TerminalID, k.Terminal.Cert), OtherWSCID: wsf.NewPeer(OtherWSCID, k.Other.Cert)}
	for _, w := range f.WSPs {
		w.Identity = wspIdentity(t, w.EntityID)
		if f.Directory[w.EntityID] == nil {
			f.Directory[w.EntityID] = wsf.NewPeer(w.EntityID, w.Identity.Cert)
		}
		if !w.NoKey {
			f.providers[w.EntityID] = xmlenc.Recipient{EntityID: w.EntityID, Cert: w.Identity.Cert}
		}
	}
}

func (f *Federation) start(t testing.TB, o Options) {
	t.Helper()
	k := f.Keys
	f.Server = httptest.NewUnstartedServer(nil)
	f.URL = "https://" + f.Server.Listener.Addr().String() + "/disco"
	if o.Consent {
		f.ConsentURL = "https://" + f.Server.Listener.Addr().String() + "/consent"
	}
	var st discovery.Store = f.Store
	if o.WrapStore != nil {
		st = o.WrapStore(st)
	}
	ds, err := discovery.New(discovery.Config{EntityID: DSID, NameQualifier: IdPID,
		Signer: &dsig.Signer{Key: k.DS.Key, Certificates: []*x509.Certificate{k.DS.Cert}},
		Store:  st, Providers: providersOf(f.providers, o.Deaf), Policy: f.Policy, ConsentURL: f.ConsentURL, AuditURL: f.URL, Schema: f.Schema,
		Now: f.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	f.DS = ds
	cfg := server.Config{EntityID: DSID, Endpoints: []string{f.URL}, Key: k.DS.Key, Certificate: k.DS.Cert,
		Decrypter: decrypter(t, k.DS), Directory: f.Directory, Replay: wsfstore.Replay(f.Store), Schema: f.Schema,
		Mechanisms:             []wsf.Mechanism{wsf.ClientTLSSAMLV2, wsf.ClientTLSPeerSAMLV2, wsf.TLSSAMLV2, wsf.TLSBearer, wsf.ClientTLSX509},
		SkipOutgoingValidation: o.AsDeployed, Now: f.Clock.Now}
	ds.Mount(&cfg)
	if o.Wrap != nil {
		o.Wrap(&cfg)
	}
	if f.Receiver, err = server.New(cfg); err != nil {
		t.Fatal(err)
	}
	f.Server.Config.Handler = server.Handler{Receiver: f.Receiver}
	if o.Consent {
		r := mux.NewRouter()
		r.Handle("/disco", server.Handler{Receiver: f.Receiver})
		(&discovery.ConsentHTTP{DS: ds}).Mount(r)
		f.Server.Config.Handler = r
	}
	f.Server.TLS = &tls.Config{Certificates: []tls.Certificate{tlsCert(k.DS)}, ClientAuth: tls.RequestClientCert, MinVersion: tls.VersionTLS12}
	f.Server.StartTLS()
	t.Cleanup(f.Server.Close)
}

// decrypter is the DS's encryption key: its own when RSA; XML
// Encryption's key transport here is RSA-OAEP, so an EC DS has a second,
// RSA key for encryption, as its metadata would list.
func decrypter(t testing.TB, id *pki.Identity) *xmlenc.Decrypter {
	if key, ok := id.Key.(*rsa.PrivateKey); ok {
		return &xmlenc.Decrypter{Key: key}
	}
	return &xmlenc.Decrypter{Key: wspIdentity(t, DSID+"#enc").Key.(*rsa.PrivateKey)}
}

func tlsCert(id *pki.Identity) tls.Certificate {
	return tls.Certificate{Certificate: [][]byte{id.Cert.Raw}, PrivateKey: id.Key, Leaf: id.Cert}
}

// HTTPClient returns a client trusting the test CA that presents id's
// certificate (none when id is nil).
func (f *Federation) HTTPClient(t testing.TB, id *pki.Identity) *http.Client {
	pool := x509.NewCertPool()
	pool.AddCert(f.Keys.CA.Cert)
	cfg := &tls.Config{RootCAs: pool, ServerName: "localhost", MinVersion: tls.VersionTLS12}
	if id != nil {
		cfg.Certificates = []tls.Certificate{tlsCert(id)}
	}
	tr := &http.Transport{TLSClientConfig: cfg}
	if tb, ok := t.(interface{ Cleanup(func()) }); ok {
		tb.Cleanup(tr.CloseIdleConnections)
	}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// Client returns a wsf/client for entityID presenting id, preferring
// mechs (nil: the client's default).
func (f *Federation) Client(t testing.TB, entityID string, id *pki.Identity, mechs ...wsf.Mechanism) *client.Client {
	t.Helper()
	c, err := client.New(client.Config{EntityID: entityID, Key: id.Key, Certificate: id.Cert, Directory: f.Directory,
		HTTP: f.HTTPClient(t, id), Schema: f.Schema, Mechanisms: mechs, Now: f.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// NewPrincipal stores a card holder with no link.
func (f *Federation) NewPrincipal(t testing.TB) string {
	t.Helper()
	id, err := saml.NewID(nil)
	if err != nil {
		t.Fatal(err)
	}
	p := "principal" + id
	if err := f.Store.CreatePrincipal(context.Background(), store.Principal{ID: p, Created: f.Clock.Now()}); err != nil {
		t.Fatal(err)
	}
	return p
}

// TokenOptions vary a DS token.
type TokenOptions struct {
	// Bearer mints a bearer token instead of holder-of-key.
	Bearer bool
	// AuthnAge is how long ago the card login was; AuthnClass its class
	// ("" is SmartcardPKI).
	AuthnAge   time.Duration
	AuthnClass string
	// Audience replaces the DS as the audience (and the NameID's
	// SPNameQualifier).
	Audience string
	// Lifetime of the token; 0 is an hour.
	Lifetime time.Duration
	// SessionIndex is the DS's SessionIndex in an IdP session (see
	// Federation.StartSession); "" puts none in the token.
	SessionIndex string
}

// DSToken mints the token the IdP puts in the bootstrap for the WSC whose
// certificate is wsc: audience the DS, subject the principal's pairwise
// NameID at the DS (created as the IdP does), encrypted for the DS.
func (f *Federation) DSToken(t testing.TB, principal string, wsc *x509.Certificate, o TokenOptions) *etree.Element {
	t.Helper()
	now := f.Clock.Now()
	aud := o.Audience
	if aud == "" {
		aud = DSID
	}
	fed, err := store.Pairwise(context.Background(), f.Store, principal, aud, true, now, nil)
	if err != nil {
		t.Fatal(err)
	}
	class := o.AuthnClass
	if class == "" {
		class = saml.ACSmartcardPKI
	}
	life := o.Lifetime
	if life == 0 {
		life = time.Hour
	}
	req := secmech.TokenRequest{Audience: aud, Target: xmlenc.Recipient{EntityID: aud, Cert: f.providers[aud].Cert},
		NameID:       &saml.NameID{Value: fed.NameID, Format: saml.NameIDPersistent, NameQualifier: IdPID, SPNameQualifier: aud},
		Confirmation: secmech.ConfirmHolderOfKey, Invoker: wsc, Lifetime: life,
		AuthnInstant: now.Add(-o.AuthnAge), AuthnClassRef: class, SessionIndex: o.SessionIndex}
	if o.Bearer {
		req.Confirmation, req.Invoker = secmech.ConfirmBearer, nil
	}
	m, err := f.minter.Mint(req, now)
	if err != nil {
		t.Fatal(err)
	}
	return m.Element
}

// StartSession opens an IdP session of principal lasting life, as the
// IdP's SSO does, in which the DS participates with the principal's
// pairwise NameID there, and returns the session's ID and the DS's
// SessionIndex for TokenOptions.SessionIndex.
func (f *Federation) StartSession(t testing.TB, principal string, life time.Duration) (id, dsIndex string) {
	t.Helper()
	ctx, now := context.Background(), f.Clock.Now()
	fed, err := store.Pairwise(ctx, f.Store, principal, DSID, true, now, nil)
	if err != nil {
		t.Fatal(err)
	}
	if id, err = saml.NewID(nil); err != nil {
		t.Fatal(err)
	}
	if dsIndex, err = saml.NewID(nil); err != nil {
		t.Fatal(err)
	}
	s := store.Session{ID: id, PrincipalID: principal, AuthnInstant: now, AuthnContext: saml.ACSmartcardPKI,
		Created: now, Expires: now.Add(life), Participants: []store.Participant{{ProviderID: DSID, SessionIndex: dsIndex,
			NameID: fed.NameID, NameIDFormat: saml.NameIDPersistent, Joined: now}}}
	if err := f.Store.CreateSession(ctx, s); err != nil {
		t.Fatal(err)
	}
	return id, dsIndex
}

// DSEPR is the bootstrap EPR of the DS carrying token under mechs (nil:
// ClientTLS:SAMLV2).
func (f *Federation) DSEPR(token *etree.Element, mechs ...wsf.Mechanism) *wsf.EPR {
	if len(mechs) == 0 {
		mechs = []wsf.Mechanism{wsf.ClientTLSSAMLV2}
	}
	sc := wsf.SecurityContext{}
	for _, m := range mechs {
		sc.Mechanisms = append(sc.Mechanisms, string(m))
	}
	if token != nil {
		sc.Tokens = []wsf.Token{{Usage: wsf.UsageSecurityToken, Element: token}}
	}
	return &wsf.EPR{Address: f.URL, Metadata: &wsf.EPRMetadata{Abstract: "Discovery Service", ProviderID: DSID,
		ServiceType: wsf.ServiceTypeDisco, Framework: wsf.FrameworkVersion, SecurityContexts: []wsf.SecurityContext{sc}}}
}

// SvcMD is the sample service's metadata as its WSP registers it.
func (w *WSP) SvcMD() *disco.SvcMD {
	return &disco.SvcMD{Abstract: w.Abstract, ProviderID: w.EntityID, ServiceContexts: []disco.ServiceContext{{
		ServiceTypes: []string{w.ServiceType},
		EndpointContexts: []disco.EndpointContext{{Addresses: []string{w.Address},
			Frameworks:      []disco.Framework{{Version: wsf.FrameworkVersion}},
			SecurityMechIDs: []string{string(wsf.ClientTLSSAMLV2), string(wsf.ClientTLSPeerSAMLV2), string(wsf.TLSBearer)}}},
	}}}
}

// Call sends payload to the DS as the client c, under epr (the DS EPR of
// a token, or AdminEPR).
func (f *Federation) Call(t testing.TB, c *client.Client, epr *wsf.EPR, payload interface {
	Element() *etree.Element
}, action string, h wsf.Header) (*client.Result, error) {
	t.Helper()
	return c.Call(context.Background(), &client.Call{EPR: epr, Action: disco.Action(action), Payload: payload.Element(), Header: h})
}

// AdminEPR is the DS EPR a WSP uses as itself (ClientTLS:X509).
func (f *Federation) AdminEPR() *wsf.EPR { return f.DSEPR(nil, wsf.ClientTLSX509) }

// WSPClient is the WSP's own client, invoking as itself.
func (f *Federation) WSPClient(t testing.TB, w *WSP) *client.Client {
	return f.Client(t, w.EntityID, w.Identity, wsf.ClientTLSX509)
}

// RegisterAll registers every sample SvcMD through SvcMDRegister, each
// WSP as itself.
func (f *Federation) RegisterAll(t testing.TB) {
	t.Helper()
	for _, w := range f.WSPs {
		res, err := f.Call(t, f.WSPClient(t, w), f.AdminEPR(), &disco.SvcMDRegister{SvcMDs: []*disco.SvcMD{w.SvcMD()}}, "SvcMDRegister", wsf.Header{})
		if err != nil {
			t.Fatalf("%s registers: %v", w.EntityID, err)
		}
		r, err := disco.DecodeSvcMDRegisterResponse(res.Payload)
		if err != nil || r.Status.Code != disco.OK || len(r.SvcMDIDs) != 1 {
			t.Fatalf("%s registers: %+v, %v", w.EntityID, r, err)
		}
		w.SvcMDID = r.SvcMDIDs[0]
	}
}

// Link enrols the principal at every sample institution under its local
// identifier, as a ManageNameID NewID at the IdP does, and associates
// every sample service (the citizen's consent) unless noAssociations.
func (f *Federation) Link(t testing.TB, principal string, noAssociations bool) {
	t.Helper()
	ctx := context.Background()
	for _, w := range f.WSPs {
		if !w.NoKey {
			if _, err := f.DS.LinkByHand(ctx, "dskit", principal, w.EntityID, w.LocalID); err != nil {
				t.Fatal(err)
			}
		} else if _, err := store.Pairwise(ctx, f.Store, principal, w.EntityID, true, f.Clock.Now(), nil); err != nil {
			t.Fatal(err)
		}
		if noAssociations {
			continue
		}
		err := f.Store.Associate(ctx, store.Association{PrincipalID: principal, SvcMDID: w.SvcMDID, Created: f.Clock.Now()})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// Decrypter is the WSP's key, for reading its tokens as it would.
func (w *WSP) Decrypter() *xmlenc.Decrypter {
	return &xmlenc.Decrypter{Key: w.Identity.Key.(*rsa.PrivateKey), EntityID: w.EntityID}
}

// NewClock returns a clock reading t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }
