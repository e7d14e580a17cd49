package sp

import (
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml/binding"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/store"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
	"github.com/renkei-idwsf/renkei/xmlsec/xmlenc"
	"github.com/renkei-idwsf/renkei/xmlsec/xsd"
)

// Defaults of the zero Config.
const (
	// DefaultSkew is the clock difference tolerated either way, the
	// IdP's own (idp.DefaultSkew).
	DefaultSkew = 3 * time.Minute
	// DefaultRequestLifetime is how long an AuthnRequest or a
	// LogoutRequest may be answered.
	DefaultRequestLifetime = 5 * time.Minute
	// maxDuration bounds Skew and RequestLifetime: beyond an hour a
	// "pending" request is a session of its own.
	maxDuration = time.Hour
)

// Metadata finds an entity as valid at now; *md.Set implements it (the
// operator's aggregate, as wsf/metadir.Metadata).
type Metadata interface {
	Entity(entityID string, now time.Time) (*md.EntityDescriptor, error)
}

// Store keeps what outlives one HTTP exchange, shared by every node of the
// portal: the pending AuthnRequests and LogoutRequests, each taken once
// (store.ArtifactStore), and the IDs of accepted assertions and of the
// IdP's LogoutRequests until they expire (store.ReplayCache).
// store/sqlstore implements it.
type Store interface {
	store.ArtifactStore
	store.ReplayCache
}

// Schema validates an element against the SAML schemas; *xsd.Schema
// implements it.
type Schema interface {
	ValidateElement(el *etree.Element) error
}

var (
	_ Metadata = (*md.Set)(nil)
	_ Schema   = (*xsd.Schema)(nil)
)

// Config is what an SP runs on. Every field is required unless it says
// otherwise; New reports every problem at once.
type Config struct {
	// EntityID is the SP's entityID, as the operator's metadata lists it.
	EntityID string
	// ACSURL is the AssertionConsumerService (HTTP-POST); SLOURL the
	// SingleLogoutService of the front channel (HTTP-Redirect, requests
	// and responses alike); SOAPSLOURL, when not empty, the
	// SingleLogoutService of the back channel (SOAP). All https.
	ACSURL, SLOURL, SOAPSLOURL string
	// ECPACSURL, when not empty, is the AssertionConsumerService of the
	// ECP profile (PAOS binding) of an SP that is its own enhanced
	// client, as the reception terminal is (StartECP, ConsumeECP). An SP
	// with only this one needs neither ACSURL nor SLOURL: it has no
	// browser.
	ECPACSURL string
	// IdP is the entityID of the one IdP the SP trusts, looked up in
	// Metadata at each use, so a key rollover takes effect at the next
	// load of the aggregate.
	IdP      string
	Metadata Metadata
	// Key signs AuthnRequests and LogoutRequests (HTTP-Redirect query
	// signatures) and the LogoutResponses; Certificate is its metadata
	// certificate.
	Key         crypto.Signer
	Certificate *x509.Certificate
	// Decrypter holds the SP's RSA encryption key, for EncryptedAssertion
	// and EncryptedID; EncryptionCertificate is its metadata certificate.
	// Its EntityID, when empty, is taken to be EntityID.
	Decrypter             *xmlenc.Decrypter
	EncryptionCertificate *x509.Certificate
	Store                 Store
	// Schema validates every message received and sent.
	Schema Schema
	// Now is the clock, read once per call; nil means time.Now. Rand is
	// the randomness of message IDs and ECDSA signatures; nil means
	// crypto/rand.
	Now  func() time.Time
	Rand io.Reader
	// Skew is the clock difference tolerated either way; 0 means
	// DefaultSkew. RequestLifetime is how long a request may be answered;
	// 0 means DefaultRequestLifetime.
	Skew, RequestLifetime time.Duration
	// AllowPlainAssertions accepts a signed saml:Assertion that is not
	// encrypted, for an IdP that cannot encrypt. By default it is refused
	// (ErrUnencrypted): this SP's metadata lists an encryption key and asks
	// for the discovery bootstrap, which Renkei's IdP always encrypts
	// (ARCHITECTURE "Tokens from the DS"), so a plain assertion comes from
	// an IdP that ignored the metadata, and has shown the citizen's
	// pseudonym and DS token to the browser and its extensions.
	AllowPlainAssertions bool
	// Names are the md:ServiceName of the metadata's
	// AttributeConsumingService; nil means the entityID, in English.
	Names []md.Localized
}

// SP is the SAML 2.0 Service Provider engine. It is safe for concurrent
// use: its state is in the Store.
type SP struct {
	cfg       Config
	decrypter xmlenc.Decrypter
	signer    *dsig.Signer
	redirect  *binding.RedirectSigner
}

