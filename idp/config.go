package idp

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/renkei-idwsf/renkei/card/trust"
	"github.com/renkei-idwsf/renkei/store"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/xmlsec/xmlenc"
)

// Defaults of the zero Config lifetimes.
const (
	// DefaultAssertionLifetime bounds an SSO assertion and its bearer
	// confirmation: minutes (SAML2.md §3.2).
	DefaultAssertionLifetime = 5 * time.Minute
	// DefaultSessionLifetime is how long an IdP session lasts.
	DefaultSessionLifetime = 8 * time.Hour
	// DefaultBootstrapLifetime bounds the Discovery Service token of the
	// bootstrap (IDWSF2 §3.6: short, minutes to hours).
	DefaultBootstrapLifetime = 2 * time.Hour
	// MaxLifetime is the longest lifetime any request may ask for.
	MaxLifetime = 24 * time.Hour
)

// Config is what an IdP runs on. Time, randomness and keys are fields: nil
// Now means time.Now, nil Rand crypto/rand.
type Config struct {
	// EntityID is the IdP's SAML entityID: the Issuer of its assertions and
	// the NameQualifier of its name identifiers.
	EntityID string
	// SigningKey signs assertions. SigningCerts are the certificates the
	// metadata publishes, the one of SigningKey first; during a key
	// rollover a second one is listed (and trusted by peers) but only the
	// first signs.
	SigningKey   crypto.Signer
	SigningCerts []*x509.Certificate
	// EncryptionKey decrypts what SPs encrypt for the IdP (NewEncryptedID,
	// EncryptedID in requests); optional.
	EncryptionKey crypto.Decrypter

	// Cards finds the card behind a login certificate, Federations is the
	// relay database and Sessions keeps IdP sessions.
	Cards       store.CardReader
	Federations store.FederationStore
	Sessions    store.SessionStore

	// CardTrust checks card certificates: chain to the card-issuer CA,
	// validity, OCSP when its OCSP is set, CRL (card/trust). Its Now is
	// replaced by the request's now; the request's context bounds OCSP.
	CardTrust *trust.Verifier
	// SoftCAs issue the soft (demo PKCS#12) client certificates, which
	// authenticate with AuthnContext X509, never SmartcardPKI; SoftCRLs are
	// their optional revocation lists. Nil refuses every soft certificate.
	SoftCAs  []*x509.Certificate
	SoftCRLs []*x509.RevocationList
	// RevocationLists, when set, is asked at every certificate login for
	// the current CRLs of the card issuers and of the soft CAs, in place of
	// CardTrust.CRLs and SoftCRLs, so that an operator's new CRL takes
	// effect without a restart (renkei-idp reloads its CRL files).
	RevocationLists func() (card, soft []*x509.RevocationList)

	// Discovery is the Discovery Service the bootstrap points to; nil
	// means no assertion carries a bootstrap.
	Discovery *Discovery

	// Attributes, when set, releases attributes in assertions and to
	// AttributeQuery by its per-SP policy; nil releases none.
	Attributes *AttributeRelease

	// Schema, when set, validates each assertion the IdP encrypts, with
	// the DS token nested in its bootstrap, before encryption, so that
	// nothing schema-invalid leaves inside ciphertext the IdP's own
	// Response check cannot see (a plain assertion is checked as part of
	// that Response). renkei-idp sets it with its
	// checkOutgoing option, as the tests do: the check costs about a tenth
	// of signing the same assertion with RSA-2048 (BenchmarkIssueSchema,
	// validate-x-sign 0.11), more than the signature itself with P-256.
	Schema Validator

	// Meter, when set, counts the assertions and responses signed and the
	// bootstrap's DS tokens minted (metrics only).
	Meter wsf.Meter

	Now  func() time.Time
	Rand io.Reader

	// Lifetimes; zero takes the Default* constant.
	AssertionLifetime time.Duration
	SessionLifetime   time.Duration
	BootstrapLifetime time.Duration
}

// Discovery names the Discovery Service of the bootstrap EPR (IDWSF2
// §4.5). Its address and encryption key are not configured here: they are
// read from the metadata aggregate each time a token is minted, so that a
// DS key rollover in the aggregate is picked up without a restart.
type Discovery struct {
	EntityID string
	// Abstract is the EPR's human-readable description; "" gives a default.
	Abstract string
	// Mechanisms are the SecurityMechIDs of the EPR's SecurityContext;
	// nil means ClientTLS:SAMLV2 alone.
	Mechanisms []wsf.Mechanism
	// Metadata finds the DS in the aggregate: its SOAP endpoint for the
	// EPR's wsa:Address and its encryption key for the token's
	// EncryptedID. A DS it does not list, or lists without an encryption
	// key or a SOAP endpoint, gets no token, so no bootstrap is issued
	// (ARCHITECTURE "Tokens from the DS").
	Metadata DiscoveryMetadata
}

