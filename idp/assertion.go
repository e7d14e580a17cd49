package idp

import (
	"context"
	"crypto/x509"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/xmlsec/xmlenc"
)

// IssueRequest is what an SSO assertion is made from (SAML2.md §3.2).
type IssueRequest struct {
	// SP is the relying party's entityID: the Audience.
	SP string
	// ACS is the AssertionConsumerService URL the response goes to, as
	// checked against the SP's metadata: the bearer Recipient.
	ACS string
	// InResponseTo is the AuthnRequest ID; "" for IdP-initiated SSO.
	InResponseTo string
	NameID       *saml.NameID
	Authn        Authn
	// SessionIndex names the IdP session at this SP (for single logout);
	// SessionNotOnOrAfter, when set, is when the SP must end its session.
	SessionIndex        string
	SessionNotOnOrAfter time.Time
	// SessionID is the IdP session the SP joined; when set, the Discovery
	// Service of a bootstrap joins it too, and its token carries the DS's
	// SessionIndex.
	SessionID string
	// Lifetime bounds the assertion; 0 means the configured default.
	Lifetime time.Duration
	// Bootstrap adds the Discovery Service EPR (IDWSF2 §4.5). It needs
	// WSCCert, the SP's metadata signing certificate the DS token is
	// bound to, and EncryptFor: an assertion carrying a bootstrap is
	// always encrypted (ARCHITECTURE "Tokens from the DS").
	Bootstrap bool
	WSCCert   *x509.Certificate
	// Attributes go into the AttributeStatement.
	Attributes []saml.Attribute
	// EncryptFor, when set, wraps the signed assertion in an
	// EncryptedAssertion for the SP's encryption key (SAML2.md §10).
	EncryptFor *xmlenc.Recipient
	// discovery is the bootstrap the SSO prepared when it joined the SP
	// and the DS to the session in one write (issueRequest); without it
	// Issue prepares the bootstrap and joins the DS itself.
	discovery *bootstrap
}

// Issued is a signed assertion ready to be put in a samlp:Response.
type Issued struct {
	// Assertion is what was signed.
	Assertion *saml.Assertion
	// Element is the signed saml:Assertion, or the saml:EncryptedAssertion
	// holding it when the request asked for encryption.
	Element *etree.Element
	// NotOnOrAfter is when the assertion expires.
	NotOnOrAfter time.Time
}

// Issue builds the SSO assertion for req at now, signs it with the first
// signing key and, when asked, encrypts it (sign, then encrypt: SAML2.md
// §9.3).
func (p *IdP) Issue(ctx context.Context, req IssueRequest, now time.Time) (*Issued, error) {
	if err := p.checkIssue(req); err != nil {
		return nil, err
	}
	a, err := p.assertion(req, now)
	if err != nil {
		return nil, err
	}
	if req.Bootstrap {
		sess := BootstrapSession{ID: req.SessionID, End: req.SessionNotOnOrAfter}
		var at saml.Attribute
		if req.discovery != nil {
			at, err = p.bootstrapAttribute(req.discovery, req.Authn, req.WSCCert, sess, now)
		} else {
			at, err = p.BootstrapAttribute(ctx, req.Authn, req.WSCCert, sess, now)
		}
		if err != nil {
			return nil, err
		}
		a.AttributeStatements[0].Attributes = append(a.AttributeStatements[0].Attributes, at)
	}
	el, err := p.sign(a)
	if err != nil {
		return nil, err
	}
	if req.EncryptFor != nil {
		if err := p.checkAssertion(el); err != nil {
			return nil, err
		}
		if el, err = p.encrypt(el, *req.EncryptFor); err != nil {
			return nil, err
		}
	}
	return &Issued{Assertion: a, Element: el, NotOnOrAfter: a.Conditions.NotOnOrAfter}, nil
}

