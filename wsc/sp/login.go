package sp

import (
	"context"
	"time"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/binding"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/wsf"
)

// LoginRequest is an AuthnRequest on its way: the portal sends the browser
// to URL and binds ID to the browser (a cookie that lives until Expires),
// to give it back to Consume.
type LoginRequest struct {
	ID      string
	URL     string
	Expires time.Time
}

// Login is a verified login (SAML Profiles §4.1.4.3): who the IdP says the
// citizen is at this SP and the session the IdP keeps for it. The portal
// keys its session by (IdP, NameID.Value, SessionIndex) to find it again
// when the IdP logs the citizen out.
type Login struct {
	// IdP is the entityID of the IdP that asserted the login.
	IdP string
	// NameID is the persistent, pairwise pseudonym of the citizen at this
	// SP (NameQualifier the IdP, SPNameQualifier this SP when given).
	NameID *saml.NameID
	// SessionIndex names the IdP's session at this SP, for single logout.
	SessionIndex string
	// AuthnInstant is when the citizen authenticated; AuthnContext how
	// (saml.ACSmartcardPKI for a card).
	AuthnInstant time.Time
	AuthnContext string
	// SessionNotOnOrAfter, when set, is when the portal must end its
	// session (SAML Core §2.7.2).
	SessionNotOnOrAfter time.Time
	// Assertion is the verified, decrypted assertion.
	Assertion *saml.Assertion
	// Bootstrap is the Discovery Service EPR of the assertion's
	// DiscoveryEPR attribute (wsc.BootstrapOf), nil when there is none.
	Bootstrap *wsf.EPR
	// RelayState is the one given to StartLogin.
	RelayState string
}

// StartLogin makes a signed AuthnRequest for the IdP's HTTP-Redirect
// SingleSignOnService (SAML Profiles §4.1.4.1): the ACS and HTTP-POST, a
// persistent NameID that may be created, relayState (at most 80 bytes)
// sent along and kept to be checked against what comes back. The request
// is kept in the store for RequestLifetime, to be taken once by Consume.
func (s *SP) StartLogin(ctx context.Context, relayState string) (*LoginRequest, error) {
	now := s.now()
	if err := checkRelayStateOut(relayState); err != nil {
		return nil, err
	}
	d, err := s.idp(now)
	if err != nil {
		return nil, err
	}
	ep, err := d.SingleSignOnService(samlp.BindingHTTPRedirect)
	if err != nil {
		return nil, wrap(KindMetadata, err, s.cfg.IdP)
	}
	id, err := saml.NewID(s.cfg.Rand)
	if err != nil {
		return nil, wrap(KindInternal, err, "request ID")
	}
	req := &samlp.AuthnRequest{
		RequestHeader: samlp.RequestHeader{ID: id, IssueInstant: now, Destination: ep.Location,
			Issuer: &saml.Issuer{Value: s.cfg.EntityID}},
		AssertionConsumerServiceURL: s.cfg.ACSURL, ProtocolBinding: samlp.BindingHTTPPOST,
		NameIDPolicy: &samlp.NameIDPolicy{Format: saml.NameIDPersistent, AllowCreate: true},
	}
	u, err := s.redirectURL(ep.Location, req, relayState)
	if err != nil {
		return nil, err
	}
	expires := now.Add(s.cfg.RequestLifetime)
	if err := s.park(ctx, prefixLogin, id, pending{RelayState: relayState}, now, expires); err != nil {
		return nil, err
	}
	return &LoginRequest{ID: id, URL: u, Expires: expires}, nil
}

// redirectURL checks an outgoing message against the schema and encodes
// it, query-signed, for location.
func (s *SP) redirectURL(location string, m samlp.Message, relayState string) (string, error) {
	el := m.Element()
	if err := s.cfg.Schema.ValidateElement(el); err != nil {
		return "", wrap(KindInternal, err, "outgoing message is not schema-valid")
	}
	u, err := binding.RedirectURL(location, el, relayState, s.redirect)
	if err != nil {
		return "", wrap(KindInternal, err, "encode Redirect")
	}
	return u, nil
}