// DiscoveryMetadata finds the Discovery Service in the metadata
// aggregate; *metadir.Directory (wsf/metadir) implements it.
type DiscoveryMetadata interface {
	// Recipient returns the entity's encryption key and methods.
	Recipient(ctx context.Context, entityID string) (xmlenc.Recipient, error)
	// Service returns the SOAP endpoints of the entity's ID-WSF role
	// offering serviceType.
	Service(ctx context.Context, entityID, serviceType string) ([]string, error)
}

// Validate reports every problem of c at once.
func (c *Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf("idp config: "+format, args...)) }
	if c.EntityID == "" {
		add("EntityID is empty")
	}
	errs = append(errs, c.validateKeys()...)
	if c.Cards == nil || c.Federations == nil || c.Sessions == nil {
		add("Cards, Federations and Sessions stores are all required")
	}
	if c.CardTrust == nil || c.CardTrust.Roots == nil {
		add("CardTrust with the card-issuer CA roots is required")
	}
	for name, d := range map[string]time.Duration{"AssertionLifetime": c.AssertionLifetime,
		"SessionLifetime": c.SessionLifetime, "BootstrapLifetime": c.BootstrapLifetime} {
		if d < 0 || d > MaxLifetime {
			add("%s %v is outside [0, %v]", name, d, MaxLifetime)
		}
	}
	if c.Discovery != nil {
		errs = append(errs, c.Discovery.validate()...)
	}
	if c.Attributes != nil {
		errs = append(errs, c.Attributes.validate()...)
	}
	return errors.Join(errs...)
}

func (c *Config) validateKeys() []error {
	var errs []error
	switch {
	case c.SigningKey == nil:
		errs = append(errs, errors.New("idp config: SigningKey is required"))
	case len(c.SigningCerts) == 0:
		errs = append(errs, errors.New("idp config: SigningCerts is empty"))
	case !samePublicKey(c.SigningKey.Public(), c.SigningCerts[0].PublicKey):
		errs = append(errs, errors.New("idp config: SigningCerts[0] is not the certificate of SigningKey"))
	}
	if len(c.SigningCerts) > 2 {
		errs = append(errs, fmt.Errorf("idp config: %d SigningCerts; at most two (a rollover)", len(c.SigningCerts)))
	}
	if c.EncryptionKey != nil {
		if _, ok := c.EncryptionKey.Public().(*rsa.PublicKey); !ok {
			errs = append(errs, errors.New("idp config: EncryptionKey must be RSA (XML Encryption key transport)"))
		}
	}
	return errs
}

func (d *Discovery) validate() []error {
	var errs []error
	if d.EntityID == "" || d.Metadata == nil {
		errs = append(errs, errors.New("idp config: Discovery needs EntityID and Metadata"))
	}
	for _, m := range d.Mechanisms {
		if _, ok := wsf.ParseMechanism(string(m)); !ok {
			errs = append(errs, fmt.Errorf("idp config: Discovery mechanism %q not implemented", m))
		}
	}
	return errs
}

func samePublicKey(a, b crypto.PublicKey) bool {
	e, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && e.Equal(b)
}

// IdP is the engine. It is safe for concurrent use.
type IdP struct {
	cfg Config
}

// New returns an IdP for cfg, or every problem of cfg at once.
func New(cfg Config) (*IdP, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.AssertionLifetime == 0 {
		cfg.AssertionLifetime = DefaultAssertionLifetime
	}
	if cfg.SessionLifetime == 0 {
		cfg.SessionLifetime = DefaultSessionLifetime
	}
	if cfg.BootstrapLifetime == 0 {
		cfg.BootstrapLifetime = DefaultBootstrapLifetime
	}
	return &IdP{cfg: cfg}, nil
}

// EntityID returns the IdP's entityID.
func (p *IdP) EntityID() string { return p.cfg.EntityID }

// Now reads the configured clock: callers read it once per request and
// pass the value down.
func (p *IdP) Now() time.Time {
	if p.cfg.Now != nil {
		return p.cfg.Now().UTC()
	}
	return time.Now().UTC()
}

func (p *IdP) rand() io.Reader {
	if p.cfg.Rand != nil {
		return p.cfg.Rand
	}
	return rand.Reader
}
