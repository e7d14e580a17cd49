package store

import (
	"context"
	"time"
)

// Federation is one link of the relay database: a principal's pairwise
// persistent NameID at one provider, and the provider's own local
// identifier for that principal (SAML 2.0 Core §8.3.7; SPProvidedID is set
// by ManageNameID, Core §3.6). A federation is keyed by (principal,
// provider); a terminated federation keeps its row so that its NameID is
// never handed to anyone else.
type Federation struct {
	PrincipalID  string
	ProviderID   string // entity ID of the SP or WSP
	NameID       string // pairwise persistent NameID, unique per provider
	SPProvidedID string // the institution's local identifier, or ""
	Created      time.Time
	Terminated   time.Time // zero while the federation is active
}

// Active reports whether f has not been terminated.
func (f Federation) Active() bool { return f.Terminated.IsZero() }

// Validate reports whether every backend can store f.
func (f Federation) Validate() error {
	return firstErr(checkKey("principal ID", f.PrincipalID), checkKey("provider ID", f.ProviderID),
		checkKey("NameID", f.NameID), checkText("SPProvidedID", f.SPProvidedID),
		checkSetTime("created", f.Created), checkTime("terminated", f.Terminated))
}

// FederationStore is the relay database as the IdP and the Discovery
// Service use it.
type FederationStore interface {
	// CreateFederation stores f. It returns ErrNotFound when the principal
	// does not exist, and ErrAlreadyExists when (principal, provider),
	// (provider, NameID) or, while active, (provider, SPProvidedID) is
	// taken.
	CreateFederation(ctx context.Context, f Federation) error
	// Federation returns the federation of a principal with a provider.
	Federation(ctx context.Context, principalID, providerID string) (Federation, error)
	// FederationByNameID returns the federation a provider knows by nameID.
	FederationByNameID(ctx context.Context, providerID, nameID string) (Federation, error)
	// FederationBySPProvidedID returns the active federation a provider
	// knows by its local identifier.
	FederationBySPProvidedID(ctx context.Context, providerID, spProvidedID string) (Federation, error)
	// Federations returns a principal's federations ordered by provider.
	Federations(ctx context.Context, principalID string) ([]Federation, error)
	// UpdateFederation applies fn to the current federation and stores its
	// result, atomically: concurrent updates of one federation run one
	// after the other, each seeing the previous one's result. An error from
	// fn is returned unchanged and nothing is stored. fn must not change
	// the key and must not call the store.
	UpdateFederation(ctx context.Context, principalID, providerID string,
		fn func(Federation) (Federation, error)) (Federation, error)
}
