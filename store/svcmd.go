package store

import (
	"context"
	"time"
)

// SvcMD is one service instance's metadata as registered with the
// Discovery Service (ID-WSF Discovery Service 2.0, SvcMD registration). The
// element is kept as XML bytes; the service types are copied out of it by
// the caller so that queries can filter on them.
type SvcMD struct {
	ID           string // the svcMDID the Discovery Service assigned
	ProviderID   string // entity ID of the WSP offering the service
	ServiceTypes []string
	XML          []byte
	Updated      time.Time
}

// Validate reports whether every backend can store m.
func (m SvcMD) Validate() error {
	err := firstErr(checkKey("svcMDID", m.ID), checkKey("provider ID", m.ProviderID),
		checkSetTime("updated", m.Updated))
	if err == nil && len(m.ServiceTypes) == 0 {
		err = invalid("service types", "none")
	}
	for _, t := range m.ServiceTypes {
		err = firstErr(err, checkKey("service type", t))
	}
	return err
}

// Association is a principal's consent that the Discovery Service hand out
// one service instance of theirs (SvcMDAssociationAdd).
type Association struct {
	PrincipalID string
	SvcMDID     string
	Created     time.Time
}

// Validate reports whether every backend can store a.
func (a Association) Validate() error {
	return firstErr(checkKey("principal ID", a.PrincipalID), checkKey("svcMDID", a.SvcMDID),
		checkSetTime("created", a.Created))
}

// SvcMDStore keeps registered service metadata. Service types come back
// sorted and without duplicates.
type SvcMDStore interface {
	// CreateSvcMD stores m, or returns ErrAlreadyExists for a known ID.
	CreateSvcMD(ctx context.Context, m SvcMD) error
	// SvcMD returns the metadata with that ID, or ErrNotFound.
	SvcMD(ctx context.Context, id string) (SvcMD, error)
	// SvcMDs returns a provider's metadata ordered by ID.
	SvcMDs(ctx context.Context, providerID string) ([]SvcMD, error)
	// UpdateSvcMD applies fn atomically, as UpdateFederation does
	// (SvcMDReplace).
	UpdateSvcMD(ctx context.Context, id string, fn func(SvcMD) (SvcMD, error)) (SvcMD, error)
	// DeleteSvcMD removes the metadata and its associations
	// (SvcMDDelete), or returns ErrNotFound.
	DeleteSvcMD(ctx context.Context, id string) error
}

// MaxServiceTypeFilter bounds the service types one AssociatedSvcMDs call
// may filter on; more is ErrInvalid.
const MaxServiceTypeFilter = 64

// AssociationStore keeps principals' associations with service instances.
type AssociationStore interface {
	// Associate stores a. It returns ErrNotFound when the principal or the
	// metadata does not exist and ErrAlreadyExists for a known pair.
	Associate(ctx context.Context, a Association) error
	// Dissociate removes the association, or returns ErrNotFound.
	Dissociate(ctx context.Context, principalID, svcMDID string) error
	// Associations returns a principal's associations ordered by svcMDID.
	Associations(ctx context.Context, principalID string) ([]Association, error)
	// AssociatedSvcMDs returns the metadata a principal is associated with,
	// ordered by ID, keeping only those offering at least one of
	// serviceTypes when any are given (disco:Query's RequestedService); at
	// most MaxServiceTypeFilter of them.
	AssociatedSvcMDs(ctx context.Context, principalID string, serviceTypes ...string) ([]SvcMD, error)
}
