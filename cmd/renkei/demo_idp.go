package main

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"

	"github.com/renkei-idwsf/renkei/internal/idpserver"
	"github.com/renkei-idwsf/renkei/ra"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/store"
	"github.com/renkei-idwsf/renkei/store/sqlstore"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/metadir"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// The Discovery Service the bootstrap points to. It joins the demo as a
// server when it is built; until then its metadata is what the IdP needs.
const (
	demoDS        = "https://ds.renkei.test/metadata"
	demoDSAddress = "https://ds.renkei.test/disco"
)

// relay opens the relay database (a SQLite file, as the IdP and the DS
// share it) and registers the citizen and their card, as the RA's
// registration does. No federation yet: the IdP creates the pairwise
// NameID at the first login.
func (d *demo) relay(ctx context.Context) error {
	var err error
	if d.db, err = sqlstore.Open(ctx, d.relayDSN()); err != nil {
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

// relayDSN is the relay database the demo's roles share.
func (d *demo) relayDSN() string { return "sqlite://" + filepath.Join(d.dir, "relay.db") }

// dsEntity is the Discovery Service's metadata: its ID-WSF web service
// role (wsf/metadir) offering urn:liberty:disco:2006-08 at its SOAP
// endpoint, with its signing key and the encryption key the IdP encrypts
// the bootstrap's token for (ARCHITECTURE "Tokens from the DS"). The IdP
// finds both here, not in its own configuration.
func (d *demo) dsEntity() *md.EntityDescriptor {
	certs := []*x509.Certificate{d.dsCert}
	r := (&metadir.WebService{ServiceTypes: []string{wsf.ServiceTypeDisco}, Endpoints: []string{demoDSAddress},
		Keys: []md.KeyDescriptor{{Use: md.UseSigning, Certificates: certs}, {Use: md.UseEncryption, Certificates: certs}}}).Role()
	return &md.EntityDescriptor{EntityID: demoDS, Roles: []*md.RoleDescriptor{r}}
}

// metadata writes the portal's and the DS's metadata where the operator
// places them and returns them as the IdP's configuration names them.
func (d *demo) metadata() ([]idpserver.MetadataSource, error) {
	dir := filepath.Join(d.dir, "metadata")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	var srcs []idpserver.MetadataSource
	for _, f := range []struct {
		name string
		e    *md.EntityDescriptor
	}{{"portal.xml", d.portal.entity()}, {"ds.xml", d.dsEntity()}} {
		b, err := xmlsec.Serialize(f.e.Element())
		if err != nil {
			return nil, err
		}
		p := filepath.Join(dir, f.name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			return nil, err
		}
		srcs = append(srcs, idpserver.MetadataSource{Location: p, Unsigned: true})
	}
	return srcs, nil
}

// idpConfig writes the IdP's configuration file as an operator would for
// renkei-idp: the RA's files for the keys, the card-issuer CA and its CRL,
// the metadata, the relay database, the listeners' addresses, and the
// Discovery Service by its entityID alone.
func (d *demo) idpConfig(mainAddr, cardAddr string) (string, error) {
	srcs, err := d.metadata()
	if err != nil {
		return "", err
	}
	raDir := filepath.Join(d.dir, "ra")
	server := idpserver.KeyPair{Cert: filepath.Join(raDir, "idp.crt"), Key: filepath.Join(raDir, "idp.key")}
	f := idpserver.File{EntityID: demoIdP, BaseURL: "https://" + mainAddr, CardBaseURL: "https://" + cardAddr,
		Listen: mainAddr, CardListen: cardAddr, TLS: server, CardTLS: server, Signing: server,
		CardCA: filepath.Join(raDir, ra.CardCACert), CardCRL: filepath.Join(raDir, ra.CardCRL),
		Metadata: srcs, Store: d.relayDSN(), WantAuthnRequestsSigned: true,
		Discovery: &idpserver.DiscoveryRef{EntityID: demoDS}}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return "", err
	}
	path := filepath.Join(d.dir, "idp.json")
	return path, os.WriteFile(path, b, 0o600)
}

// idpLog keeps the private causes of the IdP's refusals, for a failing
// step's message; the IdP's other log lines are dropped.
type idpLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *idpLog) refused(r *http.Request, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf("%s %s: %v", r.Method, r.URL.Path, err))
}

func (l *idpLog) last() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.lines) == 0 {
		return "nothing logged"
	}
	return l.lines[len(l.lines)-1]
}

// startIdP serves the IdP renkei-idp serves, assembled by the same
// package (internal/idpserver) from the same configuration file, on two
// free ports of 127.0.0.1: the main listener (metadata, SSO, Single
// Logout, ManageNameID) and the card-login one, which requests a client
// certificate (ARCHITECTURE "Card login").
func (d *demo) startIdP(ctx context.Context) error {
	mainLn, cardLn, err := listenPair()
	if err != nil {
		return err
	}
	path, err := d.idpConfig(mainLn.Addr().String(), cardLn.Addr().String())
	if err == nil {
		d.idp, err = buildIdP(ctx, path, idpserver.Options{MainListener: mainLn, CardListener: cardLn,
			Refused: d.idpLog.refused, Log: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	}
	if err != nil {
		mainLn.Close()
		cardLn.Close()
		return err
	}
	if err := d.idp.Start(ctx); err != nil {
		return err
	}
	d.idpURL, d.cardURL = d.idp.File.BaseURL, d.idp.File.CardBaseURL
	fmt.Fprintf(d.out, "   configuration %s, as renkei-idp -config reads it\n", path)
	fmt.Fprintf(d.out, "   main listener %s (SSO, SLO, ManageNameID), card-login listener %s\n", d.idpURL, d.cardURL)
	fmt.Fprintf(d.out, "   metadata loaded: %s (asks for %s), %s\n", d.portal.ID, md.DiscoveryEPRAttribute, demoDS)
	return nil
}

// buildIdP reads the configuration file as renkei-idp does and builds
// the IdP.
func buildIdP(ctx context.Context, path string, opts idpserver.Options) (*idpserver.Server, error) {
	f, err := idpserver.Read(path)
	if err != nil {
		return nil, err
	}
	return idpserver.Build(ctx, f, opts)
}

// listenPair opens the IdP's two listeners on free loopback ports.
func listenPair() (mainLn, cardLn net.Listener, err error) {
	if mainLn, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		return nil, nil, err
	}
	if cardLn, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		mainLn.Close()
		return nil, nil, err
	}
	return mainLn, cardLn, nil
}
