package idp

import (
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/store"
)

// Defaults of the zero SSOConfig durations.
const (
	// DefaultSkew is the clock difference tolerated on a request's
	// IssueInstant.
	DefaultSkew = 3 * time.Minute
	// DefaultECPLifetime caps the assertions of the reception terminal
	// (ARCHITECTURE "Reception terminal": at most 120 s).
	DefaultECPLifetime = 120 * time.Second
	// DefaultPendingLifetime is how long a pending AuthnRequest waits for
	// the card login.
	DefaultPendingLifetime = 10 * time.Minute
)

// Metadata finds a peer's metadata; *md.Set implements it.
type Metadata interface {
	Entity(entityID string, now time.Time) (*md.EntityDescriptor, error)
}

// Validator schema-checks a message; *xsd.Schema implements it.
type Validator interface {
	ValidateElement(el *etree.Element) error
}

// SPQuirks relax the strict defaults for one SP.
type SPQuirks struct {
	// AllowSHA1 accepts rsa-sha1 and sha1 digests on its requests.
	AllowSHA1 bool
	// SignResponse signs the Response even around a plain signed
	// assertion, for an SP whose policy demands the Response's own
	// signature (Lasso's verify hint "force"); SAML Profiles §4.1.3.5 lets
	// either signature do, and it costs one more signature per SSO.
	SignResponse bool
	// AllowHTTPACS lets the Response go to an http ACS its metadata lists,
	// for test labs; by default only https ACS URLs are answered.
	AllowHTTPACS bool
}

// SSOConfig is what the Web SSO profile runs on, besides the IdP core.
type SSOConfig struct {
	// Metadata holds every SP the IdP answers (the operator's aggregate).
	Metadata Metadata
	// Replay remembers request IDs (store.ReplayRequestID); Pending keeps
	// the AuthnRequests waiting for a card login, shared by every node.
	Replay  store.ReplayCache
	Pending store.ArtifactStore
	// Schema validates every incoming message, and the outgoing ones
	// (SLO, ManageNameID, metadata) except as CheckOutgoing says.
	Schema Validator
	// CheckOutgoing also validates each Web SSO Response before it
	// leaves. The IdP builds it from typed values, so the check finds
	// only a bug of the IdP, and the tests run with it on (every shape
	// the IdP sends is checked there); off, a login is spared a schema
	// pass over the whole Response, about a tenth of its CPU with P-256
	// keys (cmd/renkei-idp BenchmarkLogin).
	CheckOutgoing bool
	// SSOURL is the Redirect and POST SingleSignOnService, ECPURL the SOAP
	// one on the card listener, LoginURL the card-login page: the
	// Destination each request must carry, and where browsers go.
	SSOURL, ECPURL, LoginURL string
	// SLOURL is the Redirect and POST SingleLogoutService, SLOSOAPURL the
	// SOAP one (slo.go); "" publishes none.
	SLOURL, SLOSOAPURL string
	// WantAuthnRequestsSigned is the IdP's metadata flag: every request
	// must be signed (SAML2.md §3.1 item 2).
	WantAuthnRequestsSigned bool
	// Quirks are per-SP relaxations, by entityID.
	Quirks map[string]SPQuirks
	// IdPInitiated lists the SPs that accept unsolicited responses
	// (SAML2.md §3.4: often disabled by SPs against CSRF, so opt-in).
	IdPInitiated []string
	// EncryptionCert is the certificate of Config.EncryptionKey, for the
	// metadata; nil publishes no encryption key.
	EncryptionCert *x509.Certificate
	// NIM is the Name Identifier Management profile; its zero value is off.
	NIM NIMConfig
	// Artifact is the HTTP-Artifact binding of responses and the
	// ArtifactResolutionService; its zero value is off.
	Artifact ArtifactConfig
	// AttributeServiceURL is the SOAP AttributeService of the IdP's
	// attribute authority (attrquery.go); "" publishes and serves none.
	AttributeServiceURL string
	// NameIDMapping is the NameIDMappingService (nimap.go); its zero
	// value is off.
	NameIDMapping NameIDMappingConfig
	// Durations; zero takes the Default* constant.
	Skew            time.Duration
	ECPLifetime     time.Duration
	PendingLifetime time.Duration
	// MetadataValidity is the served metadata's validUntil from now, and
	// MetadataCache its cacheDuration; zero takes a day and an hour.
	MetadataValidity, MetadataCache time.Duration
}

// SSO is the Web Browser SSO and ECP engine (SAML Profiles §4.1, §4.2)
// over the IdP core. It is safe for concurrent use.
type SSO struct {
	p    *IdP
	cfg  SSOConfig
	soap *soapClient // the IdP-initiated ManageNameIDRequests
}

// NewSSO returns the SSO engine, or every problem of cfg at once.
func NewSSO(p *IdP, cfg SSOConfig) (*SSO, error) {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf("sso config: "+format, args...)) }
	if p == nil {
		add("no IdP")
	}
	if cfg.Metadata == nil || cfg.Replay == nil || cfg.Pending == nil || cfg.Schema == nil {
		add("Metadata, Replay, Pending and Schema are all required")
	}
	if cfg.SSOURL == "" || cfg.ECPURL == "" || cfg.LoginURL == "" {
		add("SSOURL, ECPURL and LoginURL are all required")
	}
	for name, d := range map[string]time.Duration{"Skew": cfg.Skew, "ECPLifetime": cfg.ECPLifetime,
		"PendingLifetime": cfg.PendingLifetime, "MetadataValidity": cfg.MetadataValidity, "MetadataCache": cfg.MetadataCache} {
		if d < 0 || d > MaxLifetime*30 {
			add("%s %v is out of range", name, d)
		}
	}
	errs = append(errs, cfg.NIM.validate()...)
	errs = append(errs, cfg.Artifact.validate()...)
	errs = append(errs, cfg.NameIDMapping.validate()...)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	cfg.Skew = orDefault(cfg.Skew, DefaultSkew)
	cfg.ECPLifetime = orDefault(cfg.ECPLifetime, DefaultECPLifetime)
	cfg.PendingLifetime = orDefault(cfg.PendingLifetime, DefaultPendingLifetime)
	cfg.MetadataValidity = orDefault(cfg.MetadataValidity, 24*time.Hour)
	cfg.MetadataCache = orDefault(cfg.MetadataCache, time.Hour)
	s := &SSO{p: p, cfg: cfg}
	s.soap = newSOAPClient(cfg.NIM.Client, NIMClientTimeout, s.envelopeBytes)
	return s, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// IdP returns the core the engine runs on.
func (s *SSO) IdP() *IdP { return s.p }

func (s *SSO) quirks(sp string) SPQuirks { return s.cfg.Quirks[sp] }

func (s *SSO) allowsIdPInitiated(sp string) bool { return slices.Contains(s.cfg.IdPInitiated, sp) }

// checkResponse validates an outgoing Response when CheckOutgoing is on.
func (s *SSO) checkResponse(el *etree.Element) error {
	if !s.cfg.CheckOutgoing {
		return nil
	}
	if err := s.cfg.Schema.ValidateElement(el); err != nil {
		return Wrap(CodeInternal, err, "outgoing response is not schema-valid")
	}
	return nil
}
