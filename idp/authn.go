package idp

import (
	"context"
	"crypto/x509"
	"errors"
	"time"

	"github.com/renkei-idwsf/renkei/card/trust"
	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/store"
)

// Authn is a successful authentication: who, with which card or
// certificate, how (the AuthnContextClassRef, SAML2.md §12) and when.
type Authn struct {
	PrincipalID string
	// CardNumber is the registered card's number; for a soft certificate
	// it is the number its registration was given.
	CardNumber  string
	ClassRef    string // saml.ACSmartcardPKI or saml.ACX509
	Instant     time.Time
	Certificate *x509.Certificate
}

// AuthenticateCertificate authenticates the peer certificates of a TLS
// connection at now (ARCHITECTURE "Card login"): the leaf must chain to
// the card-issuer CA, be valid at now and absent from the issuer's current
// CRL (card/trust), and belong to a registered, unrevoked card; that gives
// AuthnContext SmartcardPKI. A certificate from a soft CA instead gives
// X509. Certificates the client sent besides the leaf are ignored: chains
// are built from the configured CAs only. Every refusal is a typed *Error
// (ErrNoCertificate, ErrCertExpired, ErrCertRevoked, ErrForeignIssuer,
// ErrUnknownCard, ...).
func (p *IdP) AuthenticateCertificate(ctx context.Context, peer []*x509.Certificate, now time.Time) (Authn, error) {
	if len(peer) == 0 || peer[0] == nil {
		return Authn{}, Errorf(CodeNoCertificate, "the TLS handshake carried no client certificate")
	}
	leaf := peer[0]
	class, err := p.classify(ctx, leaf, now)
	if err != nil {
		return Authn{}, err
	}
	c, err := p.registeredCard(ctx, leaf, class)
	if err != nil {
		return Authn{}, err
	}
	return Authn{PrincipalID: c.PrincipalID, CardNumber: c.Number, ClassRef: class, Instant: now, Certificate: leaf}, nil
}

// classify verifies leaf against the card-issuer CA, then, for a foreign
// issuer, against the soft CAs, and returns the authentication class its
// issuer earns.
func (p *IdP) classify(ctx context.Context, leaf *x509.Certificate, now time.Time) (string, error) {
	card := *p.cfg.CardTrust
	card.Now = func() time.Time { return now }
	softCRLs := p.cfg.SoftCRLs
	if p.cfg.RevocationLists != nil {
		card.CRLs, softCRLs = p.cfg.RevocationLists()
	}
	_, err := card.VerifyContext(ctx, leaf)
	if err == nil {
		return saml.ACSmartcardPKI, nil
	}
	if !errors.Is(err, trust.ErrForeignIssuer) || len(p.cfg.SoftCAs) == 0 {
		return "", trustError(err)
	}
	if _, err := p.softVerifier(now, softCRLs).Verify(leaf); err != nil {
		return "", trustError(err)
	}
	return saml.ACX509, nil
}

func (p *IdP) softVerifier(now time.Time, crls []*x509.RevocationList) *trust.Verifier {
	roots := x509.NewCertPool()
	for _, c := range p.cfg.SoftCAs {
		roots.AddCert(c)
	}
	return &trust.Verifier{Roots: roots, CRLs: crls, AllowMissingCRL: true,
		Now: func() time.Time { return now }}
}

// trustErrors maps card/trust's refusals to the engine's codes.
var trustErrors = []struct {
	err  error
	code Code
}{
	{trust.ErrExpired, CodeCertExpired},
	{trust.ErrNotYetValid, CodeCertNotYetValid},
	{trust.ErrRevoked, CodeCertRevoked},
	{trust.ErrForeignIssuer, CodeForeignIssuer},
	{trust.ErrUsage, CodeCertUsage},
	{trust.ErrNoCRL, CodeRevocationUnavailable},
	{trust.ErrBadCRL, CodeRevocationUnavailable},
}

func trustError(err error) error {
	for _, t := range trustErrors {
		if errors.Is(err, t.err) {
			return Wrap(t.code, err, "")
		}
	}
	return Wrap(CodeInternal, err, "certificate check")
}

// registeredCard finds the registered card that holds leaf. A card
// certificate must be the one registered for the card number it carries
// (trust.CardNumber); after a reissue the old certificate no longer
// matches, and the registry's revocation counts even before the CRL
// says so. A soft certificate is found by issuer and serial alone.
func (p *IdP) registeredCard(ctx context.Context, leaf *x509.Certificate, class string) (store.Card, error) {
	issuer, serial := leaf.Issuer.String(), leaf.SerialNumber.String()
	c, err := p.cfg.Cards.CardByCertificate(ctx, issuer, serial)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.Card{}, p.unregistered(ctx, leaf, class)
	case err != nil:
		return store.Card{}, Wrap(CodeInternal, err, "card lookup")
	case class == saml.ACSmartcardPKI && c.Number != trust.CardNumber(leaf):
		return store.Card{}, Errorf(CodeUnknownCard, "certificate of card %q registered as card %q", trust.CardNumber(leaf), c.Number)
	case c.Status != store.CardIssued:
		return store.Card{}, Errorf(CodeCertRevoked, "card %q revoked in the registry at %s", c.Number, c.Revoked.Format(time.RFC3339))
	}
	return c, nil
}

// unregistered explains why no card holds leaf: a known card number with
// another certificate (the card was reissued or the certificate replaced),
// or nothing at all.
func (p *IdP) unregistered(ctx context.Context, leaf *x509.Certificate, class string) error {
	num := trust.CardNumber(leaf)
	if class != saml.ACSmartcardPKI || num == "" {
		return Errorf(CodeUnknownCard, "certificate %s of %q is not registered", leaf.SerialNumber, leaf.Issuer)
	}
	c, err := p.cfg.Cards.Card(ctx, num)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return Errorf(CodeUnknownCard, "card %q is not registered", num)
	case err != nil:
		return Wrap(CodeInternal, err, "card lookup")
	case c.Status == store.CardRevoked:
		return Errorf(CodeCertRevoked, "card %q revoked in the registry", num)
	}
	return Errorf(CodeUnknownCard, "card %q is registered with another certificate (serial %s)", num, c.CertSerial)
}
