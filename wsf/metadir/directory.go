package metadir

import (
	"context"
	"crypto/x509"
	"errors"
	"slices"
	"time"

	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/xmlenc"
)

// Metadata finds an entity as valid at now; *md.Set implements it.
type Metadata interface {
	Entity(entityID string, now time.Time) (*md.EntityDescriptor, error)
}

// Config configures a Directory.
type Config struct {
	// Metadata is the operator's aggregate, loaded and refreshed by its
	// owner (*md.Set).
	Metadata Metadata
	// Issuers are the entityIDs whose signed assertions are accepted as
	// ID-WSF tokens (IDWSF2 §3.4 items 3-4): the IdP and the DS itself at
	// the Discovery Service, the DS at a WSP. Listed, never inferred.
	Issuers []string
	// Profiles relax IDWSF2 §11 items per peer; a peer not listed is
	// strict.
	Profiles map[string]wsf.Profile
	// Now is the clock liveness is judged by; nil means time.Now.
	Now func() time.Time
}

// Directory is the trust directory over the metadata aggregate. It holds
// no copy of the metadata: every call reads the entity as the set has it
// now, so a key rollover in the aggregate takes effect at its next load.
// It is safe for concurrent use.
type Directory struct {
	cfg     Config
	issuers map[string]bool
}

var _ wsf.Directory = (*Directory)(nil)

// New returns the directory of cfg; Metadata is required.
func New(cfg Config) (*Directory, error) {
	if cfg.Metadata == nil {
		return nil, errors.New("metadir: no metadata")
	}
	d := &Directory{cfg: cfg, issuers: make(map[string]bool, len(cfg.Issuers))}
	for _, id := range cfg.Issuers {
		d.issuers[id] = true
	}
	return d, nil
}

func (d *Directory) now() time.Time {
	if d.cfg.Now != nil {
		return d.cfg.Now()
	}
	return time.Now()
}

// entity reads entityID at the directory's now. An entity the aggregate
// does not list, or lists no longer (validUntil passed), is
// ProviderIDNotValid wrapping md's ErrNotFound or ErrExpired.
func (d *Directory) entity(entityID string) (*md.EntityDescriptor, error) {
	e, err := d.cfg.Metadata.Entity(entityID, d.now())
	if err != nil {
		return nil, wsf.Wrap(wsf.ProviderIDNotValid, err, entityID+" is not in the metadata")
	}
	return e, nil
}

// Peer returns the peer entityID (wsf.Directory): its keys are the
// signing certificates of every live role of the entity, TokenIssuer is
// set only for a configured issuer, and Profile is the configured one.
// An entity the aggregate does not list, or whose validity has ended, is
// an error matching wsf.ErrProviderIDNotValid.
func (d *Directory) Peer(_ context.Context, entityID string) (*wsf.Peer, error) {
	e, err := d.entity(entityID)
	if err != nil {
		return nil, err
	}
	return &wsf.Peer{EntityID: entityID, Keys: xmlsec.NewTrustSet(signingCertificates(e)),
		TokenIssuer: d.issuers[entityID], Profile: d.cfg.Profiles[entityID]}, nil
}

// roles lists every role of e: the ID-WSF web service roles first, then
// the SP and IdP roles, then any other.
func roles(e *md.EntityDescriptor) []*md.Role {
	var ws, rest []*md.Role
	for _, r := range e.Roles {
		if IsWebService(r) {
			ws = append(ws, &r.Role)
		} else {
			rest = append(rest, &r.Role)
		}
	}
	for _, r := range e.SPSSO {
		ws = append(ws, &r.Role)
	}
	for _, r := range e.IDPSSO {
		ws = append(ws, &r.Role)
	}
	return append(ws, rest...)
}

// signingCertificates gathers the signing certificates of every role of
// e, each once.
func signingCertificates(e *md.EntityDescriptor) []*x509.Certificate {
	var out []*x509.Certificate
	for _, r := range roles(e) {
		for _, c := range r.SigningCertificates() {
			if !slices.ContainsFunc(out, c.Equal) {
				out = append(out, c)
			}
		}
	}
	return out
}

// Recipient returns what a token is encrypted for when entityID is its
// audience: the entity's encryption key and md:EncryptionMethod list, from
// its ID-WSF web service role first, else from any other role
// (md.Role.EncryptionRecipient). An entity with none is an error matching
// md.ErrNoKey: it gets no token (ARCHITECTURE "Tokens from the DS"). An
// unknown entity matches wsf.ErrProviderIDNotValid.
func (d *Directory) Recipient(_ context.Context, entityID string) (xmlenc.Recipient, error) {
	e, err := d.entity(entityID)
	if err != nil {
		return xmlenc.Recipient{}, err
	}
	for _, r := range roles(e) {
		if to, err := r.EncryptionRecipient(entityID); err == nil {
			return to, nil
		}
	}
	return xmlenc.Recipient{}, md.Errorf(md.KindNoKey, "%s lists no RSA encryption key in any role", entityID)
}

// HearsLogout reports whether the entity lists a SOAP
// SingleLogoutService in an SP role: an IdP can then end its part of a
// session over the back channel (discovery.SingleLogouts).
func (d *Directory) HearsLogout(_ context.Context, entityID string) bool {
	e, err := d.entity(entityID)
	if err != nil {
		return false
	}
	for _, sp := range e.SPSSO {
		if _, err := sp.SingleLogoutService(samlp.BindingSOAP); err == nil {
			return true
		}
	}
	return false
}

// Service returns the SOAP endpoint locations of the entity's ID-WSF web
// service roles that offer serviceType, in document order. An entity that
// offers no such service is an error matching md.ErrNotFound, one whose
// roles list no SOAP endpoint for it md.ErrNoEndpoint; an unknown entity
// matches wsf.ErrProviderIDNotValid.
func (d *Directory) Service(_ context.Context, entityID, serviceType string) ([]string, error) {
	e, err := d.entity(entityID)
	if err != nil {
		return nil, err
	}
	var out []string
	offered := false
	for _, r := range e.Roles {
		if !IsWebService(r) {
			continue
		}
		w, err := DecodeWebService(r)
		if err != nil {
			return nil, err
		}
		if w.Offers(serviceType) {
			offered = true
			out = append(out, w.Endpoints...)
		}
	}
	switch {
	case !offered:
		return nil, md.Errorf(md.KindNotFound, "%s offers no %s service", entityID, serviceType)
	case len(out) == 0:
		return nil, md.Errorf(md.KindNoEndpoint, "%s lists no SOAP endpoint for %s", entityID, serviceType)
	}
	return out, nil
}
