package fedfiles

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/renkei-idwsf/renkei/internal/dsserver"
	"github.com/renkei-idwsf/renkei/internal/idpserver"
	"github.com/renkei-idwsf/renkei/internal/portalserver"
	"github.com/renkei-idwsf/renkei/internal/rolekit"
	"github.com/renkei-idwsf/renkei/internal/terminalserver"
	"github.com/renkei-idwsf/renkei/internal/wspserver"
	"github.com/renkei-idwsf/renkei/ra"
	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/wsf/audit"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
)

// The aggregate's validity and cache duration.
const (
	aggregateValid = 7 * 24 * time.Hour
	aggregateCache = time.Hour
)

// sources are the metadata every role loads: the operator's aggregate.
func (w *writer) sources() []rolekit.MetadataSource {
	return []rolekit.MetadataSource{{Location: w.f.Aggregate, OperatorCert: w.f.OperatorCert}}
}

// metadata signs the aggregate of the portal, the institutions and the
// DS, builds the IdP from its configuration over it to learn the IdP's
// own metadata (as renkei-idp -print-metadata does), and signs the
// aggregate again with the IdP in it.
func (w *writer) metadata(ctx context.Context) error {
	f := w.f
	f.Aggregate, f.Relay = w.path("aggregate.xml"), "sqlite:"+w.path("relay.db")
	if w.nodes != nil {
		f.Relay = w.nodes.Relay
	}
	g := &md.EntitiesDescriptor{Name: "renkei-demo-federation"}
	portal := PortalEntity(f.PortalEntityID, f.Portal, w.keys["portal-signing"].cert, w.keys["portal-encryption"].cert)
	// The organization names the portal where a page lists accessors
	// (the access log), as the institutions' do.
	urls := []md.Localized{{Lang: "ja", Value: f.Portal + "/"}, {Lang: "en", Value: f.Portal + "/"}}
	portal.Organization = &md.Organization{Names: PortalNames, DisplayNames: PortalNames, URLs: urls}
	g.Entities = append(g.Entities, DSEntityDescriptor(DSEntity, f.DS+dsserver.PathSOAP, w.keys["ds"].cert), portal)
	for _, k := range Institutions {
		desk := ""
		if k == DeskInstitution && f.Terminal != "" {
			desk = f.Terminal + terminalserver.PathECP
		}
		in := f.Manifest.Institution(k)
		if in == nil {
			return fmt.Errorf("the sample has no institution %q", k)
		}
		g.Entities = append(g.Entities, InstitutionEntity(in, Entities[k], f.WSPs[k], desk, w.keys["wsp-"+k].cert))
	}
	if err := w.sign(g); err != nil {
		return err
	}
	idp, err := w.idpEntity(ctx)
	if err != nil {
		return err
	}
	g.Entities = append([]*md.EntityDescriptor{idp}, g.Entities...)
	return w.sign(g)
}

// sign signs g as the operator and writes it as the aggregate.
func (w *writer) sign(g *md.EntitiesDescriptor) error {
	id, err := saml.NewID(nil)
	if err != nil {
		return err
	}
	g.ID, g.ValidUntil, g.CacheDuration = id, w.now.Add(aggregateValid), aggregateCache
	el, err := md.Sign(g, &dsig.Signer{Key: w.opKey, Certificates: []*x509.Certificate{w.opCert}})
	if err != nil {
		return err
	}
	b, err := xmlsec.Serialize(el)
	if err != nil {
		return err
	}
	_, err = writeFile(w.f.Aggregate, b)
	return err
}

// idpEntity builds the IdP from its file over a private in-memory store
// and returns its EntityDescriptor, verified with its signing key.
func (w *writer) idpEntity(ctx context.Context) (*md.EntityDescriptor, error) {
	c := w.idpFile(w.nodeSuffixes("idp")[0])
	s, err := idpserver.Build(ctx, c, idpserver.Options{Store: "sqlite::memory:", Log: quiet})
	if err != nil {
		return nil, fmt.Errorf("the IdP refuses its configuration: %w", err)
	}
	b, err := s.SignedMetadata(w.now)
	if err = errors.Join(err, s.Shutdown()); err != nil {
		return nil, err
	}
	el, err := xmlsec.ParseElement(b, xmlsec.Limits{})
	if err != nil {
		return nil, err
	}
	d, _, err := md.Verify(el, &dsig.Verifier{Trust: xmlsec.NewTrustSet([]*x509.Certificate{w.keys["idp-signing"].cert})})
	if err != nil {
		return nil, err
	}
	if d.Entity == nil {
		return nil, errors.New("the IdP's metadata is no EntityDescriptor")
	}
	// In the aggregate the operator's signature and validity govern the
	// entity (the IdP's own metadata lives a day).
	d.Entity.ID, d.Entity.ValidUntil, d.Entity.CacheDuration = "", time.Time{}, 0
	return d.Entity, nil
}

