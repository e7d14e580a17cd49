package idp

import (
	"context"
	"crypto/x509"
	"errors"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/secmech"
	"github.com/renkei-idwsf/renkei/xmlsec/xmlenc"
)

// DefaultDiscoveryAbstract is the bootstrap EPR's disco:Abstract when the
// configuration gives none.
const DefaultDiscoveryAbstract = "ID-WSF 2.0 Discovery Service"

// BootstrapAttribute returns the ID-WSF discovery bootstrap for an SSO
// assertion (IDWSF2 §4.5): the saml:Attribute
// urn:liberty:disco:2006-08:DiscoveryEPR, NameFormat uri, with one
// AttributeValue holding one wsa:EndpointReference of the Discovery
// Service whose SecurityContext carries the DS token of DiscoveryToken.
// wsc is the SP's (the WSC's) metadata signing certificate; sess is the
// IdP session of the SSO (see BootstrapSession).
func (p *IdP) BootstrapAttribute(ctx context.Context, a Authn, wsc *x509.Certificate, sess BootstrapSession, now time.Time) (saml.Attribute, error) {
	b, err := p.prepareAttribute(ctx, a.PrincipalID, wsc, now)
	if err != nil {
		return saml.Attribute{}, err
	}
	if err := p.joinDiscovery(ctx, b, sess, now); err != nil {
		return saml.Attribute{}, err
	}
	return p.bootstrapAttribute(b, a, wsc, sess, now)
}

// prepareAttribute is prepareBootstrap with the DS's endpoint, which the
// attribute's EPR needs, read first.
func (p *IdP) prepareAttribute(ctx context.Context, principalID string, wsc *x509.Certificate, now time.Time) (*bootstrap, error) {
	addr, err := p.discoveryAddress(ctx)
	if err != nil {
		return nil, err
	}
	b, err := p.prepareBootstrap(ctx, principalID, wsc, now)
	if err != nil {
		return nil, err
	}
	b.addr = addr
	return b, nil
}

// bootstrap is what a DS token needs before it is minted: the DS's
// encryption key as the metadata lists it now, the principal's NameID at
// the DS, and the DS's SessionIndex once it joined the session; for the
// bootstrap attribute, the DS's endpoint too.
type bootstrap struct {
	addr   string
	to     xmlenc.Recipient
	nameID *saml.NameID
	index  string
}

// prepareBootstrap checks that a bootstrap can be made for principalID
// and a WSC with certificate wsc, and reads (or creates) the principal's
// federation with the DS.
func (p *IdP) prepareBootstrap(ctx context.Context, principalID string, wsc *x509.Certificate, now time.Time) (*bootstrap, error) {
	d := p.cfg.Discovery
	switch {
	case d == nil:
		return nil, Errorf(CodeNoDiscovery, "no Discovery Service configured")
	case wsc == nil:
		return nil, Errorf(CodeNoDiscovery, "no WSC certificate to bind the token to")
	}
	to, err := d.Metadata.Recipient(ctx, d.EntityID)
	if err != nil {
		return nil, Wrap(CodeNoDiscovery, err, "Discovery Service encryption key")
	}
	if err := secmech.CheckTarget(to); err != nil {
		return nil, Wrap(CodeNoDiscovery, err, "Discovery Service")
	}
	n, err := p.persistent(ctx, principalID, d.EntityID, true, now)
	if err != nil {
		return nil, discoveryFederationError(err, d.EntityID)
	}
	return &bootstrap{to: to, nameID: n}, nil
}

// joinDiscovery joins the DS to sess, when it names one, as b's
// principal's participant.
func (p *IdP) joinDiscovery(ctx context.Context, b *bootstrap, sess BootstrapSession, now time.Time) (err error) {
	if sess.ID != "" {
		b.index, err = p.Join(ctx, sess.ID, p.cfg.Discovery.EntityID, b.nameID, now)
	}
	return err
}

// bootstrapAttribute mints b's token and wraps it in the attribute.
func (p *IdP) bootstrapAttribute(b *bootstrap, a Authn, wsc *x509.Certificate, sess BootstrapSession, now time.Time) (saml.Attribute, error) {
	tok, err := p.mintDiscovery(b, a, wsc, sess, now)
	if err != nil {
		return saml.Attribute{}, err
	}
	epr := p.discoveryEPR(b.addr, tok)
	return saml.Attribute{Name: wsf.DiscoveryEPRAttr, NameFormat: saml.AttrNameFormatURI,
		Values: []saml.AttributeValue{{Elements: []*etree.Element{epr.Element()}}}}, nil
}

// discoveryAddress is the DS's first SOAP endpoint for the service type
// urn:liberty:disco:2006-08, as the metadata lists it now. A DS that is
// not configured, not in the metadata or without such an endpoint is
// ErrNoDiscovery.
func (p *IdP) discoveryAddress(ctx context.Context) (string, error) {
	d := p.cfg.Discovery
	if d == nil {
		return "", Errorf(CodeNoDiscovery, "no Discovery Service configured")
	}
	addrs, err := d.Metadata.Service(ctx, d.EntityID, wsf.ServiceTypeDisco)
	if err != nil {
		return "", Wrap(CodeNoDiscovery, err, "Discovery Service endpoint")
	}
	return addrs[0], nil
}

