package idp

import (
	"context"
	"errors"
	"time"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/store"
)

// nameIDBytes is the randomness of a persistent or transient NameID: 128
// bits (SAML2.md §1.4).
const nameIDBytes = 16

// createAttempts bounds the retries when a fresh persistent NameID
// collides with one the provider already knows (a 2^-128 event, or a
// broken Rand).
const createAttempts = 3

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

// persistent reads the federation of principalID with sp, creating it when
// allowed. Two concurrent first logins race on CreateFederation; the loser
// gets ErrAlreadyExists and reads the winner's NameID, so both answer the
// same one.
func (p *IdP) persistent(ctx context.Context, principalID, sp string, allowCreate bool, now time.Time) (*saml.NameID, error) {
	for range createAttempts {
		f, err := p.cfg.Federations.Federation(ctx, principalID, sp)
		if err == nil {
			return p.federated(f)
		}
		if !errors.Is(err, store.ErrNotFound) {
			return nil, Wrap(CodeInternal, err, "federation lookup")
		}
		if !allowCreate {
			return nil, Errorf(CodeInvalidNameIDPolicy, "no federation of %q with %q and AllowCreate is false", principalID, sp)
		}
		f, err = p.createFederation(ctx, principalID, sp, now)
		if err == nil {
			return p.federated(f)
		}
		if !errors.Is(err, store.ErrAlreadyExists) {
			return nil, err
		}
	}
	return nil, Errorf(CodeInternal, "federation of %q with %q: no unique NameID after %d attempts", principalID, sp, createAttempts)
}

func (p *IdP) createFederation(ctx context.Context, principalID, sp string, now time.Time) (store.Federation, error) {
	v, err := p.newOpaque(nameIDBytes)
	if err != nil {
		return store.Federation{}, err
	}
	f := store.Federation{PrincipalID: principalID, ProviderID: sp, NameID: v, Created: now}
	err = p.cfg.Federations.CreateFederation(ctx, f)
	switch {
	case err == nil, errors.Is(err, store.ErrAlreadyExists):
		return f, err
	case errors.Is(err, store.ErrNotFound):
		return f, Wrap(CodeUnknownPrincipal, err, "principal "+principalID)
	}
	return f, Wrap(CodeInternal, err, "create federation")
}

// federated renders an active federation as the NameID sent to its
// provider, with the provider's own identifier once it registered one
// (SAML Core §3.6). A terminated federation is never revived: its NameID
// stays reserved, and the principal is refused until the link is renewed.
func (p *IdP) federated(f store.Federation) (*saml.NameID, error) {
	if !f.Active() {
		return nil, Errorf(CodeInvalidNameIDPolicy, "federation of %q with %q terminated at %s",
			f.PrincipalID, f.ProviderID, f.Terminated.Format(time.RFC3339))
	}
	return &saml.NameID{Value: f.NameID, Format: saml.NameIDPersistent, NameQualifier: p.cfg.EntityID,
		SPNameQualifier: f.ProviderID, SPProvidedID: f.SPProvidedID}, nil
}