// DeskInstitution is the institution whose reception terminal runs.
const DeskInstitution = "hospital-a"

// kp is the key pair name as files.
func (w *writer) kp(name string) rolekit.KeyPair {
	return rolekit.KeyPair{Cert: w.keys[name].Cert, Key: w.keys[name].Key}
}

// idpFile is renkei-idp's configuration: both listeners, the RA's card
// CA and CRL, the service CA for soft certificates, the relay database;
// n is the node's suffix (see nodeSuffixes).
func (w *writer) idpFile(n string) *idpserver.File {
	f := w.f
	c := &idpserver.File{EntityID: IdPEntity, BaseURL: f.IdP, CardBaseURL: f.IdPCard, Listen: w.addr["idp"+n],
		CardListen: w.addr["idp-card"+n], TLS: idpserver.KeyPair(w.kp("idp-tls")), CardTLS: idpserver.KeyPair(w.kp("idp-tls")),
		Signing: idpserver.KeyPair(w.kp("idp-signing")), Encryption: idpserver.KeyPair(w.kp("idp-encryption")),
		CardCA: w.path("ra", ra.CardCACert), CardCRL: w.path("ra", ra.CardCRL), SoftCA: f.RootsFile,
		TrustedRoots: f.RootsFile, Metadata: w.sources(), Store: f.Relay,
		Discovery: &idpserver.DiscoveryRef{EntityID: DSEntity}, Admin: w.addr["admin-idp"+n]}
	c.Defaults()
	return c
}

// configs writes every role's configuration file and lists the roles.
func (w *writer) configs(context.Context) error {
	f := w.f
	type role struct {
		Role
		file rolekit.File
	}
	var roles []role
	if err := os.MkdirAll(w.path("wsp"), 0o700); err != nil {
		return err
	}
	add := func(name, cmd string, file rolekit.File, ready string, args ...string) {
		r := role{Role: Role{Name: name, Command: cmd, Ready: ready, Args: args}, file: file}
		if a := w.addr["admin-"+strings.ReplaceAll(name, " ", "-")]; a != "" {
			r.Admin = "http://" + a
		}
		if file != nil {
			r.Config = w.path("config", strings.ReplaceAll(name, " ", "-")+".json")
			r.Args = append([]string{"-config", r.Config}, args...)
		}
		roles = append(roles, r)
	}
	add("pension back office", "renkei-wsp", nil, f.PensionOffice+"/", "pension-office",
		"-data", w.path("samples", "pension-data.json"), "-listen", w.addr["pension-office"])
	for _, n := range w.nodeSuffixes("idp") {
		add("idp"+nodeName(n), "renkei-idp", w.idpFile(n), w.nodeURL("idp", n, f.IdP)+"/metadata")
		w.node(&roles[len(roles)-1].Role, "idp", "idp", n)
	}
	for _, n := range w.nodeSuffixes("ds") {
		add("ds"+nodeName(n), "renkei-ds", w.dsFile(n), w.nodeURL("ds", n, f.DS)+dsserver.PathSOAP)
		w.node(&roles[len(roles)-1].Role, "ds", "ds", n)
	}
	for _, k := range Institutions {
		ns := w.nodeSuffixes("wsp-" + k)
		for _, n := range ns {
			add("wsp "+k+nodeName(n), "renkei-wsp", w.wspFile(k, n), w.nodeURL("wsp-"+k, n, f.WSPs[k])+wspserver.PathSOAP)
			r := &roles[len(roles)-1]
			r.EntityID, r.Services = Entities[k], append(append([]string{}, f.Manifest.Institution(k).Services...), audit.NS)
			w.node(&r.Role, "wsp", "wsp-"+k, n)
		}
		if len(ns) > 1 {
			// Nodes registering at once at their start could both register
			// a service: renkei-wsp register does it once before they start.
			first := roles[len(roles)-len(ns)].Config
			add("wsp "+k+" register", "renkei-wsp", nil, "", "-config", first, "register")
			roles[len(roles)-1].Job = true
		}
	}
	add("portal", "renkei-portal", w.portalFile(), f.Portal+"/metadata")
	if f.Reader != "" {
		add("terminal", "renkei-terminal", w.terminalFile(), f.Terminal+"/")
	}
	for _, r := range roles {
		if r.file != nil {
			r.file.Defaults()
			if err := r.file.Validate(); err != nil {
				return fmt.Errorf("%s: %w", r.Name, err)
			}
			b, err := json.MarshalIndent(r.file, "", "  ")
			if err != nil {
				return err
			}
			if _, err := writeFile(r.Config, b); err != nil {
				return err
			}
		}
		f.Roles = append(f.Roles, r.Role)
	}
	return nil
}

