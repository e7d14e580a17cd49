package fedfiles

import (
	"crypto/x509"

	"github.com/renkei-idwsf/renkei/internal/dsserver"
	"github.com/renkei-idwsf/renkei/internal/wspserver"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/wsc/portal"
	"github.com/renkei-idwsf/renkei/wsc/sp"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/audit"
	"github.com/renkei-idwsf/renkei/wsf/dst"
	"github.com/renkei-idwsf/renkei/wsf/metadir"
	"github.com/renkei-idwsf/renkei/wsp/sample"
	"github.com/renkei-idwsf/renkei/xmlsec/xmlenc"
)

// Entity IDs of the federation the demo runs.
const (
	IdPEntity = "https://idp.renkei.test/metadata"
	DSEntity  = "https://ds.renkei.test/metadata"
)

// Entities are the sample institutions' entityIDs, by sample institution
// key; the test kits name them the same.
var Entities = map[string]string{
	sample.HospitalA: "https://hospital-a.renkei.test/metadata",
	sample.HospitalB: "https://hospital-b.renkei.test/metadata",
	sample.Insurer:   "https://insurer.renkei.test/metadata",
	sample.Pension:   "https://pension.renkei.test/metadata",
}

// Institutions are the sample institutions' keys in the order the demo
// starts them.
var Institutions = []string{sample.HospitalA, sample.HospitalB, sample.Insurer, sample.Pension}

// PortalNames are My Portal's names in its metadata.
var PortalNames = []md.Localized{{Lang: "ja", Value: "マイポータル"}, {Lang: "en", Value: "My Portal"}}

// PortalEntity is the SP metadata of My Portal at base (its https
// origin) under entityID: its assertion consumer, its front-channel and
// SOAP logout, its signing and encryption certificates.
func PortalEntity(entityID, base string, signing, encryption *x509.Certificate) *md.EntityDescriptor {
	return sp.Descriptor(sp.Config{EntityID: entityID, ACSURL: base + portal.PathACS, SLOURL: base + portal.PathSLO,
		SOAPSLOURL: base + portal.PathSOAPSLO, Certificate: signing, EncryptionCertificate: encryption,
		Decrypter: &xmlenc.Decrypter{}, Names: PortalNames})
}

// InstitutionEntity is the institution in's entity at base: its WSP (the
// web service role: its services and access log at base+PathSOAP) and its
// SP role (wspserver.DeskRole: the reception desk's PAOS consumer at
// deskACS, "" for the default, and the WSP's SingleLogoutService), with
// cert as its signing and encryption key, and its names.
func InstitutionEntity(in *sample.Institution, entityID, base, deskACS string, cert *x509.Certificate) *md.EntityDescriptor {
	ws := (&metadir.WebService{ServiceTypes: append(append([]string{}, in.Services...), audit.NS),
		Endpoints: []string{base + wspserver.PathSOAP},
		Keys: []md.KeyDescriptor{{Use: md.UseSigning, Certificates: []*x509.Certificate{cert}},
			{Use: md.UseEncryption, Certificates: []*x509.Certificate{cert}, EncryptionMethods: []string{xmlenc.RSAOAEP}}}}).Role()
	if deskACS == "" {
		deskACS = wspserver.DefaultDeskACS(base)
	}
	names := []md.Localized{{Lang: "ja", Value: in.Name}, {Lang: "en", Value: in.NameEn}}
	urls := []md.Localized{{Lang: "ja", Value: entityID}, {Lang: "en", Value: entityID}}
	return &md.EntityDescriptor{EntityID: entityID, Roles: []*md.RoleDescriptor{ws},
		SPSSO:        []*md.SPSSODescriptor{wspserver.DeskRole(cert, cert, deskACS, base+wspserver.PathSLO)},
		Organization: &md.Organization{Names: names, DisplayNames: names, URLs: urls}}
}

// DSEntityDescriptor is the Discovery Service's entity: its ID-WSF web
// service role (wsf/metadir) at soapURL, cert its signing and encryption
// key.
func DSEntityDescriptor(entityID, soapURL string, cert *x509.Certificate) *md.EntityDescriptor {
	certs := []*x509.Certificate{cert}
	r := (&metadir.WebService{ServiceTypes: []string{wsf.ServiceTypeDisco}, Endpoints: []string{soapURL},
		Keys: []md.KeyDescriptor{{Use: md.UseSigning, Certificates: certs},
			{Use: md.UseEncryption, Certificates: certs, EncryptionMethods: []string{xmlenc.RSAOAEP}}}}).Role()
	return &md.EntityDescriptor{EntityID: entityID, Roles: []*md.RoleDescriptor{r}}
}

// DSPolicy is the Discovery Service's policy in the federation: portal
// collects the citizens' consent; the reception terminals may discover
// the eligibility for the reception, and clinical results and the
// eligibility for treatment, with the card present.
func DSPolicy(portal string, terminals []string) dsserver.Policy {
	return dsserver.Policy{Portals: []string{portal}, Reception: dsserver.Reception{Terminals: terminals,
		Purposes: map[string][]string{wsf.PurposeEligibility: {dst.Eligibility}, wsf.PurposeTreatment: {dst.Clinical, dst.Eligibility}}}}
}

// WSPFile is the configuration of the sample institution in's WSP under
// entityID, as an operator writes it: kp its keys (TLS, signing,
// encryption), the metadata sources, its store, the back office's mapping
// file in the sample directory sampleDir (SQL, or the pension service's
// REST office), the access log readable by the portal, registration at
// the DS. BaseURL and Listen are the caller's to set.
func WSPFile(in *sample.Institution, entityID, sampleDir string, kp wspserver.KeyPair, sources []wspserver.MetadataSource,
	store, ds, portal string) *wspserver.File {
	kind := "sql"
	if in.Key == sample.Pension {
		kind = "http"
	}
	return &wspserver.File{EntityID: entityID, TLS: kp, Signing: kp, Encryption: kp, Metadata: sources, Store: store,
		Backend:      wspserver.Backend{Kind: kind, Mapping: joinPath(sampleDir, in.Mapping)},
		AuditReaders: []string{portal}, DS: ds, Abstract: in.NameEn}
}
