package conformance

import (
	"crypto"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/dst"
	"github.com/renkei-idwsf/renkei/wsf/metadir"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
)

// WSCTarget is an ID-WSF WSC under test that is also a SAML SP (a portal,
// a reception terminal), and the Discovery Service and WSP the suite plays
// for it. The suite's IdP (SP, the SP role's machinery) logs a browser in
// with an assertion whose DiscoveryEPR names the suite's DS, its token
// minted by the suite as that DS (IDWSF2 §4.5); the browser then GETs Page,
// which makes the WSC ask the suite's DS (disco:Query, IDWSF2 §4) and call
// the suite's WSP (a DST Query of ServiceType, IDWSF2 §5). The WSP's answer
// carries a fresh marker in the first required string field of the
// service's first item type; the WSC accepted the answer when the marker
// shows in the page, and refused it when it does not.
//
// The operator registers the suite's DS and WSP (Peers) in the WSC's
// metadata, as it registers the suite's IdP, and makes the WSC trust the
// certificate of the suite's TLS listener (TLS), which serves both.
type WSCTarget struct {
	// SP is the WSC as an SP, with the suite's IdP; its Bootstrap is set
	// by Init.
	SP *SPTarget
	// EntityID and Keys are the WSC's (those of its SP role unless given):
	// its messages are verified with Keys, and its tokens are confirmed by
	// the first of them (ClientTLS:SAMLV2, IDWSF2 §3.5).
	EntityID string
	Keys     []*x509.Certificate
	// Page is the URL of the page that shows the service's answer.
	Page string
	// ServiceType is the DST service the WSP offers; "" means
	// urn:renkei:svc:eligibility:1.0.
	ServiceType string
	DS, WSP     SuitePeer
	// Listen is the loopback host:port of the suite's TLS listener for
	// the DS and the WSP; Listener, when set, is served instead (tests).
	Listen   string
	Listener net.Listener
	// TLS is the listener's certificate, which the WSC must trust.
	TLS tls.Certificate

	suite *wscSuite
}

// SuitePeer is a provider the suite plays: its entityID and metadata key.
type SuitePeer struct {
	EntityID string
	Key      crypto.Signer
	Cert     *x509.Certificate
}

// The paths of the suite's DS and WSP on its TLS listener.
const (
	PathSuiteDS  = "/ds"
	PathSuiteWSP = "/wsp"
	// PathSuiteWSPMoved is where an EndpointUpdate sends the WSC.
	PathSuiteWSPMoved = "/wsp-moved"
)

// BaseURL is the origin of the suite's TLS listener.
func (t *WSCTarget) BaseURL() string { return "https://" + t.Listen }

// DSAddress is the suite DS's SOAP endpoint.
func (t *WSCTarget) DSAddress() string { return t.BaseURL() + PathSuiteDS }

// WSPAddress is the suite WSP's SOAP endpoint.
func (t *WSCTarget) WSPAddress() string { return t.BaseURL() + PathSuiteWSP }

func (t *WSCTarget) serviceType() string {
	if t.ServiceType != "" {
		return t.ServiceType
	}
	return dst.Eligibility
}

// Peers returns the metadata of the suite's DS and WSP (IDWSF2 §4.3,
// web service roles, wsf/metadir), for the operator to register at the
// WSC.
func (t *WSCTarget) Peers() ([]byte, error) {
	role := func(p SuitePeer, typ, addr string) *md.EntityDescriptor {
		r := (&metadir.WebService{ServiceTypes: []string{typ}, Endpoints: []string{addr},
			Keys: []md.KeyDescriptor{{Use: md.UseSigning, Certificates: []*x509.Certificate{p.Cert}}}}).Role()
		return &md.EntityDescriptor{EntityID: p.EntityID, Roles: []*md.RoleDescriptor{r},
			Organization: &md.Organization{Names: []md.Localized{{Lang: "en", Value: "Renkei conformance " + typ}},
				DisplayNames: []md.Localized{{Lang: "en", Value: "Renkei conformance"}}, URLs: []md.Localized{{Lang: "en", Value: t.BaseURL()}}}}
	}
	fed := &md.EntitiesDescriptor{Name: "renkei-conformance-wsc", Entities: []*md.EntityDescriptor{
		role(t.DS, wsf.ServiceTypeDisco, t.DSAddress()), role(t.WSP, t.serviceType(), t.WSPAddress())}}
	return xmlsec.Serialize(fed.Element())
}

