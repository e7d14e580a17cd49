package sp_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/binding"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/store/sqlstore"
	"github.com/renkei-idwsf/renkei/wsc/sp"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
	"github.com/renkei-idwsf/renkei/xmlsec/xmlenc"
	"github.com/renkei-idwsf/renkei/xmlsec/xsd"
)

// The parties of the unit tests: the portal's SP and a fake IdP that
// signs with a test key, as Renkei's IdP shapes its messages.
const (
	spID     = "https://portal.renkei.test/saml"
	acsURL   = "https://portal.renkei.test/saml/acs"
	sloURL   = "https://portal.renkei.test/saml/slo"
	soapURL  = "https://portal.renkei.test/saml/slo/soap"
	idpID    = "https://idp.renkei.test/saml"
	idpSSO   = "https://idp.renkei.test/sso"
	idpSLO   = "https://idp.renkei.test/slo"
	dsID     = "https://ds.renkei.test/disco"
	dsSOAP   = "https://ds.renkei.test/disco/soap"
	pseudo   = "p-3f1c0b9e2d"
	spSessIx = "sx-0a1b2c"
)

var ctx = context.Background()

// keys are RSA keys made once per test binary: RSA generation is the
// slow part of a fixture.
type keys struct {
	idp, evil, spSign, spEnc, other, termSign, termEnc *pki.Identity
}

var (
	keysOnce sync.Once
	testKeys keys
	keysErr  error
)

func getKeys(tb testing.TB) keys {
	tb.Helper()
	keysOnce.Do(func() {
		ca := pki.MustGet().CA
		for _, k := range []struct {
			dst  **pki.Identity
			name string
		}{{&testKeys.idp, "idp-signing"}, {&testKeys.evil, "evil"}, {&testKeys.spSign, "portal-signing"},
			{&testKeys.spEnc, "portal-encryption"}, {&testKeys.other, "other-encryption"},
			{&testKeys.termSign, "terminal-signing"}, {&testKeys.termEnc, "terminal-encryption"}} {
			if *k.dst, keysErr = ca.Issue(k.name, pki.RSA2048); keysErr != nil {
				return
			}
		}
	})
	if keysErr != nil {
		tb.Fatal(keysErr)
	}
	return testKeys
}

// staticMetadata is metadata held in memory, for tests that need no
// aggregate.
type staticMetadata map[string]*md.EntityDescriptor

func (m staticMetadata) Entity(id string, _ time.Time) (*md.EntityDescriptor, error) {
	if e, ok := m[id]; ok {
		return e, nil
	}
	return nil, md.Errorf(md.KindNotFound, "%s", id)
}

// env is one SP over a fresh in-memory store, a frozen clock that a test
// may move, and the fake IdP's metadata.
type env struct {
	t      testing.TB
	k      keys
	now    time.Time
	cfg    sp.Config
	sp     *sp.SP
	schema *xsd.Schema
}

func newEnv(t testing.TB, tweak ...func(*sp.Config)) *env {
	t.Helper()
	return newEnvKeys(t, getKeys(t), tweak...)
}

// newEnvKeys is newEnv with the keys given, such as the fuzz targets'
// fixed ones.
func newEnvKeys(t testing.TB, k keys, tweak ...func(*sp.Config)) *env {
	t.Helper()
	e := &env{t: t, k: k, now: time.Date(2026, 4, 1, 9, 30, 0, 0, time.UTC)}
	var err error
	if e.schema, err = xsd.Default(); err != nil {
		t.Fatal(err)
	}
	db, err := sqlstore.Open(ctx, "sqlite::memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e.cfg = sp.Config{EntityID: spID, ACSURL: acsURL, SLOURL: sloURL, SOAPSLOURL: soapURL, IdP: idpID,
		Metadata: staticMetadata{idpID: e.idpEntity()},
		Key:      e.k.spSign.Key, Certificate: e.k.spSign.Cert,
		Decrypter:             &xmlenc.Decrypter{Key: e.k.spEnc.Key.(crypto.Decrypter)},
		EncryptionCertificate: e.k.spEnc.Cert,
		Store:                 db, Schema: e.schema, Now: func() time.Time { return e.now }}
	for _, f := range tweak {
		f(&e.cfg)
	}
	if e.sp, err = sp.New(e.cfg); err != nil {
		t.Fatal(err)
	}
	return e
}

