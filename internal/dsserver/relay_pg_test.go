package dsserver_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/idp"
	"github.com/renkei-idwsf/renkei/internal/browser"
	"github.com/renkei-idwsf/renkei/internal/dsserver"
	"github.com/renkei-idwsf/renkei/internal/testkit/dskit"
	"github.com/renkei-idwsf/renkei/internal/testkit/idpkit"
	"github.com/renkei-idwsf/renkei/internal/testkit/logkit"
	"github.com/renkei-idwsf/renkei/internal/testkit/pg"
	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/ra"
	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/binding"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/client"
	"github.com/renkei-idwsf/renkei/wsf/disco"
	"github.com/renkei-idwsf/renkei/wsf/metadir"
	"github.com/renkei-idwsf/renkei/wsf/secmech"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
	"github.com/renkei-idwsf/renkei/xmlsec/xmlenc"
	"github.com/renkei-idwsf/renkei/xmlsec/xsd"
)

// The institution of the relay scenario and what identifies the card
// holder: identifiers, which the relay database may hold.
const (
	hospitalID = "https://hospital-a.renkei.test/metadata"
	principal  = "p-7c1e52"
	cardNumber = "HIC-0042"
	patientNo  = "patient:A-000123" // hospital A's local identifier, the NewID
)

// What the scenario has in hand about the card holder that the relay
// database must never hold (ARCHITECTURE "The story" 3): the name and
// date of birth the card certificate carries, and clinical, insurance and
// pension values from hospital A's back office that its WSC sends to the
// DS beside its purpose (a second policy of sb:UsageDirective).
var (
	holder    = ra.Holder{Name: "山田 花子", BirthDate: time.Date(1961, 4, 12, 0, 0, 0, 0, time.UTC)}
	labValue  = "HbA1c 7.4% (2024-05-20)"
	insurance = "記号ほ-1234 番号56789"
	pension   = "年金額 1,872,300円"
)

// personal lists the values searched for in the dump: each whole value
// and the parts a store might keep apart.
func personal() []string {
	return []string{holder.Name, "山田", "花子", "1961-04-12", "19610412", labValue, "HbA1c", "7.4%",
		insurance, "記号ほ-1234", "番号56789", pension, "1,872,300"}
}

// relay is the federation of the scenario: the renkei-idp process and the
// DS in this process over one PostgreSQL database, and hospital A, an SP
// (SAML) and a WSC and WSP (ID-WSF) in one metadata entity.
type relay struct {
	t      *testing.T
	dsn    string
	k      *idpkit.IdP
	ds     *dsserver.Server
	schema *xsd.Schema
	// hospital A: sign signs, is its TLS client key and the holder-of-key
	// key of its tokens; enc decrypts its assertions and tokens.
	sign, enc *pki.Identity
	acsURL    string
	wspURL    string
	metadata  []byte // hospital A's entity
	posted    chan *binding.POSTMessage
	// The DS's listener, open before the IdP starts so that its address
	// is in the metadata both load.
	dsLn   net.Listener
	dsBase string
}

// TestRelayOverPostgreSQL: the IdP and the DS over one throwaway
// PostgreSQL database; a link enrolled at the IdP (ManageNameID NewID) is
// found by the next Query at the DS, which before the enrolment had no
// local identifier to give; afterwards no table of the relay database
// holds the holder's name, birth date, or any clinical, insurance or
// pension value the scenario handled.
func TestRelayOverPostgreSQL(t *testing.T) {
	r := newRelay(t)
	card := r.k.IssueCardFor(principal, cardNumber, pki.P256, holder)
	if !bytes.Contains(card.Cert.Raw, []byte(holder.Name)) || !bytes.Contains(card.Cert.Raw, []byte("19610412")) {
		t.Fatal("the card certificate does not carry the holder's name and birth date: the dump would prove nothing about them")
	}
	r.k.Start()
	r.startDS()

	nid, dsEPR := r.login(card)
	svcmd := r.register()
	r.associate(dsEPR, svcmd)

	before := r.query(dsEPR)
	if before.Subject.SPProvidedID != "" || before.Subject.Value != nid.Value {
		t.Fatalf("before the enrolment the token names %+v, want NameID %q and no SPProvidedID", before.Subject, nid.Value)
	}
	r.enrol(nid, patientNo)
	after := r.query(dsEPR)
	if after.Subject.SPProvidedID != patientNo || after.Subject.Value != nid.Value ||
		after.Subject.SPNameQualifier != hospitalID || after.Subject.NameQualifier != r.k.EntityID {
		t.Fatalf("after the enrolment the token names %+v, want NameID %q with SPProvidedID %q", after.Subject, nid.Value, patientNo)
	}

	dump, tables := dumpDatabase(t, r.dsn)
	for _, tc := range tables {
		t.Logf("%-29s %3d rows", tc.name, tc.rows)
	}
	for _, id := range []string{principal, cardNumber, nid.Value, patientNo, hospitalID, idpkit.DSEntityID, svcmd, wsf.PurposeTreatment} {
		if !dump.holds(id) {
			t.Errorf("the dump does not hold %q: it is not the relay database the scenario used", id)
		}
	}
	for _, v := range personal() {
		if where := dump.find(v); where != "" {
			t.Errorf("the relay database holds %q: %s", v, where)
		}
	}
}