// Init completes the description: the WSC's entityID and keys from its SP
// role, and the SP's bootstrap, the suite's DS with a token it mints.
func (t *WSCTarget) Init() {
	if t.EntityID == "" && t.SP != nil {
		t.EntityID = t.SP.EntityID
	}
	if len(t.Keys) == 0 && t.SP != nil {
		t.Keys = t.SP.Keys
	}
	if t.SP != nil {
		t.SP.Bootstrap = &Bootstrap{DS: t.DS.EntityID, Address: t.DSAddress(), Token: func(now time.Time) (*etree.Element, error) {
			return t.token(t.DS.EntityID, now)
		}}
	}
}

// Validate reports every problem of the description at once.
func (t *WSCTarget) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if t.SP == nil {
		add("the WSC needs its SP description (login, acceptance rule, suite IdP)")
	} else if err := t.SP.Validate(); err != nil {
		errs = append(errs, err)
	}
	if t.EntityID == "" || len(t.Keys) == 0 {
		add("the WSC needs an entityID and a signing key in its metadata")
	}
	if u, err := url.Parse(t.Page); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		add("page %q is not an http(s) URL", t.Page)
	}
	if dst.Lookup(t.serviceType()) == nil {
		add("service type %q is not a DST service the suite can play", t.serviceType())
	}
	for _, p := range []struct {
		name string
		p    SuitePeer
	}{{"ds", t.DS}, {"wsp", t.WSP}} {
		if p.p.EntityID == "" || p.p.Key == nil || p.p.Cert == nil {
			add("%s needs an entityID, a key and a certificate", p.name)
		}
	}
	if t.DS.EntityID != "" && t.DS.EntityID == t.WSP.EntityID {
		add("the suite's DS and WSP need distinct entityIDs")
	}
	if h, _, err := net.SplitHostPort(t.Listen); err != nil || !isLoopback(h) {
		add("listen %q is not a loopback host:port", t.Listen)
	}
	if len(t.TLS.Certificate) == 0 || t.TLS.PrivateKey == nil {
		add("tls needs a certificate and its key")
	}
	return errors.Join(errs...)
}

// token mints a holder-of-key token (IDWSF2 §3.6) issued by the suite's DS
// for audience, confirmed by the WSC's first key, valid for an hour around
// now.
func (t *WSCTarget) token(audience string, now time.Time) (*etree.Element, error) {
	return t.tokenBy(t.DS, audience, now)
}

func (t *WSCTarget) tokenBy(issuer SuitePeer, audience string, now time.Time) (*etree.Element, error) {
	if len(t.Keys) == 0 {
		return nil, errors.New("conformance: the WSC has no key to confirm a token with")
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	a := &saml.Assertion{ID: "_" + hex.EncodeToString(b[:]), IssueInstant: now.Add(-time.Minute), Issuer: saml.Issuer{Value: issuer.EntityID},
		Subject: &saml.Subject{NameID: &saml.NameID{Value: "conformance-wsc-citizen", Format: FormatPersistent,
			NameQualifier: issuer.EntityID, SPNameQualifier: audience},
			Confirmations: []saml.SubjectConfirmation{{Method: saml.CMHolderOfKey,
				Data: &saml.SubjectConfirmationData{KeyInfos: []saml.KeyInfo{{Certificates: []*x509.Certificate{t.Keys[0]}}}}}}},
		Conditions: &saml.Conditions{NotBefore: now.Add(-time.Minute), NotOnOrAfter: now.Add(time.Hour),
			AudienceRestrictions: []saml.AudienceRestriction{{Audiences: []string{audience}}}},
		AuthnStatements: []saml.AuthnStatement{{AuthnInstant: now.Add(-time.Minute), ClassRef: saml.ACSmartcardPKI}}}
	return saml.SignAssertion(a, &dsig.Signer{Key: issuer.Key, Certificates: []*x509.Certificate{issuer.Cert}})
}