// discoveryEPR is the DS EPR of IDWSF2 §4.2 and §4.5: Address, and in
// Metadata the Abstract, ProviderID = DS entityID, ServiceType
// urn:liberty:disco:2006-08, sbf:Framework 2.0 and one SecurityContext with
// the mechanisms and the token.
func (p *IdP) discoveryEPR(addr string, tok *etree.Element) *wsf.EPR {
	d := p.cfg.Discovery
	mechs := []string{string(wsf.ClientTLSSAMLV2)}
	if len(d.Mechanisms) > 0 {
		mechs = mechs[:0]
		for _, m := range d.Mechanisms {
			mechs = append(mechs, string(m))
		}
	}
	abstract := d.Abstract
	if abstract == "" {
		abstract = DefaultDiscoveryAbstract
	}
	return &wsf.EPR{Address: addr, Metadata: &wsf.EPRMetadata{
		Abstract: abstract, ProviderID: d.EntityID, ServiceType: wsf.ServiceTypeDisco, Framework: wsf.FrameworkVersion,
		SecurityContexts: []wsf.SecurityContext{{Mechanisms: mechs,
			Tokens: []wsf.Token{{Usage: wsf.UsageSecurityToken, Element: tok}}}},
	}}
}

// BootstrapSession is the IdP session a DS token belongs to; the zero
// value is none.
type BootstrapSession struct {
	// ID is the session's stored ID; when set, the DS joins the session
	// as a participant (SAML Profiles §4.4) and the token's AuthnStatement
	// carries the DS's SessionIndex, by which the DS finds the session in
	// the shared store and sees when it ended.
	ID string
	// End, when set, bounds the token: the session's NotOnOrAfter.
	End time.Time
}

// DiscoveryToken mints the signed token the WSC presents to the Discovery
// Service (IDWSF2 §3.6; ARCHITECTURE "Tokens from the DS") with the
// minter the DS uses for its own tokens (secmech.Minter): Issuer the IdP,
// audience the DS, subject a saml:EncryptedID for the DS holding the
// principal's pairwise persistent NameID there (the federation is created
// as needed), a holder-of-key confirmation bound to wsc, the WSC's metadata
// signing certificate, and the SSO's AuthnStatement, with the DS's
// SessionIndex when sess names a session (the DS then joins it). It lives
// BootstrapLifetime, and no longer than sess.End when that is set. The
// DS's encryption key is read from the metadata now; a DS the metadata
// does not list, or lists without an encryption key, gets no token:
// ErrNoDiscovery.
func (p *IdP) DiscoveryToken(ctx context.Context, a Authn, wsc *x509.Certificate, sess BootstrapSession, now time.Time) (*etree.Element, error) {
	b, err := p.prepareBootstrap(ctx, a.PrincipalID, wsc, now)
	if err != nil {
		return nil, err
	}
	if err := p.joinDiscovery(ctx, b, sess, now); err != nil {
		return nil, err
	}
	return p.mintDiscovery(b, a, wsc, sess, now)
}

// mintDiscovery mints the DS token of b (DiscoveryToken).
func (p *IdP) mintDiscovery(b *bootstrap, a Authn, wsc *x509.Certificate, sess BootstrapSession, now time.Time) (*etree.Element, error) {
	ds := p.cfg.Discovery.EntityID
	tok, err := p.minter().Mint(secmech.TokenRequest{Audience: ds, Target: b.to, NameID: b.nameID,
		Confirmation: secmech.ConfirmHolderOfKey, Invoker: wsc,
		Lifetime: p.cfg.BootstrapLifetime, SessionEnd: sess.End,
		AuthnInstant: a.Instant, AuthnClassRef: a.ClassRef, SessionIndex: b.index}, now)
	if err != nil {
		return nil, mintError(err, ds)
	}
	return tok.Element, nil
}

// discoveryFederationError answers a failure to read or create the
// principal's federation with the DS as the IdP's (Responder): the SP's
// request is not at fault when, say, that federation was terminated.
func discoveryFederationError(err error, ds string) error {
	if CodeOf(err) == CodeInternal {
		return err
	}
	return Wrap(CodeNoDiscovery, err, "federation with "+ds)
}

// minter mints tokens as the IdP: its entityID, its signer. It has no
// Schema of its own: the DS token travels only inside the bootstrap
// assertion, whose check before encryption (checkAssertion) reaches the
// nested token (TestIssueChecksNestedTokenOnce).
func (p *IdP) minter() *secmech.Minter {
	return &secmech.Minter{Issuer: p.cfg.EntityID, Signer: p.signer(), Rand: p.cfg.Rand, Meter: p.cfg.Meter, Kind: wsf.TokenBootstrap}
}

// mintError maps a failure of secmech.Minter: a DS key the token cannot
// be encrypted for means no bootstrap, anything else is the IdP's fault.
func mintError(err error, ds string) error {
	if errors.Is(err, secmech.ErrNoToken) {
		return Wrap(CodeNoDiscovery, err, "token for "+ds)
	}
	return Wrap(CodeInternal, err, "token for "+ds)
}
