package discovery

import (
	"context"
	"errors"

	"github.com/renkei-idwsf/renkei/store"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/disco"
)

// Associations are the citizen's consent (ARCHITECTURE "Consent"). They
// are changed on behalf of the principal the invoking token names, by a
// portal of the policy (the linked-institutions page) or by the WSP whose
// SvcMD it is (enrolment at the institution), and an addition must carry
// sb:Consent urn:liberty:consent:obtained. Every change is audited.

// AssociationAdd associates each SvcMD with the principal. An unknown
// SvcMDID is NotFound; one the invoker may not associate is Forbidden;
// one already associated is left as it is.
func (d *DS) AssociationAdd(ctx context.Context, inv *Invoker, r *disco.SvcMDAssociationAdd) (*disco.SvcMDAssociationAddResponse, error) {
	now := d.cfg.now()
	principal, recs, ref, err := d.associable(ctx, inv, r.SvcMDIDs)
	if err == nil && ref == nil && inv.Consent != wsf.ConsentObtained {
		ref = refuse(disco.Forbidden, "SvcMDAssociationAdd without sb:Consent %s", wsf.ConsentObtained)
	}
	if err != nil {
		return nil, err
	}
	if ref != nil {
		return &disco.SvcMDAssociationAddResponse{Status: statusOf(ref)}, d.auditRefusal(ctx, inv, principal, "", "SvcMDAssociationAdd", ref, now)
	}
	if !inv.Simulate {
		for _, rec := range recs {
			err := d.cfg.Store.Associate(ctx, store.Association{PrincipalID: principal, SvcMDID: rec.ID, Created: now})
			if errors.Is(err, store.ErrAlreadyExists) {
				continue
			}
			if err != nil {
				return nil, err
			}
			if err := d.audit(ctx, inv.Provider, principal, rec.ProviderID, AuditAssociationAdd, inv.Purpose,
				AuditDetail{SvcMDID: rec.ID, Basis: inv.Consent}, now); err != nil {
				return nil, err
			}
		}
	}
	return &disco.SvcMDAssociationAddResponse{Status: wsf.Status{Code: disco.OK}}, nil
}

// AssociationDelete withdraws the principal's associations with each
// SvcMD; one that does not exist is NotFound.
func (d *DS) AssociationDelete(ctx context.Context, inv *Invoker, r *disco.SvcMDAssociationDelete) (*disco.SvcMDAssociationDeleteResponse, error) {
	now := d.cfg.now()
	principal, recs, ref, err := d.associable(ctx, inv, r.SvcMDIDs)
	if err != nil {
		return nil, err
	}
	if ref == nil {
		ref, err = d.associated(ctx, principal, recs)
		if err != nil {
			return nil, err
		}
	}
	if ref != nil {
		return &disco.SvcMDAssociationDeleteResponse{Status: statusOf(ref)}, d.auditRefusal(ctx, inv, principal, "", "SvcMDAssociationDelete", ref, now)
	}
	if !inv.Simulate {
		for _, rec := range recs {
			err := d.cfg.Store.Dissociate(ctx, principal, rec.ID)
			if errors.Is(err, store.ErrNotFound) {
				continue // withdrawn meanwhile
			}
			if err != nil {
				return nil, err
			}
			if err := d.audit(ctx, inv.Provider, principal, rec.ProviderID, AuditAssociationDelete, inv.Purpose,
				AuditDetail{SvcMDID: rec.ID}, now); err != nil {
				return nil, err
			}
		}
	}
	return &disco.SvcMDAssociationDeleteResponse{Status: wsf.Status{Code: disco.OK}}, nil
}

// AssociationQuery answers which of the SvcMDIDs (all when none is named)
// the principal is associated with; a WSP sees only its own SvcMDs'.
func (d *DS) AssociationQuery(ctx context.Context, inv *Invoker, q *disco.SvcMDAssociationQuery) (*disco.SvcMDAssociationQueryResponse, error) {
	now := d.cfg.now()
	principal, ref, err := d.principal(ctx, inv)
	if err != nil {
		return nil, err
	}
	if ref != nil {
		return &disco.SvcMDAssociationQueryResponse{Status: statusOf(ref)}, d.auditRefusal(ctx, inv, "", "", "SvcMDAssociationQuery", ref, now)
	}
	if len(q.SvcMDIDs) > MaxIDsPerRequest {
		ref := refuse(disco.Failed, "%d SvcMDIDs in one request, at most %d", len(q.SvcMDIDs), MaxIDsPerRequest)
		return &disco.SvcMDAssociationQueryResponse{Status: statusOf(ref)}, d.auditRefusal(ctx, inv, principal, "", "SvcMDAssociationQuery", ref, now)
	}
	as, err := d.cfg.Store.AssociatedSvcMDs(ctx, principal)
	if err != nil {
		return nil, err
	}
	resp := &disco.SvcMDAssociationQueryResponse{Status: wsf.Status{Code: disco.OK}}
	portal := contains(d.cfg.Policy.Portals, inv.Provider)
	for _, a := range as {
		if (len(q.SvcMDIDs) == 0 || contains(q.SvcMDIDs, a.ID)) && (portal || a.ProviderID == inv.Provider) {
			resp.SvcMDIDs = append(resp.SvcMDIDs, a.ID)
		}
	}
	return resp, nil
}

// associable resolves the principal and the SvcMDs, and checks the
// invoker may change their associations: a portal of the policy, or the
// SvcMD's own provider.
func (d *DS) associable(ctx context.Context, inv *Invoker, ids []string) (string, []store.SvcMD, *refusal, error) {
	principal, ref, err := d.principal(ctx, inv)
	if err != nil || ref != nil {
		return "", nil, ref, err
	}
	if len(ids) > MaxIDsPerRequest {
		return principal, nil, refuse(disco.Failed, "%d SvcMDIDs in one request, at most %d", len(ids), MaxIDsPerRequest), nil
	}
	portal := contains(d.cfg.Policy.Portals, inv.Provider)
	var recs []store.SvcMD
	for _, id := range ids {
		r, err := d.cfg.Store.SvcMD(ctx, id)
		switch {
		case errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrInvalid):
			return principal, nil, refuse(disco.NotFound, "no SvcMD %q", id), nil
		case err != nil:
			return "", nil, nil, err
		case !portal && r.ProviderID != inv.Provider:
			return principal, nil, refuse(disco.Forbidden, "%s may not change associations with %s's SvcMD", inv.Provider, r.ProviderID), nil
		}
		recs = append(recs, r)
	}
	return principal, recs, nil, nil
}

func (d *DS) associated(ctx context.Context, principal string, recs []store.SvcMD) (*refusal, error) {
	as, err := d.cfg.Store.Associations(ctx, principal)
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		found := false
		for _, a := range as {
			found = found || a.SvcMDID == r.ID
		}
		if !found {
			return refuse(disco.NotFound, "no association with %q", r.ID), nil
		}
	}
	return nil, nil
}
