package sqlmap

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/renkei-idwsf/renkei/wsp"
)

// Write applies ws in one transaction: every statement of every write, or
// none of them. A statement whose rows affected differ from its "rows"
// rolls everything back and refuses the write it belongs to.
func (b *Backend) Write(ctx context.Context, ws []wsp.Write) ([]wsp.Record, error) {
	if len(ws) == 0 {
		return nil, nil
	}
	for i, w := range ws {
		it := b.m.item(w.Service, w.Item)
		if it == nil || len(it.writes[w.Op]) == 0 {
			return nil, &wsp.Refusal{Index: i, Code: wsp.ActionNotAuthorized,
				Detail: fmt.Sprintf("no %s of %s here", w.Op, w.Item)}
		}
		if w.Op != wsp.Create && w.ID == "" {
			return nil, &wsp.Refusal{Index: i, Code: wsp.DoesNotExist, Detail: "no record named"}
		}
	}
	ctx, cancel := b.bound(ctx)
	defer cancel()
	var err error
	for range maxAttempts {
		var recs []wsp.Record
		recs, err = b.writeOnce(ctx, ws)
		if err == nil {
			return recs, nil
		}
		if !retryable(err) || ctx.Err() != nil {
			break
		}
	}
	var r *wsp.Refusal
	if errors.As(err, &r) {
		return nil, r
	}
	return nil, b.fail(ctx, "write", err)
}

// writeOnce runs ws in one transaction, which it commits only if every
// write succeeds.
func (b *Backend) writeOnce(ctx context.Context, ws []wsp.Write) ([]wsp.Record, error) {
	tx, err := b.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	recs := make([]wsp.Record, len(ws))
	for i, w := range ws {
		if recs[i], err = b.apply(ctx, tx, i, w); err != nil {
			return nil, err
		}
	}
	return recs, tx.Commit()
}

// apply runs the statements of one write in tx. Modify and Delete first
// read the record through the item query, so that a subject changes only
// records its own lookups show, and check NotChangedSince there.
func (b *Backend) apply(ctx context.Context, tx *sql.Tx, i int, w wsp.Write) (wsp.Record, error) {
	it := b.m.item(w.Service, w.Item)
	now := w.Now
	if now.IsZero() {
		now = time.Now()
	}
	p := params{subject: w.Subject, id: w.ID, now: now, values: w.Values}
	if w.Op != wsp.Create {
		rec, found, err := b.readOne(ctx, tx, it, p)
		switch {
		case err != nil:
			return wsp.Record{}, fmt.Errorf("%s of %s, reading it: %w", w.Op, w.Item, err)
		case !found:
			return wsp.Record{}, &wsp.Refusal{Index: i, Code: wsp.DoesNotExist,
				Detail: fmt.Sprintf("no %s %s", w.Item, w.ID)}
		case !w.NotChangedSince.IsZero() && it.modified != "" && rec.Modified.After(w.NotChangedSince):
			return wsp.Record{}, &wsp.Refusal{Index: i, Code: wsp.ModifiedSince,
				Detail: fmt.Sprintf("%s %s changed at %s", w.Item, w.ID, rec.Modified.UTC().Format(time.RFC3339))}
		}
	}
	for j, st := range it.writes[w.Op] {
		n, id, err := exec(ctx, tx, st, p)
		if err != nil {
			return wsp.Record{}, fmt.Errorf("%s of %s, statement %d: %w", w.Op, w.Item, j, err)
		}
		if st.rows >= 0 && n != st.rows {
			return wsp.Record{}, &wsp.Refusal{Index: i, Code: st.refuse, Third: st.third, Detail: st.detail}
		}
		if st.returnsID {
			if n == 0 {
				return wsp.Record{}, errors.New("a statement returning the id returned no row")
			}
			p.id = id
		}
	}
	if w.Op == wsp.Delete {
		return wsp.Record{ID: p.id}, nil
	}
	rec, found, err := b.readOne(ctx, tx, it, p)
	if err != nil {
		return wsp.Record{}, fmt.Errorf("%s of %s, reading it back: %w", w.Op, w.Item, err)
	}
	if !found {
		return wsp.Record{}, fmt.Errorf("%s %s is not in the subject's item query after %s", w.Item, p.id, w.Op)
	}
	return rec, nil
}

// exec runs one statement and returns the rows it affected or, for one
// that returns the id, the rows it returned and the first one's id.
func exec(ctx context.Context, tx *sql.Tx, st write, p params) (int64, string, error) {
	a := args(st.params, p)
	if !st.returnsID {
		res, err := tx.ExecContext(ctx, st.text, a...)
		if err != nil {
			return 0, "", err
		}
		n, err := res.RowsAffected()
		return n, "", err
	}
	rows, err := tx.QueryContext(ctx, st.text, a...)
	if err != nil {
		return 0, "", err
	}
	defer rows.Close()
	var n int64
	var id string
	for rows.Next() {
		if n == 0 {
			var v any
			if err := rows.Scan(&v); err != nil {
				return 0, "", err
			}
			id, _ = text(v).(string)
		}
		n++
	}
	return n, id, rows.Err()
}

// readOne reads the record p.id of it as p.subject's item query shows it.
func (b *Backend) readOne(ctx context.Context, tx *sql.Tx, it *item, p params) (wsp.Record, bool, error) {
	sel := b.selectFor(it, p)
	sel.where("q."+it.id+" = ", p.id)
	q, a := sel.build(1, 0)
	recs, err := b.records(ctx, tx, it, q, a)
	if err != nil || len(recs) == 0 {
		return wsp.Record{}, false, err
	}
	return recs[0], true, nil
}
