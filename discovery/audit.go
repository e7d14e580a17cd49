package discovery

import (
	"context"
	"encoding/json"
	"time"

	"github.com/renkei-idwsf/renkei/store"
)

// Audit actions the DS records (ARCHITECTURE "Audit").
const (
	AuditToken             = "disco:token"              // a token issued to a WSC for a WSP
	AuditRefused           = "disco:refused"            // a request refused, with the status and reason
	AuditAssociationAdd    = "disco:association-add"    // consent recorded
	AuditAssociationDelete = "disco:association-delete" // consent withdrawn
	AuditLink              = "disco:link"               // operator linked a principal to an institution
	AuditUnlink            = "disco:unlink"             // operator removed a link
)

// AuditDetail is the JSON detail of a DS audit event: what a citizen
// reading their log, or an auditor, needs beside the event's columns.
// It holds identifiers only.
type AuditDetail struct {
	ServiceType  string `json:"serviceType,omitempty"`
	Basis        string `json:"basis,omitempty"` // BasisAssociation, BasisCardPresent, or how consent was given
	Mechanism    string `json:"mechanism,omitempty"`
	TokenID      string `json:"tokenID,omitempty"`
	NotOnOrAfter string `json:"notOnOrAfter,omitempty"`
	SvcMDID      string `json:"svcMDID,omitempty"`
	Status       string `json:"status,omitempty"`
	Reason       string `json:"reason,omitempty"`
	Operation    string `json:"operation,omitempty"`
}

func (d *DS) audit(ctx context.Context, actor, principal, provider, action, purpose string, det AuditDetail, now time.Time) error {
	b, err := json.Marshal(det)
	if err != nil {
		return err
	}
	_, err = d.cfg.Store.AppendAudit(ctx, store.AuditEvent{Time: now, Actor: actor, PrincipalID: principal,
		ProviderID: provider, Action: action, Purpose: purpose, DetailType: "application/json", Detail: b})
	return err
}

func (d *DS) auditToken(ctx context.Context, inv *Invoker, principal string, is *issue, now time.Time) error {
	mech := ""
	if len(is.mechs) > 0 {
		mech = string(is.mechs[0])
	}
	return d.audit(ctx, inv.Provider, principal, is.m.svc.ProviderID, AuditToken, inv.Purpose, AuditDetail{
		ServiceType: is.m.serviceType, Basis: is.m.basis, Mechanism: mech, TokenID: is.tok.ID,
		NotOnOrAfter: is.tok.NotOnOrAfter.UTC().Format(time.RFC3339), SvcMDID: is.m.svc.ID}, now)
}

// auditRefusal records a refused request or a service left out of an
// answer. The principal may be unknown ("").
func (d *DS) auditRefusal(ctx context.Context, inv *Invoker, principal, provider, what string, r *refusal, now time.Time) error {
	return d.audit(ctx, inv.Provider, principal, provider, AuditRefused, inv.Purpose, AuditDetail{
		Operation: what, Status: string(r.code), Reason: r.reason}, now)
}
