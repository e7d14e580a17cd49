// Package portalkit runs My Portal (internal/portalserver, its SP engine
// wsc/sp) alone, trusting an IdP that is not Renkei's: the conformance
// suite's, which plays the IdP against it. Its metadata lists the portal,
// that IdP and a Discovery Service nothing serves (the portal refuses to
// start without one; a login needs only its bootstrap EPR), or, with
// StartWith, the Discovery Service and WSPs the suite plays itself.
// Nothing here is for production use.
package portalkit

import (
	"context"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/renkei-idwsf/renkei/internal/portalserver"
	"github.com/renkei-idwsf/renkei/internal/testkit/logkit"
	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/wsc/portal"
	"github.com/renkei-idwsf/renkei/wsc/sp"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/metadir"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/xmlenc"
)

// DSEntityID is the Discovery Service the metadata lists.
const DSEntityID = "https://ds.portalkit.invalid/metadata"

// Portal is the running portal.
type Portal struct {
	Server *portalserver.Server
	// BaseURL is its https origin on a loopback listener; EntityID its
	// SP entityID; Metadata its SP metadata document.
	BaseURL, EntityID string
	Metadata          []byte
	// DSAddress is the SOAP endpoint the metadata lists for the DS.
	DSAddress string
	// RootCAs trust the portal's TLS certificate.
	RootCAs *x509.CertPool
}

// LoginURL is where a browser begins a login.
func (p *Portal) LoginURL() string { return p.BaseURL + portal.PathLogin }

// Start starts the portal with idpMetadata (one EntityDescriptor of an
// IdP whose entityID is idp) in its metadata.
func Start(t testing.TB, idp string, idpMetadata []byte) *Portal {
	t.Helper()
	return StartWith(t, Options{IdP: idp, IdPMetadata: idpMetadata})
}

// Options say whom the portal trusts besides itself.
type Options struct {
	// IdP is the entityID of the IdP IdPMetadata describes.
	IdP         string
	IdPMetadata []byte
	// DS is the Discovery Service the portal uses; "" means DSEntityID,
	// which the metadata then lists at an address nothing serves.
	DS string
	// Peers, when set, is one more metadata document (an
	// EntitiesDescriptor or EntityDescriptor): the DS and the WSPs.
	Peers []byte
}

// StartWith starts the portal trusting what o lists.
func StartWith(t testing.TB, o Options) *Portal {
	t.Helper()
	idp, idpMetadata := o.IdP, o.IdPMetadata
	ctx := context.Background()
	dir := t.TempDir()
	ca := pki.MustGet().CA
	p := &Portal{RootCAs: x509.NewCertPool(), DSAddress: "https://127.0.0.1:9/soap"}
	p.RootCAs.AddCert(ca.Cert)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.BaseURL = "https://" + ln.Addr().String()
	p.EntityID = p.BaseURL + portal.PathMetadata
	sign := issue(t, func() (*pki.Identity, error) { return ca.IssueHost("portal-signing", pki.RSA2048, "localhost") })
	enc := issue(t, func() (*pki.Identity, error) { return ca.Issue("portal-encryption", pki.RSA2048) })
	tlsID := issue(t, func() (*pki.Identity, error) { return ca.IssueHost("portal-tls", pki.P256, "localhost") })
	ds := issue(t, func() (*pki.Identity, error) { return ca.Issue("portalkit-ds", pki.RSA2048) })
	spMD := sp.Descriptor(sp.Config{EntityID: p.EntityID, ACSURL: p.BaseURL + portal.PathACS, SLOURL: p.BaseURL + portal.PathSLO,
		SOAPSLOURL:  p.BaseURL + portal.PathSOAPSLO,
		Certificate: sign.Cert, EncryptionCertificate: enc.Cert, Decrypter: &xmlenc.Decrypter{}})
	if p.Metadata, err = xmlsec.Serialize(spMD.Element()); err != nil {
		t.Fatal(err)
	}
	dsRole := (&metadir.WebService{ServiceTypes: []string{wsf.ServiceTypeDisco}, Endpoints: []string{p.DSAddress},
		Keys: []md.KeyDescriptor{{Use: md.UseSigning, Certificates: []*x509.Certificate{ds.Cert}}}}).Role()
	fed := &md.EntitiesDescriptor{Name: "portalkit", Entities: []*md.EntityDescriptor{spMD}}
	dsID := o.DS
	if dsID == "" {
		dsID = DSEntityID
		fed.Entities = append(fed.Entities, &md.EntityDescriptor{EntityID: DSEntityID, Roles: []*md.RoleDescriptor{dsRole}})
	}
	fedXML, err := xmlsec.Serialize(fed.Element())
	if err != nil {
		t.Fatal(err)
	}
	f := &portalserver.File{EntityID: p.EntityID, BaseURL: p.BaseURL, TLS: pair(t, dir, "tls", tlsID),
		Signing: pair(t, dir, "signing", sign), Encryption: pair(t, dir, "encryption", enc),
		Metadata: []portalserver.MetadataSource{
			{Location: write(t, filepath.Join(dir, "idp.xml"), idpMetadata), Unsigned: true},
			{Location: write(t, filepath.Join(dir, "federation.xml"), fedXML), Unsigned: true}},
		Store: "sqlite:" + filepath.Join(dir, "portal.db"), IdP: idp, DS: dsID}
	if o.Peers != nil {
		f.Metadata = append(f.Metadata, portalserver.MetadataSource{Location: write(t, filepath.Join(dir, "peers.xml"), o.Peers), Unsigned: true})
	}
	f.Defaults()
	if err := f.Validate(); err != nil {
		t.Fatal(err)
	}
	if p.Server, err = portalserver.Build(ctx, f, portalserver.Options{Listener: ln, RootCAs: p.RootCAs, Log: logkit.New(t, "portal")}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Server.Shutdown() })
	if err := p.Server.Start(ctx); err != nil {
		t.Fatal(err)
	}
	return p
}

func issue(t testing.TB, f func() (*pki.Identity, error)) *pki.Identity {
	t.Helper()
	id, err := f()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func write(t testing.TB, path string, b []byte) string {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func pair(t testing.TB, dir, name string, id *pki.Identity) portalserver.KeyPair {
	t.Helper()
	return portalserver.KeyPair{Cert: write(t, filepath.Join(dir, name+".crt"), id.CertPEM()),
		Key: write(t, filepath.Join(dir, name+".key"), id.KeyPEM())}
}
