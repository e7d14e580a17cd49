package sqlstore

import (
	"context"
	"fmt"

	"github.com/renkei-idwsf/renkei/store"
)

// auditColumns lists the columns scanAudit reads, in order.
const auditColumns = `id, at, actor, principal_id, provider_id, action, purpose, detail_type, detail`

// scanAudit reads one row of auditColumns.
func scanAudit(s scanner) (store.AuditEvent, error) {
	var e store.AuditEvent
	var at int64
	err := s.Scan(&e.ID, &at, &e.Actor, &e.PrincipalID, &e.ProviderID, &e.Action, &e.Purpose,
		&e.DetailType, &e.Detail)
	e.Time = fromTS(at)
	return e, err
}

// insertAudit inserts one event and returns its ID.
const insertAudit = `INSERT INTO audit_events (at, actor, principal_id, provider_id,
	action, purpose, detail_type, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`

// AppendAudit implements store.AuditLog.
func (db *DB) AppendAudit(ctx context.Context, e store.AuditEvent) (int64, error) {
	if err := e.Validate(); err != nil {
		return 0, err
	}
	var id int64
	err := db.writeRow(ctx, []any{&id}, insertAudit, ts(e.Time), e.Actor, e.PrincipalID, e.ProviderID,
		e.Action, e.Purpose, e.DetailType, blob(e.Detail))
	return id, db.d.wrap(err)
}

// AppendAudits implements store.AuditLog: every event is validated before
// the transaction begins, and the inserts commit together.
func (db *DB) AppendAudits(ctx context.Context, es []store.AuditEvent) ([]int64, error) {
	for i, e := range es {
		if err := e.Validate(); err != nil {
			return nil, fmt.Errorf("audit event %d: %w", i, err)
		}
	}
	if len(es) == 0 {
		return nil, nil
	}
	var ids []int64
	err := db.inTx(ctx, func(t tx) error {
		ids = make([]int64, len(es))
		for i, e := range es {
			err := t.queryRow(ctx, insertAudit, ts(e.Time), e.Actor, e.PrincipalID, e.ProviderID, e.Action,
				e.Purpose, e.DetailType, blob(e.Detail)).Scan(&ids[i])
			if err != nil {
				return db.d.wrap(err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ids, nil
}

// AuditEvents implements store.AuditLog. Pages are read by keyset on
// (at, id), so an event appended meanwhile never shifts a later page.
func (db *DB) AuditEvents(ctx context.Context, q store.AuditQuery) (store.AuditPage, error) {
	q, c, err := q.Validate()
	if err != nil {
		return store.AuditPage{}, err
	}
	query, args := auditQuery(q, c)
	rows, err := db.query(ctx, query, args...)
	events, err := collect(rows, err, scanAudit)
	if err != nil {
		return store.AuditPage{}, err
	}
	var p store.AuditPage
	if len(events) > q.Limit {
		events = events[:q.Limit]
		p.Next = store.CursorAfter(events[q.Limit-1]).String()
	}
	p.Events = events
	return p, nil
}

// auditQuery builds the SELECT for one page, asking for one row more than
// the limit to learn whether another page follows.
func auditQuery(q store.AuditQuery, c store.AuditCursor) (string, []any) {
	query := `SELECT ` + auditColumns + ` FROM audit_events WHERE principal_id = ?`
	args := []any{q.PrincipalID}
	if !q.From.IsZero() {
		query += ` AND at >= ?`
		args = append(args, ts(q.From))
	}
	if !q.To.IsZero() {
		query += ` AND at < ?`
		args = append(args, ts(q.To))
	}
	if c.Set {
		query += ` AND (at < ? OR (at = ? AND id < ?))`
		args = append(args, ts(c.Time), ts(c.Time), c.ID)
	}
	return query + ` ORDER BY at DESC, id DESC LIMIT ?`, append(args, q.Limit+1)
}
