package discovery

import (
	"context"
	"encoding/json"
	"strconv"

	"github.com/renkei-idwsf/renkei/store"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/audit"
	"github.com/renkei-idwsf/renkei/wsf/disco"
)

// The DS's audit service (ARCHITECTURE "Audit"): the citizen's own events
// of this DS (tokens issued, requests refused, consent given and
// withdrawn, links changed by the operator) as the DST service
// urn:renkei:svc:audit:1.0 (wsf/audit), discovered like any other: a
// portal's Query for that service type (or for everything) gets an EPR of
// Config.AuditURL with a token the DS minted for itself, offered by policy
// without an association (IDWSF2 §4.1: "services the DS offers to everyone
// by policy").

// BasisPolicy is the basis of a token for a service the DS offers by
// policy: the citizen's own audit log.
const BasisPolicy = "policy"

// Page sizes of the audit service.
const (
	DefaultAuditPage = 20
	MaxAuditOffset   = 2000
)

// auditSvcMD is the DS's own audit service as a SvcMD, for Query.
func (d *DS) auditSvcMD() *disco.SvcMD {
	return &disco.SvcMD{Abstract: "Discovery Service audit log: who obtained a token for your data, when and why",
		ProviderID: d.cfg.EntityID, ServiceContexts: []disco.ServiceContext{{ServiceTypes: []string{audit.NS},
			EndpointContexts: []disco.EndpointContext{{Addresses: []string{d.cfg.AuditURL},
				Frameworks:      []disco.Framework{{Version: wsf.FrameworkVersion}},
				SecurityMechIDs: []string{string(wsf.ClientTLSSAMLV2), string(wsf.ClientTLSPeerSAMLV2)}}}}}}
}

// offersAudit reports whether the DS's audit service is offered to the
// invoker: a portal of the policy, when the DS serves it.
func (d *DS) offersAudit(inv *Invoker) bool {
	return d.cfg.AuditURL != "" && contains(d.cfg.Policy.Portals, inv.Provider)
}

// Audit answers the audit service's Query (IDWSF2 §5.1) with the
// principal's events, newest first: per QueryItem, Select "/au:Event"
// (anything else InvalidSelect) and the page count/offset asks for. Only
// a portal of the policy, for the principal its token names, may read.
func (d *DS) Audit(ctx context.Context, inv *Invoker, q *audit.Query) (*audit.QueryResponse, error) {
	now := d.cfg.now()
	principal, ref, err := d.principal(ctx, inv)
	if err != nil {
		return nil, err
	}
	if ref == nil && !contains(d.cfg.Policy.Portals, inv.Provider) {
		ref = refuse(audit.ActionNotAuthorized, "%s is not a portal the citizen reads their log with", inv.Provider)
	}
	if ref != nil {
		st := wsf.Status{Code: wsf.Failed, Sub: []wsf.Status{{Code: ref.code}}}
		return &audit.QueryResponse{Status: st, TimeStamp: now}, d.auditRefusal(ctx, inv, principal, "", "audit Query", ref, now)
	}
	return audit.Answer(q, now, MaxAuditOffset, func(it audit.QueryItem) (audit.Data, error) {
		return d.auditPage(ctx, principal, it)
	})
}

// auditPage reads the events of one item's page, walking the store's
// pages from the newest.
func (d *DS) auditPage(ctx context.Context, principal string, it audit.QueryItem) (audit.Data, error) {
	count := it.Count
	if count <= 0 { // a page of nothing would leave a pager where it was
		count = DefaultAuditPage
	}
	count = min(count, store.MaxAuditLimit)
	events, more, err := store.AuditWindow(ctx, d.cfg.Store, principal, it.Offset, count)
	if err != nil {
		return audit.Data{}, err
	}
	data := audit.Data{ItemIDRef: it.ItemID, Remaining: 0}
	if more {
		data.Remaining, data.NextOffset = -1, it.Offset+count
	}
	for _, e := range events {
		data.Events = append(data.Events, shownEvent(e))
	}
	return data, nil
}

// shownEvent is a stored event as the service shows it.
func shownEvent(e store.AuditEvent) audit.Event {
	out := audit.Event{ID: strconv.FormatInt(e.ID, 10), Time: e.Time, Actor: e.Actor, Provider: e.ProviderID,
		Action: e.Action, Purpose: e.Purpose}
	var det AuditDetail
	if e.DetailType == "application/json" && json.Unmarshal(e.Detail, &det) == nil {
		out.ServiceType, out.Basis, out.Status = det.ServiceType, det.Basis, det.Status
	}
	return out
}