// checkIssue refuses a request the profile forbids before anything is
// made: no audience or recipient (SAML2.md §3.2), no subject, or a
// bootstrap that would travel unencrypted or unbound.
func (p *IdP) checkIssue(req IssueRequest) error {
	switch {
	case req.SP == "" || req.ACS == "":
		return Errorf(CodeInternal, "issue: SP and ACS are required")
	case req.NameID == nil || req.NameID.Value == "":
		return Errorf(CodeInternal, "issue: no NameID")
	case req.Authn.ClassRef == "" || req.Authn.Instant.IsZero():
		return Errorf(CodeInternal, "issue: no authentication")
	case req.Lifetime < 0 || req.Lifetime > MaxLifetime:
		return Errorf(CodeInternal, "issue: lifetime %v", req.Lifetime)
	case req.Bootstrap && req.EncryptFor == nil:
		return Errorf(CodeBootstrapUnencrypted, "SP %q", req.SP)
	case req.Bootstrap && req.WSCCert == nil:
		return Errorf(CodeNoDiscovery, "no WSC certificate to bind the DS token of %q to", req.SP)
	}
	return nil
}

// assertion assembles the assertion of SAML2.md §3.2: a bearer
// SubjectConfirmation for the ACS, Conditions with the SP as audience, the
// AuthnStatement and the AttributeStatement.
func (p *IdP) assertion(req IssueRequest, now time.Time) (*saml.Assertion, error) {
	id, err := p.newID()
	if err != nil {
		return nil, err
	}
	life := req.Lifetime
	if life == 0 {
		life = p.cfg.AssertionLifetime
	}
	end := now.Add(life)
	return &saml.Assertion{
		ID: id, IssueInstant: now, Issuer: saml.Issuer{Value: p.cfg.EntityID},
		Subject: &saml.Subject{NameID: req.NameID, Confirmations: []saml.SubjectConfirmation{{
			Method: saml.CMBearer,
			Data:   &saml.SubjectConfirmationData{NotOnOrAfter: end, Recipient: req.ACS, InResponseTo: req.InResponseTo},
		}}},
		Conditions: &saml.Conditions{NotBefore: now, NotOnOrAfter: end,
			AudienceRestrictions: []saml.AudienceRestriction{{Audiences: []string{req.SP}}}},
		AuthnStatements: []saml.AuthnStatement{{AuthnInstant: req.Authn.Instant, SessionIndex: req.SessionIndex,
			SessionNotOnOrAfter: req.SessionNotOnOrAfter, ClassRef: req.Authn.ClassRef}},
		AttributeStatements: []saml.AttributeStatement{{Attributes: append([]saml.Attribute(nil), req.Attributes...)}},
	}, nil
}

// sign signs a with the first signing key; its certificate goes into
// KeyInfo, which peers may use to pick the key but never to trust it.
func (p *IdP) sign(a *saml.Assertion) (*etree.Element, error) {
	if len(a.AttributeStatements) == 1 && len(a.AttributeStatements[0].Attributes) == 0 {
		a.AttributeStatements = nil // the schema wants at least one Attribute
	}
	el, err := saml.SignAssertion(a, p.signer())
	wsf.CountSignature(p.cfg.Meter, wsf.SigSign, err)
	if err != nil {
		return nil, Wrap(CodeInternal, err, "sign assertion")
	}
	return el, nil
}

// checkAssertion validates a signed assertion against the schemas when
// the IdP has them, before it is encrypted: once inside an
// EncryptedAssertion, the check of the Response around it cannot see it.
// A plain assertion is checked as part of that Response.
func (p *IdP) checkAssertion(el *etree.Element) error {
	if p.cfg.Schema == nil {
		return nil
	}
	if err := p.cfg.Schema.ValidateElement(el); err != nil {
		return Wrap(CodeInternal, err, "outgoing assertion is not schema-valid")
	}
	return nil
}

func (p *IdP) encrypt(el *etree.Element, to xmlenc.Recipient) (*etree.Element, error) {
	enc := &xmlenc.Encrypter{Rand: p.cfg.Rand}
	w, err := enc.Encrypt(el, xmlenc.EncryptedAssertion, to)
	if err != nil {
		return nil, Wrap(CodeInternal, err, "encrypt assertion for "+to.EntityID)
	}
	return w, nil
}
