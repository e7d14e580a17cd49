package discovery

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/store"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
	"github.com/renkei-idwsf/renkei/xmlsec/xmlenc"
)

// Store is what the Discovery Service keeps in the relay database: the
// federations it shares with the IdP, the registered SvcMDs, the
// associations, the audit log, and the pending consent transactions
// (kept as one-time artifacts), and the IdP's sessions, which the DS reads
// to refuse the tokens of an ended session and joins for each WSP it mints
// a token for (SAML Profiles §4.4).
type Store interface {
	store.FederationStore
	store.SessionStore
	store.SvcMDStore
	store.AssociationStore
	store.AuditLog
	store.ArtifactStore
}

// Providers is what the DS needs from the metadata aggregate beyond the
// wsf.Directory of its receiver: each WSP's encryption key.
type Providers interface {
	// Recipient returns the provider's encryption key and methods; an
	// error when it has none (no token is minted for it).
	Recipient(ctx context.Context, entityID string) (xmlenc.Recipient, error)
}

// Config configures the Discovery Service. Time and randomness are fields:
// nil Now means time.Now, nil Rand crypto/rand.
type Config struct {
	// EntityID is the DS's entityID: the audience of the IdP's DS tokens
	// and the SPNameQualifier of the NameIDs they carry.
	EntityID string
	// NameQualifier is the IdP's entityID, which qualifies every pairwise
	// NameID of the federation table the IdP and the DS share.
	NameQualifier string
	// Signer signs the tokens with the DS's metadata signing key.
	Signer *dsig.Signer
	// SigningKeys are the DS's signing key descriptors
	// (md:KeyDescriptor elements), returned in SvcMDRegisterResponse's
	// disco:Keys so that a WSP learns which key signs its tokens.
	SigningKeys []*etree.Element
	Store       Store
	Providers   Providers
	Policy      Policy
	// AuditURL is the SOAP endpoint of the DS's audit service (usually
	// the Discovery endpoint itself: operations are told apart by
	// wsa:Action); "" means the DS offers none.
	AuditURL string
	// ConsentURL is the consent page's address (consent_http.go); ""
	// means the DS has none and answers InteractionRequired.
	ConsentURL string
	// Schema, when set, validates every minted token before it leaves.
	Schema interface {
		ValidateElement(el *etree.Element) error
	}
	// Meter, when set, counts the tokens minted and their signatures
	// (metrics only).
	Meter wsf.Meter
	Now   func() time.Time
	Rand  io.Reader
}

// Policy is the DS's federation policy.
type Policy struct {
	// Mechanisms are those the DS mints tokens for, in its order of
	// preference; nil means DefaultMechanisms. TLS:Bearer is used only
	// for a WSC whose peer profile allows it.
	Mechanisms []wsf.Mechanism
	// TokenLifetime bounds each minted token; 0 means DefaultTokenLifetime.
	// The invoking DS token's end bounds it too.
	TokenLifetime time.Duration
	// EncryptBearer mints bearer tokens as saml:EncryptedAssertion, as
	// ZXID's DS does; holder-of-key tokens are never encrypted.
	EncryptBearer bool
	// Portals are the WSCs that collect the citizen's consent (the
	// portal's linked-institutions page): they may add and delete any
	// association of the principal their token names. A WSP may add and
	// delete associations with its own SvcMDs (enrolment).
	Portals []string
	// Reception is the reception-desk rule.
	Reception Reception
}

// Reception is the reception-desk rule: a registered reception terminal
// presenting a DS token from a card login younger than MaxAge may
// discover, for a purpose Purposes lists, the listed service types at the
// institutions the principal is linked with, without an association. The
// card's presence is the consent.
type Reception struct {
	// Terminals are the entityIDs of the reception terminals.
	Terminals []string
	// MaxAge bounds the age of the card login; 0 means DefaultReceptionAge.
	MaxAge time.Duration
	// Purposes maps a purpose URI (sb:UsageDirective, wsf.Purpose) to the
	// service types it allows.
	Purposes map[string][]string
	// AuthnClasses are the AuthnContextClassRefs that prove a card login;
	// nil means SmartcardPKI.
	AuthnClasses []string
}

// Defaults of the zero fields.
const (
	DefaultTokenLifetime = 10 * time.Minute
	DefaultReceptionAge  = 120 * time.Second
	// ConsentLifetime is how long a consent transaction waits for the
	// card holder.
	ConsentLifetime = 10 * time.Minute
)

// DefaultMechanisms are the mechanisms tokens are minted for when the
// policy names none: the holder-of-key ones of ARCHITECTURE "Security
// mechanism per hop", then TLS:Bearer for the peers that enable it.
func DefaultMechanisms() []wsf.Mechanism {
	return []wsf.Mechanism{wsf.ClientTLSSAMLV2, wsf.ClientTLSPeerSAMLV2, wsf.TLSSAMLV2, wsf.TLSBearer}
}

// Validate reports every missing or inconsistent field at once.
func (c *Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.EntityID == "" {
		add("EntityID is required")
	}
	if c.NameQualifier == "" {
		add("NameQualifier (the IdP's entityID) is required")
	}
	if c.Signer == nil {
		add("Signer is required: tokens are signed")
	}
	if c.Store == nil {
		add("Store is required")
	}
	if c.Providers == nil {
		add("Providers is required")
	}
	for _, m := range c.Policy.Mechanisms {
		info, ok := m.Info()
		if !ok || info.Token == wsf.NoToken {
			add("policy mechanism %q is not a token mechanism Renkei implements", m)
		}
	}
	if c.Policy.TokenLifetime < 0 || c.Policy.Reception.MaxAge < 0 {
		add("lifetimes must not be negative")
	}
	for p, types := range c.Policy.Reception.Purposes {
		if p == "" || len(types) == 0 {
			add("reception purpose %q needs a URI and service types", p)
		}
	}
	return errors.Join(errs...)
}

func (c *Config) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (p *Policy) mechanisms() []wsf.Mechanism {
	if len(p.Mechanisms) == 0 {
		return DefaultMechanisms()
	}
	return p.Mechanisms
}

func (p *Policy) tokenLifetime() time.Duration {
	if p.TokenLifetime <= 0 {
		return DefaultTokenLifetime
	}
	return p.TokenLifetime
}

func (r *Reception) maxAge() time.Duration {
	if r.MaxAge <= 0 {
		return DefaultReceptionAge
	}
	return r.MaxAge
}