// New returns the SP of cfg, or every problem of cfg at once.
func New(cfg Config) (*SP, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Skew == 0 {
		cfg.Skew = DefaultSkew
	}
	if cfg.RequestLifetime == 0 {
		cfg.RequestLifetime = DefaultRequestLifetime
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &SP{cfg: cfg, decrypter: *cfg.Decrypter,
		signer:   &dsig.Signer{Key: cfg.Key, Certificates: []*x509.Certificate{cfg.Certificate}, Rand: cfg.Rand},
		redirect: &binding.RedirectSigner{Key: cfg.Key, Rand: cfg.Rand}}
	if s.decrypter.EntityID == "" {
		s.decrypter.EntityID = cfg.EntityID
	}
	return s, nil
}

// Validate reports every problem of c at once.
func (c *Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf("sp config: "+format, args...)) }
	if c.EntityID == "" || c.IdP == "" {
		add("EntityID and IdP are required")
	}
	for _, u := range []struct {
		name, url string
		optional  bool
	}{{"ACSURL", c.ACSURL, c.ECPACSURL != ""}, {"SLOURL", c.SLOURL, c.ACSURL == "" && c.ECPACSURL != ""},
		{"SOAPSLOURL", c.SOAPSLOURL, true}, {"ECPACSURL", c.ECPACSURL, true}} {
		if (u.url != "" || !u.optional) && !isHTTPS(u.url) {
			add("%s %q is not an absolute https URL", u.name, u.url)
		}
	}
	if c.Metadata == nil || c.Store == nil || c.Schema == nil {
		add("Metadata, Store and Schema are required")
	}
	errs = append(errs, c.validateKeys()...)
	for _, d := range []struct {
		name string
		d    time.Duration
	}{{"Skew", c.Skew}, {"RequestLifetime", c.RequestLifetime}} {
		if d.d < 0 || d.d > maxDuration {
			add("%s %v is out of range (0 to %v)", d.name, d.d, maxDuration)
		}
	}
	return errors.Join(errs...)
}

// validateKeys checks that each key has its certificate and that the
// signing key is one the strict policy accepts.
func (c *Config) validateKeys() []error {
	var errs []error
	switch {
	case c.Key == nil || c.Certificate == nil:
		errs = append(errs, errors.New("sp config: Key and Certificate are required"))
	case !samePublic(c.Key.Public(), c.Certificate.PublicKey):
		errs = append(errs, errors.New("sp config: Certificate does not certify Key"))
	default:
		m, err := xmlsec.DefaultSignatureMethod(c.Key.Public())
		if err == nil {
			err = xmlsec.Policy{}.CheckKey(m, c.Key.Public())
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("sp config: signing key: %w", err))
		}
	}
	switch {
	case c.Decrypter == nil || c.Decrypter.Key == nil || c.EncryptionCertificate == nil:
		errs = append(errs, errors.New("sp config: Decrypter with a Key, and EncryptionCertificate, are required"))
	case !samePublic(c.Decrypter.Key.Public(), c.EncryptionCertificate.PublicKey):
		errs = append(errs, errors.New("sp config: EncryptionCertificate does not certify the Decrypter's key"))
	default:
		if _, ok := c.EncryptionCertificate.PublicKey.(*rsa.PublicKey); !ok {
			errs = append(errs, errors.New("sp config: the encryption key must be RSA (RSA-OAEP key transport)"))
		}
		if id := c.Decrypter.EntityID; id != "" && id != c.EntityID {
			errs = append(errs, fmt.Errorf("sp config: Decrypter.EntityID %q is not EntityID", id))
		}
	}
	return errs
}

func samePublic(a, b crypto.PublicKey) bool {
	e, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && e.Equal(b)
}

func isHTTPS(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Scheme == "https" && u.Host != "" && u.Opaque == ""
}

// now reads the clock once for a call.
func (s *SP) now() time.Time { return s.cfg.Now().UTC() }

// idp returns the IdP's SAML 2.0 descriptor as the metadata has it at now.
func (s *SP) idp(now time.Time) (*md.IDPSSODescriptor, error) {
	e, err := s.cfg.Metadata.Entity(s.cfg.IdP, now)
	if err != nil {
		return nil, wrap(KindMetadata, err, s.cfg.IdP)
	}
	d, err := e.IDP()
	if err != nil {
		return nil, wrap(KindMetadata, err, s.cfg.IdP)
	}
	return d, nil
}

// verifier checks XML signatures with the IdP's signing keys from
// metadata under the strict policy: no SHA-1, RSA of 2048 bits or more.
func verifier(d *md.IDPSSODescriptor) *dsig.Verifier {
	return &dsig.Verifier{Trust: d.TrustSet()}
}