// idpEntity is the fake IdP's metadata: its signing key, SSO and SLO.
func (e *env) idpEntity() *md.EntityDescriptor {
	return &md.EntityDescriptor{EntityID: idpID, IDPSSO: []*md.IDPSSODescriptor{{
		SSO: md.SSO{Role: md.Role{ProtocolSupport: []string{md.ProtocolSAML2},
			Keys: []md.KeyDescriptor{{Use: md.UseSigning, Certificates: []*x509.Certificate{e.k.idp.Cert}}}},
			SingleLogout: []md.Endpoint{{Binding: samlp.BindingHTTPRedirect, Location: idpSLO}, {Binding: samlp.BindingSOAP, Location: idpSLOSOAP}},
			ManageNameID: []md.Endpoint{{Binding: samlp.BindingSOAP, Location: idpNIM}}},
		SingleSignOn: []md.Endpoint{{Binding: samlp.BindingHTTPRedirect, Location: idpSSO}, {Binding: samlp.BindingSOAP, Location: idpECP}}}}}
}

func (e *env) must(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

// login starts a login and returns the request's ID.
func (e *env) login(relayState string) string {
	e.t.Helper()
	lr, err := e.sp.StartLogin(ctx, relayState)
	e.must(err)
	return lr.ID
}

// signer signs as the fake IdP; evil signs with a key no metadata lists.
func (e *env) signer() *dsig.Signer {
	return &dsig.Signer{Key: e.k.idp.Key, Certificates: []*x509.Certificate{e.k.idp.Cert}}
}

func (e *env) evilSigner() *dsig.Signer {
	return &dsig.Signer{Key: e.k.evil.Key, Certificates: []*x509.Certificate{e.k.evil.Cert}}
}

// bootstrapEPR is the Discovery Service EPR the fake IdP adds.
func bootstrapEPR() *wsf.EPR {
	return &wsf.EPR{Address: dsSOAP, Metadata: &wsf.EPRMetadata{Abstract: "Discovery Service", ProviderID: dsID,
		ServiceType: wsf.ServiceTypeDisco, SecurityContexts: []wsf.SecurityContext{{Mechanisms: []string{string(wsf.ClientTLSSAMLV2)}}}}}
}

// assertion is what Renkei's IdP asserts for requestID ("" for an
// unsolicited response): a bearer confirmation for the ACS, five minutes
// of validity, the SP as audience, a card login, the bootstrap.
func (e *env) assertion(requestID string) *saml.Assertion {
	end := e.now.Add(5 * time.Minute)
	id, err := saml.NewID(nil)
	e.must(err)
	return &saml.Assertion{ID: id, IssueInstant: e.now, Issuer: saml.Issuer{Value: idpID},
		Subject: &saml.Subject{NameID: &saml.NameID{Value: pseudo, Format: saml.NameIDPersistent, NameQualifier: idpID, SPNameQualifier: spID},
			Confirmations: []saml.SubjectConfirmation{{Method: saml.CMBearer,
				Data: &saml.SubjectConfirmationData{NotOnOrAfter: end, Recipient: acsURL, InResponseTo: requestID}}}},
		Conditions: &saml.Conditions{NotBefore: e.now, NotOnOrAfter: end,
			AudienceRestrictions: []saml.AudienceRestriction{{Audiences: []string{spID}}}},
		AuthnStatements: []saml.AuthnStatement{{AuthnInstant: e.now.Add(-time.Second), SessionIndex: spSessIx,
			SessionNotOnOrAfter: e.now.Add(8 * time.Hour), ClassRef: saml.ACSmartcardPKI}},
		AttributeStatements: []saml.AttributeStatement{{Attributes: []saml.Attribute{{Name: wsf.DiscoveryEPRAttr,
			NameFormat: saml.AttrNameFormatURI, Values: []saml.AttributeValue{{Elements: []*etree.Element{bootstrapEPR().Element()}}}}}}}}
}

// sign signs a with s.
func (e *env) sign(a *saml.Assertion, s *dsig.Signer) *etree.Element {
	el, err := saml.SignAssertion(a, s)
	e.must(err)
	return el
}

// encrypt wraps a signed assertion in an EncryptedAssertion for cert.
func (e *env) encryptFor(el *etree.Element, cert *x509.Certificate) *etree.Element {
	w, err := (&xmlenc.Encrypter{}).Encrypt(el, xmlenc.EncryptedAssertion, xmlenc.Recipient{EntityID: spID, Cert: cert})
	e.must(err)
	return w
}

func (e *env) encrypt(el *etree.Element) *etree.Element { return e.encryptFor(el, e.k.spEnc.Cert) }

// response is a samlp:Response to requestID carrying assertions, signed
// by s unless s is nil.
func (e *env) response(requestID string, status samlp.Status, s *dsig.Signer, assertions ...*etree.Element) *etree.Element {
	id, err := saml.NewID(nil)
	e.must(err)
	r := &samlp.Response{StatusResponseHeader: samlp.StatusResponseHeader{ID: id, InResponseTo: requestID,
		IssueInstant: e.now, Destination: acsURL, Issuer: &saml.Issuer{Value: idpID}, Status: status},
		Assertions: assertions}
	if s == nil {
		return r.Element()
	}
	el, err := samlp.Sign(r, s)
	e.must(err)
	return el
}

var success = samlp.NewStatus(samlp.StatusSuccess, "")

// idpResponse is the shape Renkei's IdP sends: the signed assertion,
// encrypted, in a signed Response.
func (e *env) idpResponse(requestID string, a *saml.Assertion) *etree.Element {
	return e.response(requestID, success, e.signer(), e.encrypt(e.sign(a, e.signer())))
}

// post carries el through the HTTP-POST binding as a browser would: the
// bytes serialized, base64 in a form, decoded by binding.POSTDecoder.
func (e *env) post(el *etree.Element, relayState string) *binding.POSTMessage {
	e.t.Helper()
	b, err := xmlsec.Serialize(el)
	e.must(err)
	return e.postBytes(b, relayState)
}

func (e *env) postBytes(b []byte, relayState string) *binding.POSTMessage {
	e.t.Helper()
	form := url.Values{binding.ParamResponse: {base64.StdEncoding.EncodeToString(b)}}
	if relayState != "" {
		form.Set(binding.ParamRelayState, relayState)
	}
	m, err := (&binding.POSTDecoder{}).Decode(bytes.NewReader([]byte(form.Encode())))
	e.must(err)
	return m
}

// redirectQuery is the query of msg over HTTP-Redirect, query-signed by
// key (nil: unsigned) with sigAlg ("" for the key's default).
func redirectQuery(tb testing.TB, msg *etree.Element, relayState string, key crypto.Signer, sigAlg string) string {
	tb.Helper()
	var s *binding.RedirectSigner
	if key != nil {
		s = &binding.RedirectSigner{Key: key, SignatureMethod: sigAlg, Policy: xmlsec.Policy{AllowSHA1: true}}
	}
	q, err := binding.EncodeRedirect(msg, relayState, s)
	if err != nil {
		tb.Fatal(err)
	}
	return q
}

// readRedirect decodes a URL the SP made and checks its query signature
// with the SP's signing key, as the IdP does.
func (e *env) readRedirect(rawURL, wantPrefix string) (*binding.RedirectMessage, *etree.Element) {
	e.t.Helper()
	u, err := url.Parse(rawURL)
	e.must(err)
	if got := u.Scheme + "://" + u.Host + u.Path; got != wantPrefix {
		e.t.Fatalf("the SP sends the browser to %s, want %s", got, wantPrefix)
	}
	m, err := (&binding.RedirectDecoder{}).Decode(u.RawQuery)
	e.must(err)
	el, _, err := m.Verify(xmlsec.NewTrustSet([]*x509.Certificate{e.k.spSign.Cert}), xmlsec.Policy{})
	if err != nil {
		e.t.Fatalf("the SP's query signature does not verify with its metadata key: %v", err)
	}
	e.must(e.schema.ValidateElement(el))
	return m, el
}