func newRelay(t *testing.T) *relay {
	ca := pki.MustGet().CA
	r := &relay{t: t, dsn: pg.NewDatabase(t), posted: make(chan *binding.POSTMessage, 1)}
	var err error
	if r.schema, err = xsd.Default(); err != nil {
		t.Fatal(err)
	}
	for _, x := range []struct {
		id   **pki.Identity
		name string
	}{{&r.sign, "hospital-a-signing"}, {&r.enc, "hospital-a-encryption"}} {
		if *x.id, err = ca.Issue(x.name, pki.RSA2048); err != nil {
			t.Fatal(err)
		}
	}
	r.startACS()
	r.dsLn, r.dsBase = listen(t)
	t.Cleanup(func() { r.dsLn.Close() }) // when the test ends before Build takes it
	r.metadata = r.hospitalMetadata()
	r.k = idpkit.New(t, idpkit.Options{SPMetadata: [][]byte{r.metadata}, Discovery: true,
		DSAddress: r.dsBase + dsserver.PathSOAP, Store: r.dsn})
	return r
}

// startACS serves hospital A's assertion consumer service on loopback
// HTTPS; what the browser posts there goes to r.posted.
func (r *relay) startACS() {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		msg, err := (&binding.POSTDecoder{}).DecodeRequest(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		select {
		case r.posted <- msg:
		default:
		}
		io.WriteString(w, "received")
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{tlsCertOf(r.sign)}, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	r.t.Cleanup(srv.Close)
	base := "https://" + srv.Listener.Addr().String()
	r.acsURL, r.wspURL = base+"/acs", base+"/wsp/clinical"
}

func tlsCertOf(id *pki.Identity) tls.Certificate {
	return tls.Certificate{Certificate: [][]byte{id.Cert.Raw}, PrivateKey: id.Key, Leaf: id.Cert}
}

// hospitalMetadata is hospital A's one metadata entity, which the IdP and
// the DS both load: an SP role (signing and encryption key, the ACS, the
// request for the discovery bootstrap) and an ID-WSF web service role
// (the clinical service at its endpoint, the same keys).
func (r *relay) hospitalMetadata() []byte {
	yes := true
	keys := []md.KeyDescriptor{{Use: md.UseSigning, Certificates: []*x509.Certificate{r.sign.Cert}},
		{Use: md.UseEncryption, Certificates: []*x509.Certificate{r.enc.Cert}, EncryptionMethods: []string{xmlenc.RSAOAEP}}}
	sp := &md.SPSSODescriptor{SSO: md.SSO{Role: md.Role{ProtocolSupport: []string{md.ProtocolSAML2}, Keys: keys}},
		AuthnRequestsSigned: true, WantAssertionsSigned: true,
		AssertionConsumer: []md.IndexedEndpoint{{Endpoint: md.Endpoint{Binding: samlp.BindingHTTPPOST, Location: r.acsURL}, IsDefault: &yes}},
		AttributeConsuming: []md.AttributeConsumingService{{ServiceNames: []md.Localized{{Lang: "en", Value: "Hospital A"}},
			Requested: []md.RequestedAttribute{{Attribute: md.Attribute{Name: md.DiscoveryEPRAttribute, NameFormat: saml.AttrNameFormatURI}}}}}}
	ws := (&metadir.WebService{ServiceTypes: []string{dskit.Clinical}, Endpoints: []string{r.wspURL}, Keys: keys}).Role()
	b, err := xmlsec.Serialize((&md.EntityDescriptor{EntityID: hospitalID, SPSSO: []*md.SPSSODescriptor{sp},
		Roles: []*md.RoleDescriptor{ws}}).Element())
	if err != nil {
		r.t.Fatal(err)
	}
	return b
}

// startDS builds the DS over the IdP's database: its key is the one the
// IdP's ds.xml lists (signing, encryption and TLS), its metadata the
// IdP's as served, the kit's ds.xml and hospital A's entity: the
// documents the IdP loads.
func (r *relay) startDS() {
	t := r.t
	dir := t.TempDir()
	cert, key, err := r.k.DSEncryption.WriteFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	idpMD, hospMD := filepath.Join(dir, "idp.xml"), filepath.Join(dir, "hospital-a.xml")
	for path, b := range map[string][]byte{idpMD: r.k.Metadata, hospMD: r.metadata} {
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	kp := dsserver.KeyPair{Cert: cert, Key: key}
	f := &dsserver.File{EntityID: idpkit.DSEntityID, BaseURL: r.dsBase, TLS: kp, Signing: kp, Encryption: kp,
		IdP: r.k.EntityID, Store: r.dsn, CheckOutgoing: true}
	for _, p := range []string{idpMD, filepath.Join(r.k.Dir, "ds.xml"), hospMD} {
		f.Metadata = append(f.Metadata, dsserver.MetadataSource{Location: p, Unsigned: true})
	}
	f.Defaults()
	ctx := context.Background()
	s, err := dsserver.Build(ctx, f, dsserver.Options{Listener: r.dsLn, Log: logkit.New(t, "ds")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown() })
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	r.ds = s
}

// idpVerifier trusts the IdP's signing key, as hospital A's SP does.
func (r *relay) idpVerifier() *dsig.Verifier {
	return &dsig.Verifier{Trust: xmlsec.NewTrustSet([]*x509.Certificate{r.k.Signing.Cert})}
}

func (r *relay) decrypter() *xmlenc.Decrypter {
	return &xmlenc.Decrypter{Key: r.enc.Key.(crypto.Decrypter), EntityID: hospitalID}
}

// login is the card holder's browser SSO at hospital A: a signed
// AuthnRequest over HTTP-Redirect, the card's key as TLS client key at
// the IdP's card listener, the Response posted to the ACS. It returns the
// persistent NameID of the decrypted, verified assertion and the DS EPR
// of its discovery bootstrap.
func (r *relay) login(card *pki.Identity) (*saml.NameID, *wsf.EPR) {
	t := r.t
	id, err := saml.NewID(nil)
	if err != nil {
		t.Fatal(err)
	}
	req := &samlp.AuthnRequest{RequestHeader: samlp.RequestHeader{ID: id, IssueInstant: time.Now().UTC(),
		Destination: r.k.SSOURL, Issuer: &saml.Issuer{Value: hospitalID}},
		AssertionConsumerServiceURL: r.acsURL, ProtocolBinding: samlp.BindingHTTPPOST,
		NameIDPolicy: &samlp.NameIDPolicy{Format: saml.NameIDPersistent, AllowCreate: true}}
	u, err := binding.RedirectURL(r.k.SSOURL, req.Element(), "", &binding.RedirectSigner{Key: r.sign.Key})
	if err != nil {
		t.Fatal(err)
	}
	b, err := browser.New(browser.Config{RootCAs: r.k.RootCAs, ServerName: idpkit.ServerName,
		Certificate: []*x509.Certificate{card.Cert}, Key: card.Key, Timeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	page, err := b.Get(context.Background(), u)
	if err != nil || page.Status != http.StatusOK || page.URL.String() != r.acsURL {
		t.Fatalf("the browser did not reach the ACS: %v\n%s\nIdP:\n%s", err, b, r.k.Stderr())
	}
	var msg *binding.POSTMessage
	select {
	case msg = <-r.posted:
	case <-time.After(5 * time.Second):
		t.Fatal("the ACS received no Response")
	}
	return r.accept(msg, req.ID)
}

// accept checks the Response as hospital A's SP does and reads the
// assertion it carries, encrypted for the hospital.
func (r *relay) accept(msg *binding.POSTMessage, reqID string) (*saml.NameID, *wsf.EPR) {
	t := r.t
	if err := r.schema.ValidateElement(msg.Element); err != nil {
		t.Fatal(err)
	}
	resp, _, err := samlp.VerifyResponse(msg.Element, r.idpVerifier())
	if err != nil {
		t.Fatal(err)
	}
	if !resp.Status.Success() || resp.InResponseTo != reqID || resp.Destination != r.acsURL {
		t.Fatalf("response %+v to %q at %q", resp.Status, resp.InResponseTo, resp.Destination)
	}
	if len(resp.Assertions) != 1 || resp.Assertions[0].Tag != "EncryptedAssertion" {
		t.Fatalf("want one EncryptedAssertion (it carries the bootstrap), got %d elements", len(resp.Assertions))
	}
	plain, err := r.decrypter().Decrypt(resp.Assertions[0])
	if err != nil {
		t.Fatal(err)
	}
	a, _, err := saml.VerifyAssertion(plain, r.idpVerifier())
	if err != nil {
		t.Fatal(err)
	}
	if err := a.CheckConditions(time.Now(), time.Minute, hospitalID); err != nil {
		t.Fatal(err)
	}
	nid := a.Subject.NameID
	if nid == nil || nid.Format != saml.NameIDPersistent || nid.Value == "" {
		t.Fatalf("assertion subject %+v, want a persistent NameID", a.Subject)
	}
	eprs, err := wsf.BootstrapEPRs(a)
	if err != nil || len(eprs) != 1 || eprs[0].Address != r.ds.SOAPURL() || eprs[0].Metadata.ProviderID != idpkit.DSEntityID {
		t.Fatalf("bootstrap %+v (%v), want the DS at %s", eprs, err, r.ds.SOAPURL())
	}
	return nid, eprs[0]
}

// wsc is hospital A's ID-WSF client under mech: its signing key signs
// and is its TLS client key; it trusts the test CA for the DS's TLS and
// the metadata for the DS's signatures.
func (r *relay) wsc(mech wsf.Mechanism) *client.Client {
	pool := x509.NewCertPool()
	pool.AddCert(pki.MustGet().CA.Cert)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost", MinVersion: tls.VersionTLS12,
		Certificates: []tls.Certificate{tlsCertOf(r.sign)}}}
	r.t.Cleanup(tr.CloseIdleConnections)
	c, err := client.New(client.Config{EntityID: hospitalID, Key: r.sign.Key, Certificate: r.sign.Cert, Directory: r.ds.Directory,
		HTTP: &http.Client{Transport: tr, Timeout: 30 * time.Second}, Schema: r.schema, Mechanisms: []wsf.Mechanism{mech}})
	if err != nil {
		r.t.Fatal(err)
	}
	return c
}

// call sends one Discovery request and returns the verified payload.
func (r *relay) call(mech wsf.Mechanism, epr *wsf.EPR, op string, payload interface{ Element() *etree.Element }, h wsf.Header) *etree.Element {
	r.t.Helper()
	res, err := r.wsc(mech).Call(context.Background(), &client.Call{EPR: epr, Action: disco.Action(op), Payload: payload.Element(), Header: h})
	if err != nil {
		r.t.Fatalf("%s: %v", op, err)
	}
	return res.Payload
}

// register is hospital A, as itself (ClientTLS:X509), registering its
// clinical service; it returns the SvcMDID.
func (r *relay) register() string {
	admin := &wsf.EPR{Address: r.ds.SOAPURL(), Metadata: &wsf.EPRMetadata{Abstract: "Discovery Service", ProviderID: idpkit.DSEntityID,
		ServiceType: wsf.ServiceTypeDisco, Framework: wsf.FrameworkVersion,
		SecurityContexts: []wsf.SecurityContext{{Mechanisms: []string{string(wsf.ClientTLSX509)}}}}}
	w := &dskit.WSP{EntityID: hospitalID, ServiceType: dskit.Clinical, Abstract: "Hospital A: lab results and prescriptions", Address: r.wspURL}
	p := r.call(wsf.ClientTLSX509, admin, "SvcMDRegister", &disco.SvcMDRegister{SvcMDs: []*disco.SvcMD{w.SvcMD()}}, wsf.Header{})
	res, err := disco.DecodeSvcMDRegisterResponse(p)
	if err != nil || res.Status.Code != disco.OK || len(res.SvcMDIDs) != 1 {
		r.t.Fatalf("SvcMDRegister: %+v %v", res, err)
	}
	return res.SvcMDIDs[0]
}

// header is what hospital A's WSC sends on the principal's behalf: the
// purpose (treatment), and beside it a policy of its own holding what it
// has in hand about the patient, which the DS must not keep.
func header(consent bool) wsf.Header {
	ud := wsf.PurposeDirective(wsf.PurposeTreatment)
	note := etree.NewElement("ha:Note")
	note.CreateAttr("xmlns:ha", "urn:example:hospital-a:note")
	note.SetText(holder.Name + " " + holder.BirthDate.Format("2006-01-02") + "; " + labValue + "; " + insurance + "; " + pension)
	ud.Policies = append(ud.Policies, note)
	h := wsf.Header{UsageDirectives: []wsf.UsageDirective{ud}}
	if consent {
		h.Consent = &wsf.Consent{URI: wsf.ConsentObtained}
	}
	return h
}

// associate is the principal's consent, recorded by hospital A with the
// bootstrap's DS token and sb:Consent obtained.
func (r *relay) associate(dsEPR *wsf.EPR, svcmd string) {
	p := r.call(wsf.ClientTLSSAMLV2, dsEPR, "SvcMDAssociationAdd", &disco.SvcMDAssociationAdd{SvcMDIDs: []string{svcmd}}, header(true))
	res, err := disco.DecodeSvcMDAssociationAddResponse(p)
	if err != nil || res.Status.Code != disco.OK {
		r.t.Fatalf("SvcMDAssociationAdd: %+v %v", res, err)
	}
}

// query is hospital A as WSC asking for the clinical service with the
// bootstrap's DS token; the one EPR's token is read as hospital A's WSP
// reads it.
func (r *relay) query(dsEPR *wsf.EPR) *secmech.Token {
	t := r.t
	q := &disco.Query{RequestedServices: []disco.RequestedService{{ServiceTypes: []string{dskit.Clinical}}}}
	res, err := disco.DecodeQueryResponse(r.call(wsf.ClientTLSSAMLV2, dsEPR, "Query", q, header(false)))
	if err != nil || res.Status.Code != disco.OK || len(res.EPRs) != 1 {
		t.Fatalf("Query: %+v %v", res, err)
	}
	e := res.EPRs[0]
	if e.Address != r.wspURL || e.Metadata == nil || e.Metadata.ProviderID != hospitalID ||
		len(e.Metadata.SecurityContexts) == 0 || len(e.Metadata.SecurityContexts[0].Tokens) != 1 {
		t.Fatalf("EPR %+v, want hospital A's clinical service with one token", e)
	}
	c := &secmech.TokenChecker{Self: hospitalID, Directory: r.ds.Directory, Decrypter: r.decrypter(), Skew: time.Minute}
	tok, err := c.Check(context.Background(), e.Metadata.SecurityContexts[0].Tokens[0].Element, time.Now(), false)
	if err != nil {
		t.Fatalf("hospital A's WSP reads its token: %v", err)
	}
	if tok.Assertion.Issuer.Value != idpkit.DSEntityID {
		t.Fatalf("token issued by %+v, want the DS", tok.Assertion.Issuer)
	}
	return tok
}

// enrol is hospital A's ManageNameIDRequest NewID, signed, over SOAP to
// the IdP's NIM endpoint, with the card authentication just done.
func (r *relay) enrol(nid *saml.NameID, newID string) {
	t := r.t
	id, err := saml.NewID(nil)
	if err != nil {
		t.Fatal(err)
	}
	req := &samlp.ManageNameIDRequest{RequestHeader: samlp.RequestHeader{ID: id, IssueInstant: time.Now().UTC(),
		Destination: r.k.BaseURL + idp.PathNIM, Issuer: &saml.Issuer{Value: hospitalID}}, NameID: nid, NewID: newID}
	el, err := samlp.Sign(req, &dsig.Signer{Key: r.sign.Key, Certificates: []*x509.Certificate{r.sign.Cert}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := xmlsec.Serialize((&binding.Envelope{Body: el}).Element())
	if err != nil {
		t.Fatal(err)
	}
	hr, err := http.NewRequest(http.MethodPost, r.k.BaseURL+idp.PathNIM, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	hr.Header.Set("Content-Type", "text/xml; charset=utf-8")
	hres, err := r.k.Client().Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	defer hres.Body.Close()
	body, err := io.ReadAll(io.LimitReader(hres.Body, 1<<20))
	if err != nil || hres.StatusCode != http.StatusOK {
		t.Fatalf("NIM: HTTP %d %v\n%s", hres.StatusCode, err, body)
	}
	env, err := (&binding.SOAPDecoder{Understood: []string{}}).Decode(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.schema.ValidateElement(env.Body); err != nil {
		t.Fatal(err)
	}
	resp, _, err := samlp.VerifyManageNameIDResponse(env.Body, r.idpVerifier())
	if err != nil {
		t.Fatal(err)
	}
	if resp.InResponseTo != req.ID || resp.Status.Code.Value != samlp.StatusSuccess {
		t.Fatalf("NIM answered %s/%s (%s) to %q", resp.Status.Code.Value, resp.Status.Second(), resp.Status.Message, resp.InResponseTo)
	}
}
