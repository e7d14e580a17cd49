package wsp

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/renkei-idwsf/renkei/store"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/audit"
)

// The access audit (ARCHITECTURE "Audit"): every request a service of
// the WSP answers is one event in the WSP's own log, under the subject's
// local identifier, before the answer leaves (an event that cannot be
// stored fails the answer). The citizen reads them through the audit
// service, from a portal of Config.AuditReaders.

const auditNS = audit.NS

// AuditService is the service type of the access log a WSP serves.
const AuditService = audit.NS

// auditTimeout bounds the append of one event, which runs even when the
// request's own context has ended.
const auditTimeout = 10 * time.Second

// Audit actions.
const (
	AuditQuery  = "dst:Query"
	AuditCreate = "dst:Create"
	AuditModify = "dst:Modify"
	AuditDelete = "dst:Delete"
	AuditRead   = "audit:Query"
)

// AuditDetail is the JSON detail of an access event: identifiers and
// codes only, never the data itself.
type AuditDetail struct {
	ServiceType string   `json:"serviceType"`
	Items       []string `json:"items,omitempty"`
	Status      string   `json:"status"`
	Mechanism   string   `json:"mechanism,omitempty"`
	TokenIssuer string   `json:"tokenIssuer,omitempty"`
	TokenID     string   `json:"tokenID,omitempty"`
	MessageID   string   `json:"messageID,omitempty"`
}

// event is one request's audit record, filled as it is answered.
type event struct {
	inv     *Invoker
	subject string
	svc     string
	action  string
}

// unlinked is the log key of a request whose token names no local
// identifier: the pairwise NameID, which the citizen cannot read by, but
// an auditor can.
func unlinked(inv *Invoker) string {
	if inv.Subject != nil && inv.Subject.Value != "" {
		return "nameid:" + inv.Subject.Value
	}
	return "anonymous"
}

func (w *WSP) record(inv *Invoker, local string, s *service, op string) *event {
	if local == "" {
		local = unlinked(inv)
	}
	return &event{inv: inv, subject: local, svc: s.svc.NS, action: "dst:" + op}
}

func (w *WSP) audit(ctx context.Context, e *event, items []string, st wsf.Status, now time.Time) error {
	det := AuditDetail{ServiceType: e.svc, Items: uniq(items), Status: statusText(st), Mechanism: string(e.inv.Mechanism),
		TokenIssuer: e.inv.TokenIssuer, TokenID: e.inv.TokenID, MessageID: e.inv.MessageID}
	b, err := json.Marshal(det)
	if err != nil {
		return err
	}
	// The event outlives the request: a requester who drops the
	// connection right after a write committed must not take its record
	// with it.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), auditTimeout)
	defer cancel()
	_, err = w.cfg.Audit.AppendAudit(ctx, store.AuditEvent{Time: now, Actor: e.inv.Provider, PrincipalID: e.subject,
		ProviderID: w.cfg.EntityID, Action: e.action, Purpose: e.inv.Purpose, DetailType: "application/json", Detail: b})
	return err
}

// statusText is a status as the log keeps it: the codes, outermost first
// ("Failed/InvalidData/urn:renkei:status:SlotFull").
func statusText(st wsf.Status) string {
	parts := []string{string(st.Code)}
	for len(st.Sub) > 0 {
		st = st.Sub[0]
		parts = append(parts, string(st.Code))
	}
	return strings.Join(parts, "/")
}

func uniq(vs []string) []string {
	slices.Sort(vs)
	return slices.Compact(vs)
}

// Page sizes of the audit service.
const (
	DefaultAuditPage = 20
	MaxAuditOffset   = 2000
)

// AuditQuery answers the audit service's Query with the subject's access
// events, newest first. Only a portal of Config.AuditReaders, for the
// subject its token names, may read; reading is itself audited.
func (w *WSP) AuditQuery(ctx context.Context, inv *Invoker, q *audit.Query) (*audit.QueryResponse, error) {
	now := w.now()
	local, st := inv.local()
	if st == nil {
		st = issuedFor(inv, auditNS)
	}
	perr := inv.PurposeErr
	if perr == nil && inv.Purpose != "" && inv.Purpose != wsf.PurposeSelf {
		perr = wsf.Errorf(wsf.CannotHonourUsageDirective, "the access log is read for the citizen's own purpose only")
	}
	if perr != nil {
		rec := &event{inv: inv, subject: local, svc: auditNS, action: AuditRead}
		if local == "" {
			rec.subject = unlinked(inv)
		}
		if err := w.audit(ctx, rec, nil, wsf.Status{Code: wsf.CannotHonourUsageDirective}, now); err != nil {
			return nil, err
		}
		return nil, perr
	}
	if st == nil && !slices.Contains(w.cfg.AuditReaders, inv.Provider) {
		st = &wsf.Status{Code: wsf.Failed, Sub: []wsf.Status{{Code: ActionNotAuthorized,
			Comment: inv.Provider + " is not a portal the citizen reads their log with"}}}
	}
	rec := &event{inv: inv, subject: local, svc: auditNS, action: AuditRead}
	if local == "" {
		rec.subject = unlinked(inv)
	}
	if st != nil {
		return &audit.QueryResponse{Status: *st, TimeStamp: now}, w.audit(ctx, rec, nil, *st, now)
	}
	resp, err := audit.Answer(q, now, MaxAuditOffset, func(it audit.QueryItem) (audit.Data, error) {
		count := it.Count
		if count <= 0 {
			count = DefaultAuditPage
		}
		count = min(count, store.MaxAuditLimit)
		events, more, err := store.AuditWindow(ctx, w.cfg.Audit, local, it.Offset, count)
		if err != nil {
			return audit.Data{}, err
		}
		d := audit.Data{ItemIDRef: it.ItemID, Remaining: 0}
		if more {
			d.Remaining, d.NextOffset = -1, it.Offset+count
		}
		for _, e := range events {
			d.Events = append(d.Events, shownEvent(e))
		}
		return d, nil
	})
	if err != nil {
		return nil, err
	}
	return resp, w.audit(ctx, rec, nil, resp.Status, now)
}

func shownEvent(e store.AuditEvent) audit.Event {
	out := audit.Event{ID: strconv.FormatInt(e.ID, 10), Time: e.Time, Actor: e.Actor, Provider: e.ProviderID,
		Action: e.Action, Purpose: e.Purpose}
	var det AuditDetail
	if e.DetailType == "application/json" && json.Unmarshal(e.Detail, &det) == nil {
		out.ServiceType, out.Status = det.ServiceType, det.Status
	}
	return out
}
