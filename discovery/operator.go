package discovery

import (
	"context"
	"errors"
	"fmt"

	"github.com/renkei-idwsf/renkei/store"
)

// Operator commands: what the relay database's operator may read and
// change by hand. Each change goes through the checks the protocol
// applies (the provider is in the metadata with an encryption key; the
// store's uniqueness of NameIDs and local identifiers) and is audited
// with the operator as actor.

// Link is one link of a principal, with the associations that rest on it.
type Link struct {
	store.Federation
	// Associated are the svcMDIDs of this provider the principal is
	// associated with.
	Associated []string
}

// Links returns a principal's links, ordered by provider.
func (d *DS) Links(ctx context.Context, principal string) ([]Link, error) {
	fs, err := d.cfg.Store.Federations(ctx, principal)
	if err != nil {
		return nil, err
	}
	as, err := d.cfg.Store.AssociatedSvcMDs(ctx, principal)
	if err != nil {
		return nil, err
	}
	out := make([]Link, 0, len(fs))
	for _, f := range fs {
		l := Link{Federation: f}
		for _, a := range as {
			if a.ProviderID == f.ProviderID {
				l.Associated = append(l.Associated, a.ID)
			}
		}
		out = append(out, l)
	}
	return out, nil
}

// LinkByHand links the principal to provider under the institution's
// local identifier, creating the pairwise NameID when there is none, as
// an enrolment's ManageNameID NewID does at the IdP.
func (d *DS) LinkByHand(ctx context.Context, operator, principal, provider, localID string) (store.Federation, error) {
	now := d.cfg.now()
	if operator == "" || localID == "" {
		return store.Federation{}, errors.New("discovery: operator and local identifier are required")
	}
	if _, err := d.cfg.Providers.Recipient(ctx, provider); err != nil {
		return store.Federation{}, fmt.Errorf("discovery: %s: not a provider of the metadata with an encryption key: %w", provider, err)
	}
	if _, err := store.Pairwise(ctx, d.cfg.Store, principal, provider, true, now, d.cfg.Rand); err != nil {
		return store.Federation{}, err
	}
	f, err := d.cfg.Store.UpdateFederation(ctx, principal, provider, func(f store.Federation) (store.Federation, error) {
		f.SPProvidedID = localID
		return f, nil
	})
	if err != nil {
		return store.Federation{}, err
	}
	return f, d.audit(ctx, "operator:"+operator, principal, provider, AuditLink, "", AuditDetail{Basis: "operator"}, now)
}

// UnlinkByHand revokes the principal's link with provider (ARCHITECTURE
// "Enrolment of a link": ManageNameID Terminate and
// SvcMDAssociationDelete): the federation is terminated, keeping its
// NameID reserved, and every association with the provider's SvcMDs is
// removed.
func (d *DS) UnlinkByHand(ctx context.Context, operator, principal, provider string) error {
	now := d.cfg.now()
	if operator == "" {
		return errors.New("discovery: operator is required")
	}
	_, err := d.cfg.Store.UpdateFederation(ctx, principal, provider, func(f store.Federation) (store.Federation, error) {
		if !f.Active() {
			return f, fmt.Errorf("link of %s with %s already terminated: %w", principal, provider, store.ErrConflict)
		}
		f.Terminated = now
		return f, nil
	})
	if err != nil {
		return err
	}
	as, err := d.cfg.Store.AssociatedSvcMDs(ctx, principal)
	if err != nil {
		return err
	}
	for _, a := range as {
		if a.ProviderID != provider {
			continue
		}
		if err := d.cfg.Store.Dissociate(ctx, principal, a.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err := d.audit(ctx, "operator:"+operator, principal, provider, AuditAssociationDelete, "",
			AuditDetail{SvcMDID: a.ID, Basis: "operator"}, now); err != nil {
			return err
		}
	}
	return d.audit(ctx, "operator:"+operator, principal, provider, AuditUnlink, "", AuditDetail{Basis: "operator"}, now)
}
