package dskit

import (
	"crypto/rsa"
	"crypto/x509"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/internal/wspserver"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/metadir"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/xmlenc"
)

func signingKey(c *x509.Certificate) md.KeyDescriptor {
	return md.KeyDescriptor{Use: md.UseSigning, Certificates: []*x509.Certificate{c}}
}

func encryptionKey(c *x509.Certificate) md.KeyDescriptor {
	return md.KeyDescriptor{Use: md.UseEncryption, Certificates: []*x509.Certificate{c}, EncryptionMethods: []string{xmlenc.RSAOAEP}}
}

// DSEncryption is the DS's encryption identity for key type kt: its own
// key when RSA, otherwise a second, RSA key (XML Encryption's key
// transport here is RSA-OAEP).
func DSEncryption(t testing.TB, kt pki.KeyType) *pki.Identity {
	k := KeysOf(t, kt)
	if _, ok := k.DS.Key.(*rsa.PrivateKey); ok {
		return k.DS
	}
	return wspIdentity(t, DSID+"#enc")
}

// Aggregate is the federation's metadata aggregate as the operator
// publishes it, with the DS's SOAP endpoint at dsURL: the IdP (SSO role),
// the DS and the sample WSPs (web service roles, wsf/metadir, and each
// institution's SP role for its reception desk and its SingleLogoutService,
// wspserver.DeskRole), the portal, the reception terminal and the other
// WSC (SP roles).
func Aggregate(t testing.TB, kt pki.KeyType, dsURL string) *md.EntitiesDescriptor {
	return AggregateWith(t, kt, dsURL, nil)
}

// WebService places an institution's WSP: the service types it serves,
// each at every one of its nodes' SOAP endpoints.
type WebService struct {
	ServiceTypes []string
	URLs         []string
	// Names, when set, are the institution's md:OrganizationName and
	// DisplayName in each language, which the portal shows.
	Names []md.Localized
	// DeskACS is the PAOS AssertionConsumerService of the institution's
	// reception desk (its SP role, wspserver.DeskRole); "" is
	// wspserver.DefaultDeskACS of the first node.
	DeskACS string
}

// deskRole is the SP role of an institution whose first SOAP endpoint is
// soapURL: the desk's PAOS ACS and the WSP's SingleLogoutService beside
// that endpoint.
func deskRole(id *pki.Identity, soapURL, deskACS string) *md.SPSSODescriptor {
	base := strings.TrimSuffix(soapURL, wspserver.PathSOAP)
	if u, err := url.Parse(soapURL); err == nil && !strings.HasSuffix(soapURL, wspserver.PathSOAP) {
		base = u.Scheme + "://" + u.Host // a sample's address names its service: the host's root
	}
	if deskACS == "" {
		deskACS = wspserver.DefaultDeskACS(base)
	}
	return wspserver.DeskRole(id.Cert, id.Cert, deskACS, base+wspserver.PathSLO)
}

// AggregateWith is Aggregate with the institutions in at listed as they
// run (their WSPs on loopback listeners) instead of the samples' names.
func AggregateWith(t testing.TB, kt pki.KeyType, dsURL string, at map[string]WebService) *md.EntitiesDescriptor {
	k := KeysOf(t, kt)
	idp := &md.IDPSSODescriptor{SSO: md.SSO{Role: md.Role{ProtocolSupport: []string{md.ProtocolSAML2},
		Keys: []md.KeyDescriptor{signingKey(k.IdP.Cert)}}},
		SingleSignOn: []md.Endpoint{{Binding: md.BindingHTTPRedirect, Location: "https://idp.renkei.test/sso"}}}
	ds := (&metadir.WebService{ServiceTypes: []string{wsf.ServiceTypeDisco}, Endpoints: []string{dsURL},
		Keys: []md.KeyDescriptor{signingKey(k.DS.Cert), encryptionKey(DSEncryption(t, kt).Cert)}}).Role()
	g := &md.EntitiesDescriptor{Name: "renkei-test-federation", Entities: []*md.EntityDescriptor{
		{EntityID: IdPID, IDPSSO: []*md.IDPSSODescriptor{idp}},
		{EntityID: DSID, Roles: []*md.RoleDescriptor{ds}},
	}}
	for _, w := range []struct {
		id   string
		cert *x509.Certificate
	}{{PortalID, k.Portal.Cert}, {TerminalID, k.Terminal.Cert}, {OtherWSCID, k.Other.Cert}} {
		sp := &md.SPSSODescriptor{SSO: md.SSO{Role: md.Role{ProtocolSupport: []string{md.ProtocolSAML2},
			Keys: []md.KeyDescriptor{signingKey(w.cert)}}},
			AssertionConsumer: []md.IndexedEndpoint{{Endpoint: md.Endpoint{Binding: md.BindingHTTPPOST, Location: w.id + "/acs"}}}}
		g.Entities = append(g.Entities, &md.EntityDescriptor{EntityID: w.id, SPSSO: []*md.SPSSODescriptor{sp}})
	}
	byEntity := map[string]*metadir.WebService{}
	var order []string
	for _, w := range Samples() {
		ws := byEntity[w.EntityID]
		if ws == nil {
			id := wspIdentity(t, w.EntityID)
			ws = &metadir.WebService{Keys: []md.KeyDescriptor{signingKey(id.Cert), encryptionKey(id.Cert)}}
			byEntity[w.EntityID] = ws
			order = append(order, w.EntityID)
		}
		ws.ServiceTypes = append(ws.ServiceTypes, w.ServiceType)
		ws.Endpoints = append(ws.Endpoints, w.Address)
	}
	names, desks := map[string][]md.Localized{}, map[string]string{}
	for e, w := range at {
		names[e], desks[e] = w.Names, w.DeskACS
		if byEntity[e] == nil {
			id := wspIdentity(t, e)
			byEntity[e] = &metadir.WebService{Keys: []md.KeyDescriptor{signingKey(id.Cert), encryptionKey(id.Cert)}}
			order = append(order, e)
		}
		ws := byEntity[e]
		ws.ServiceTypes, ws.Endpoints = w.ServiceTypes, w.URLs
	}
	for _, e := range order {
		ed := &md.EntityDescriptor{EntityID: e, Roles: []*md.RoleDescriptor{byEntity[e].Role()}}
		if eps := byEntity[e].Endpoints; len(eps) > 0 {
			ed.SPSSO = []*md.SPSSODescriptor{deskRole(wspIdentity(t, e), eps[0], desks[e])}
		}
		if n := names[e]; len(n) > 0 {
			ed.Organization = &md.Organization{Names: n, DisplayNames: n, URLs: urls(n, e)}
		}
		g.Entities = append(g.Entities, ed)
	}
	return g
}

// urls is the entityID as the organization's URL in each language of
// names (md:OrganizationURL is required beside the names).
func urls(names []md.Localized, entityID string) []md.Localized {
	out := make([]md.Localized, len(names))
	for i, n := range names {
		out[i] = md.Localized{Lang: n.Lang, Value: entityID}
	}
	return out
}

// WriteAggregate writes g into dir as aggregate.xml, an unsigned file the
// operator placed, and returns its path.
func WriteAggregate(t testing.TB, g *md.EntitiesDescriptor, dir string) string {
	t.Helper()
	b, err := xmlsec.Serialize(g.Element())
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "aggregate.xml")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// WSPIdentity is the RSA identity of a sample institution.
func WSPIdentity(t testing.TB, entityID string) *pki.Identity { return wspIdentity(t, entityID) }
