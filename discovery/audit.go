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
	e, err := auditEvent(actor, principal, provider, action, purpose, det, now)
	if err != nil {
		return err
	}
	_, err = d.cfg.Store.AppendAudit(ctx, e)
	return err
}

func auditEvent(actor, principal, provider, action, purpose string, det AuditDetail, now time.Time) (store.AuditEvent, error) {
	b, err := json.Marshal(det)
	if err != nil {
		return store.AuditEvent{}, err
	}
	return store.AuditEvent{Time: now, Actor: actor, PrincipalID: principal, ProviderID: provider, Action: action,
		Purpose: purpose, DetailType: "application/json", Detail: b}, nil
}

// auditBatch collects the events of one answer, appended together
// (store.AuditLog.AppendAudits: one transaction) before the answer
// leaves: a token is audited before the WSC has it, and a failed append
// fails the answer.
type auditBatch []store.AuditEvent

func (a *auditBatch) token(inv *Invoker, principal string, is *issue, now time.Time) error {
	mech := ""
	if len(is.mechs) > 0 {
		mech = string(is.mechs[0])
	}
	e, err := auditEvent(inv.Provider, principal, is.m.svc.ProviderID, AuditToken, inv.Purpose, AuditDetail{
		ServiceType: is.m.serviceType, Basis: is.m.basis, Mechanism: mech, TokenID: is.tok.ID,
		NotOnOrAfter: is.tok.NotOnOrAfter.UTC().Format(time.RFC3339), SvcMDID: is.m.svc.ID}, now)
	*a = append(*a, e)
	return err
}

func (a *auditBatch) refusal(inv *Invoker, principal, provider, what string, r *refusal, now time.Time) error {
	e, err := auditEvent(inv.Provider, principal, provider, AuditRefused, inv.Purpose, AuditDetail{
		Operation: what, Status: string(r.code), Reason: r.reason}, now)
	*a = append(*a, e)
	return err
}

func (a auditBatch) append(ctx context.Context, d *DS) error {
	if len(a) == 0 {
		return nil
	}
	_, err := d.cfg.Store.AppendAudits(ctx, a)
	return err
}

// auditRefusal records a refused request or a service left out of an
// answer. The principal may be unknown ("").
func (d *DS) auditRefusal(ctx context.Context, inv *Invoker, principal, provider, what string, r *refusal, now time.Time) error {
	var a auditBatch
	if err := a.refusal(inv, principal, provider, what, r, now); err != nil {
		return err
	}
	_, err := d.cfg.Store.AppendAudit(ctx, a[0])
	return err
}
