package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/gorilla/mux"

	"github.com/renkei-idwsf/renkei/card/trust"
	"github.com/renkei-idwsf/renkei/idp"
	"github.com/renkei-idwsf/renkei/internal/httpx"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/store"
	"github.com/renkei-idwsf/renkei/store/sqlstore"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/xsd"
)

// The Discovery Service the bootstrap points to. It joins the demo as a
// server when it is built; until then its metadata is what the IdP needs.
const (
	demoDS        = "https://ds.renkei.test/metadata"
	demoDSAddress = "https://ds.renkei.test/disco"
	discoNS       = "urn:liberty:disco:2006-08"
)

// relay opens the relay database (a SQLite file, as the IdP and the DS
// share it) and registers the citizen and their card, as the RA's
// registration does. No federation yet: the IdP creates the pairwise
// NameID at the first login.
func (d *demo) relay(ctx context.Context) error {
	var err error
	if d.db, err = sqlstore.Open(ctx, "sqlite://"+filepath.Join(d.dir, "relay.db")); err != nil {
		return err
	}
	p := store.Principal{ID: "principal-" + randomID(), Created: d.now}
	if err := d.db.CreatePrincipal(ctx, p); err != nil {
		return err
	}
	c := store.Card{Number: demoCard, PrincipalID: p.ID, CertIssuer: d.card.Issuer.String(),
		CertSerial: d.card.SerialNumber.String(), Status: store.CardIssued, Issued: d.now}
	if err := d.db.IssueCard(ctx, c); err != nil {
		return err
	}
	d.principal = p.ID
	fmt.Fprintf(d.out, "   %s holds card %s (serial %s)\n", p.ID, demoCard, c.CertSerial)
	return nil
}

// dsEntity is the Discovery Service's metadata: its encryption key, for
// the token the IdP mints into the bootstrap (ARCHITECTURE "Tokens from
// the DS").
func (d *demo) dsEntity() *md.EntityDescriptor {
	r := &md.RoleDescriptor{Role: md.Role{ProtocolSupport: []string{discoNS},
		Keys: []md.KeyDescriptor{{Use: md.UseEncryption, Certificates: []*x509.Certificate{d.dsCert}}}},
		TypeNS: discoNS, TypeLocal: "DiscoveryServiceType"}
	return &md.EntityDescriptor{EntityID: demoDS, Roles: []*md.RoleDescriptor{r}}
}

// metadata writes the portal's and the DS's metadata where the operator
// places them and loads them into the IdP's md.Set.
func (d *demo) metadata(ctx context.Context) (*md.Set, error) {
	dir := filepath.Join(d.dir, "metadata")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	var srcs []md.Source
	for name, e := range map[string]*md.EntityDescriptor{"portal.xml": d.portal.entity(), "ds.xml": d.dsEntity()} {
		b, err := xmlsec.Serialize(e.Element())
		if err != nil {
			return nil, err
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			return nil, err
		}
		srcs = append(srcs, md.Source{Location: p, Unsigned: true})
	}
	set, err := md.New(md.Config{Sources: srcs})
	if err != nil {
		return nil, err
	}
	return set, set.Refresh(ctx, time.Now())
}

// discovery reads the DS's encryption certificate from the metadata.
func discovery(set *md.Set, now time.Time) (*idp.Discovery, error) {
	e, err := set.Entity(demoDS, now)
	if err != nil {
		return nil, err
	}
	r, err := e.OtherRole(discoNS, "DiscoveryServiceType")
	if err != nil {
		return nil, err
	}
	rcpt, err := r.EncryptionRecipient(demoDS)
	if err != nil {
		return nil, err
	}
	return &idp.Discovery{EntityID: demoDS, Address: demoDSAddress, EncryptionCert: rcpt.Cert}, nil
}

// refusals keeps the private causes the IdP logs, for a failing step's
// message.
type refusals struct {
	mu    sync.Mutex
	lines []string
}

func (l *refusals) add(r *http.Request, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf("%s %s: %v", r.Method, r.URL.Path, err))
}

func (l *refusals) last() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.lines) == 0 {
		return "nothing logged"
	}
	return l.lines[len(l.lines)-1]
}

// idpCore is the IdP engine over the relay database, trusting the
// card-issuer CA with its current CRL, and pointing the bootstrap to the
// DS of the metadata.
func (d *demo) idpCore(set *md.Set) (*idp.IdP, error) {
	ds, err := discovery(set, time.Now())
	if err != nil {
		return nil, err
	}
	crl, err := d.ra.WriteCRL()
	if err != nil {
		return nil, err
	}
	roots := x509.NewCertPool()
	roots.AddCert(d.ra.CardCA())
	return idp.New(idp.Config{EntityID: demoIdP, SigningKey: d.idpKey, SigningCerts: []*x509.Certificate{d.idpCert},
		Cards: d.db, Federations: d.db, Sessions: d.db, Discovery: ds,
		CardTrust: &trust.Verifier{Roots: roots, CRLs: []*x509.RevocationList{crl}}})
}

// startIdP assembles the IdP as cmd/renkei-idp does and serves it on two
// listeners on 127.0.0.1: the main one (metadata, SSO) and the card-login
// one, which requests a client certificate (ARCHITECTURE "Card login").
func (d *demo) startIdP(ctx context.Context) error {
	set, err := d.metadata(ctx)
	if err != nil {
		return err
	}
	core, err := d.idpCore(set)
	if err != nil {
		return err
	}
	schema, err := xsd.Default()
	if err != nil {
		return err
	}
	server := tls.Certificate{Certificate: [][]byte{d.idpCert.Raw}, PrivateKey: d.idpKey}
	mainR, cardR := mux.NewRouter(), mux.NewRouter()
	d.idp = &httpx.Group{ShutdownTimeout: 5 * time.Second}
	if err := d.idp.Start(
		httpx.Server{Name: "main", Addr: "127.0.0.1:0", Handler: httpx.Secure(mainR),
			TLS: &tls.Config{Certificates: []tls.Certificate{server}, MinVersion: tls.VersionTLS12}},
		httpx.Server{Name: "card", Addr: "127.0.0.1:0", Handler: httpx.Secure(cardR),
			TLS: idp.CardLoginTLSConfig(server, d.ra.CardCA())}); err != nil {
		return err
	}
	d.idpURL, d.cardURL = "https://"+d.idp.Addr("main").String(), "https://"+d.idp.Addr("card").String()
	sso, err := idp.NewSSO(core, idp.SSOConfig{Metadata: set, Replay: d.db, Pending: d.db, Schema: schema,
		SSOURL: d.idpURL + idp.PathSSO, ECPURL: d.cardURL + idp.PathECP, LoginURL: d.cardURL + idp.PathLogin,
		WantAuthnRequestsSigned: true})
	if err != nil {
		return err
	}
	h := &idp.HTTP{SSO: sso, Log: d.idpLog.add}
	h.MountMain(mainR)
	h.MountCard(cardR)
	fmt.Fprintf(d.out, "   main listener %s, card-login listener %s\n", d.idpURL, d.cardURL)
	fmt.Fprintf(d.out, "   metadata loaded: %s (asks for %s), %s\n", d.portal.ID, md.DiscoveryEPRAttribute, demoDS)
	return nil
}
