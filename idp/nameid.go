package idp

import (
	"context"
	"errors"
	"time"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/store"
)

// nameIDBytes is the randomness of a transient NameID: 128 bits
// (SAML2.md §1.4), as much as a persistent one has.
const nameIDBytes = store.PairwiseNameIDBytes

// NameIDPolicy is what an SP asks of the NameID (samlp:NameIDPolicy, SAML
// Core §3.4.1.1). Format "" or unspecified lets the IdP choose: persistent.
type NameIDPolicy struct {
	Format      string
	AllowCreate bool
}

// NameID returns the principal's name identifier for the provider sp
// (SAML Core §8.3.7): NameQualifier is the IdP, SPNameQualifier the
// provider. A persistent one is the pairwise pseudonym of the relay
// database, created once per (principal, provider) when policy.AllowCreate
// allows it, else ErrInvalidNameIDPolicy; a transient one is fresh
// randomness that nothing stores. Other formats are ErrUnsupportedFormat.
func (p *IdP) NameID(ctx context.Context, principalID, sp string, policy NameIDPolicy, now time.Time) (*saml.NameID, error) {
	switch policy.Format {
	case "", saml.NameIDUnspecified, saml.NameIDPersistent:
		return p.persistent(ctx, principalID, sp, policy.AllowCreate, now)
	case saml.NameIDTransient:
		return p.transient(sp)
	}
	return nil, Errorf(CodeUnsupportedNameIDFormat, "format %q", policy.Format)
}

func (p *IdP) transient(sp string) (*saml.NameID, error) {
	v, err := p.newOpaque(nameIDBytes)
	if err != nil {
		return nil, err
	}
	return &saml.NameID{Value: v, Format: saml.NameIDTransient, NameQualifier: p.cfg.EntityID, SPNameQualifier: sp}, nil
}

// persistent returns the principal's pairwise persistent NameID at sp,
// creating the federation when allowed (store.Pairwise, which the
// Discovery Service shares). A terminated federation is never revived: its
// NameID stays reserved, and the principal is refused until the link is
// renewed.
func (p *IdP) persistent(ctx context.Context, principalID, sp string, allowCreate bool, now time.Time) (*saml.NameID, error) {
	f, err := store.Pairwise(ctx, p.cfg.Federations, principalID, sp, allowCreate, now, p.cfg.Rand)
	switch {
	case err == nil:
		return p.federated(f), nil
	case errors.Is(err, store.ErrNotFound) && !allowCreate:
		return nil, Wrap(CodeInvalidNameIDPolicy, err, "AllowCreate is false")
	case errors.Is(err, store.ErrNotFound):
		return nil, Wrap(CodeUnknownPrincipal, err, "principal "+principalID)
	case errors.Is(err, store.ErrConflict):
		return nil, Wrap(CodeInvalidNameIDPolicy, err, "")
	}
	return nil, Wrap(CodeInternal, err, "federation")
}

// federated renders an active federation as the NameID sent to its
// provider, with the provider's own identifier once it registered one
// (SAML Core §3.6).
func (p *IdP) federated(f store.Federation) *saml.NameID {
	return &saml.NameID{Value: f.NameID, Format: saml.NameIDPersistent, NameQualifier: p.cfg.EntityID,
		SPNameQualifier: f.ProviderID, SPProvidedID: f.SPProvidedID}
}