// dsFile is renkei-ds's configuration, over the relay database; n is the
// node's suffix.
func (w *writer) dsFile(n string) *dsserver.File {
	var terminals []string
	if w.f.Reader != "" {
		terminals = []string{Entities[DeskInstitution]}
	}
	return &dsserver.File{EntityID: DSEntity, BaseURL: w.f.DS, Listen: w.addr["ds"+n], TLS: w.kp("ds"), Signing: w.kp("ds"),
		Encryption: w.kp("ds"), IdP: IdPEntity, Metadata: w.sources(), Store: w.f.Relay,
		Policy: DSPolicy(w.f.PortalEntityID, terminals), Admin: w.addr["admin-ds"+n]}
}

// wspFile is the configuration of institution k's renkei-wsp; n is the
// node's suffix. The nodes of a several-node WSP share a store and a
// back office in PostgreSQL and give the balancer's SOAP endpoint.
func (w *writer) wspFile(k, n string) *wspserver.File {
	f := w.f
	c := WSPFile(f.Manifest.Institution(k), Entities[k], w.path("samples"), w.kp("wsp-"+k), w.sources(),
		"sqlite:"+w.path("wsp", k+".db"), DSEntity, f.PortalEntityID)
	c.BaseURL, c.Listen, c.IdP, c.TrustedRoots = f.WSPs[k], w.addr["wsp-"+k+n], IdPEntity, f.RootsFile
	c.Admin = w.addr["admin-wsp-"+k+n]
	if n != "" {
		c.Store, c.Backend.DSN, c.Endpoints = w.nodes.WSPStore, w.nodes.BackOffice, []string{f.WSPs[k] + wspserver.PathSOAP}
	}
	if k == "pension" {
		c.Backend.Base = f.PensionOffice
	}
	return c
}

// portalFile is renkei-portal's configuration; it takes card logins and
// the soft certificate's.
func (w *writer) portalFile() *portalserver.File {
	f := w.f
	names := map[string]string{}
	for _, n := range PortalNames {
		names[n.Lang] = n.Value
	}
	return &portalserver.File{EntityID: f.PortalEntityID, BaseURL: f.Portal, Listen: w.addr["portal"], TLS: w.kp("portal-tls"),
		Signing: w.kp("portal-signing"), Encryption: w.kp("portal-encryption"), TrustedRoots: f.RootsFile,
		Metadata: w.sources(), Store: "sqlite:" + w.path("portal.db"), IdP: IdPEntity, DS: DSEntity, Names: names,
		AuthnContexts: []string{saml.ACSmartcardPKI, saml.ACX509}, Admin: w.addr["admin-portal"]}
}

// terminalFile is hospital A's renkei-terminal configuration.
func (w *writer) terminalFile() *terminalserver.File {
	f := w.f
	k := "wsp-" + DeskInstitution
	return &terminalserver.File{EntityID: Entities[DeskInstitution], BaseURL: f.Terminal, Listen: w.addr["terminal"],
		TLS: w.kp("terminal-tls"), Signing: w.kp(k), Encryption: w.kp(k), TrustedRoots: f.RootsFile, Metadata: w.sources(),
		Store: "sqlite:" + w.path("terminal.db"), IdP: IdPEntity, DS: DSEntity, Reader: f.Reader, Timeout: "10s",
		Admin: w.addr["admin-terminal"]}
}

// link links the citizen at every institution that knows them under
// their local identifier, as the DS's operator command (renkei-ds link)
// does: the DS built from its file, over the relay database.
func (w *writer) link(ctx context.Context) error {
	c := w.dsFile(w.nodeSuffixes("ds")[0])
	c.Defaults()
	s, err := dsserver.Build(ctx, c, dsserver.Options{Log: quiet})
	if err != nil {
		return fmt.Errorf("the DS refuses its configuration: %w", err)
	}
	defer s.Shutdown()
	for _, k := range Institutions {
		local := w.f.Person.Local[k]
		if local == "" {
			continue
		}
		if _, err := s.DS.LinkByHand(ctx, "renkei demo", w.f.Principal, Entities[k], local); err != nil {
			return fmt.Errorf("link at %s: %w", k, err)
		}
	}
	return nil
}

// quiet is the log of the roles fedfiles builds only to read their
// metadata or their store: their events are not the demo's.
var quiet = slog.New(slog.DiscardHandler)
