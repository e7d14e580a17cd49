package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/renkei-idwsf/renkei/store"
)

// svcmdColumns lists the columns scanSvcMD reads, in order.
const svcmdColumns = `id, provider_id, xml, updated`

// scanSvcMD reads one row of svcmdColumns, without its service types.
func scanSvcMD(s scanner) (store.SvcMD, error) {
	var m store.SvcMD
	var updated int64
	err := s.Scan(&m.ID, &m.ProviderID, &m.XML, &updated)
	m.Updated = fromTS(updated)
	return m, err
}

// CreateSvcMD implements store.SvcMDStore.
func (db *DB) CreateSvcMD(ctx context.Context, m store.SvcMD) error {
	if err := m.Validate(); err != nil {
		return err
	}
	return db.inTx(ctx, func(t tx) error {
		_, err := t.exec(ctx, `INSERT INTO svcmds (`+svcmdColumns+`) VALUES (?, ?, ?, ?)`,
			m.ID, m.ProviderID, blob(m.XML), ts(m.Updated))
		if err != nil {
			return err
		}
		return t.insertServiceTypes(ctx, m)
	})
}

// insertServiceTypes stores m's service types, once each.
func (t tx) insertServiceTypes(ctx context.Context, m store.SvcMD) error {
	for _, st := range uniqueSorted(m.ServiceTypes) {
		_, err := t.exec(ctx, `INSERT INTO svcmd_service_types (svcmd_id, service_type) VALUES (?, ?)`, m.ID, st)
		if err != nil {
			return err
		}
	}
	return nil
}

// uniqueSorted returns a sorted copy of v without duplicates.
func uniqueSorted(v []string) []string {
	s := slices.Clone(v)
	slices.Sort(s)
	return slices.Compact(s)
}

// SvcMD implements store.SvcMDStore.
func (db *DB) SvcMD(ctx context.Context, id string) (store.SvcMD, error) {
	var m store.SvcMD
	err := db.read(ctx, func(t tx) (err error) {
		m, err = t.svcMD(ctx, id)
		return err
	})
	return m, err
}

// svcMD reads one SvcMD with its service types.
func (t tx) svcMD(ctx context.Context, id string) (store.SvcMD, error) {
	m, err := scanSvcMD(t.queryRow(ctx, `SELECT `+svcmdColumns+` FROM svcmds WHERE id = ?`+t.forUpdate(), id))
	if err != nil {
		return m, notFound(err, "SvcMD "+id)
	}
	m.ServiceTypes, err = t.serviceTypes(ctx, id)
	return m, err
}

// serviceTypes reads the service types of one SvcMD, sorted.
func (t tx) serviceTypes(ctx context.Context, id string) ([]string, error) {
	rows, err := t.query(ctx, `SELECT service_type FROM svcmd_service_types
		WHERE svcmd_id = ? ORDER BY service_type`, id)
	return collect(rows, err, func(s scanner) (v string, err error) { return v, s.Scan(&v) })
}

// SvcMDs implements store.SvcMDStore.
func (db *DB) SvcMDs(ctx context.Context, providerID string) ([]store.SvcMD, error) {
	return db.svcMDs(ctx, `SELECT id FROM svcmds WHERE provider_id = ?`, providerID)
}

// svcMDs reads, in one snapshot, the SvcMDs whose IDs the subquery ids
// selects, sorted by ID: two statements however many there are (the DS
// reads the five of a citizen's services on every Query).
func (db *DB) svcMDs(ctx context.Context, ids string, args ...any) ([]store.SvcMD, error) {
	var out []store.SvcMD
	err := db.read(ctx, func(t tx) error {
		rows, err := t.query(ctx, `SELECT `+svcmdColumns+` FROM svcmds WHERE id IN (`+ids+`) ORDER BY id`, args...)
		if out, err = collect(rows, err, scanSvcMD); err != nil || len(out) == 0 {
			return err
		}
		rows, err = t.query(ctx, `SELECT svcmd_id, service_type FROM svcmd_service_types
			WHERE svcmd_id IN (`+ids+`) ORDER BY svcmd_id, service_type`, args...)
		types, err := collect(rows, err, func(s scanner) (p [2]string, err error) { return p, s.Scan(&p[0], &p[1]) })
		if err != nil {
			return err
		}
		at := make(map[string]int, len(out))
		for i, m := range out {
			at[m.ID] = i
		}
		for _, p := range types {
			if i, ok := at[p[0]]; ok {
				out[i].ServiceTypes = append(out[i].ServiceTypes, p[1])
			}
		}
		return nil
	})
	return out, err
}

// UpdateSvcMD implements store.SvcMDStore.
func (db *DB) UpdateSvcMD(ctx context.Context, id string,
	fn func(store.SvcMD) (store.SvcMD, error)) (store.SvcMD, error) {
	var out store.SvcMD
	err := db.inTx(ctx, func(t tx) error {
		old, err := t.svcMD(ctx, id)
		if err != nil {
			return err
		}
		if out, err = fn(old); err != nil {
			return err
		}
		return t.replaceSvcMD(ctx, old, out)
	})
	out.ServiceTypes = uniqueSorted(out.ServiceTypes)
	return out, err
}

// replaceSvcMD stores m and its service types in place of old.
func (t tx) replaceSvcMD(ctx context.Context, old, m store.SvcMD) error {
	if m.ID != old.ID {
		return fmt.Errorf("%w: an update must not change the svcMDID", store.ErrInvalid)
	}
	if err := m.Validate(); err != nil {
		return err
	}
	_, err := t.exec(ctx, `UPDATE svcmds SET provider_id = ?, xml = ?, updated = ? WHERE id = ?`,
		m.ProviderID, blob(m.XML), ts(m.Updated), m.ID)
	if err == nil {
		_, err = t.exec(ctx, `DELETE FROM svcmd_service_types WHERE svcmd_id = ?`, m.ID)
	}
	if err == nil {
		err = t.insertServiceTypes(ctx, m)
	}
	return err
}

// DeleteSvcMD implements store.SvcMDStore; its associations and service
// types go with it (ON DELETE CASCADE).
func (db *DB) DeleteSvcMD(ctx context.Context, id string) error {
	n, err := db.exec(ctx, `DELETE FROM svcmds WHERE id = ?`, id)
	if err == nil && n == 0 {
		err = fmt.Errorf("%w: SvcMD %s", store.ErrNotFound, id)
	}
	return err
}

// Associate implements store.AssociationStore.
func (db *DB) Associate(ctx context.Context, a store.Association) error {
	if err := a.Validate(); err != nil {
		return err
	}
	_, err := db.exec(ctx, `INSERT INTO associations (principal_id, svcmd_id, created) VALUES (?, ?, ?)`,
		a.PrincipalID, a.SvcMDID, ts(a.Created))
	return err
}

// Dissociate implements store.AssociationStore.
func (db *DB) Dissociate(ctx context.Context, principalID, svcMDID string) error {
	n, err := db.exec(ctx, `DELETE FROM associations WHERE principal_id = ? AND svcmd_id = ?`,
		principalID, svcMDID)
	if err == nil && n == 0 {
		err = fmt.Errorf("%w: association with SvcMD %s", store.ErrNotFound, svcMDID)
	}
	return err
}

// Associations implements store.AssociationStore.
func (db *DB) Associations(ctx context.Context, principalID string) ([]store.Association, error) {
	rows, err := db.query(ctx, `SELECT principal_id, svcmd_id, created FROM associations
		WHERE principal_id = ? ORDER BY svcmd_id`, principalID)
	return collect(rows, err, func(s scanner) (store.Association, error) {
		var a store.Association
		var created int64
		err := s.Scan(&a.PrincipalID, &a.SvcMDID, &created)
		a.Created = fromTS(created)
		return a, err
	})
}

// AssociatedSvcMDs implements store.AssociationStore.
func (db *DB) AssociatedSvcMDs(ctx context.Context, principalID string, serviceTypes ...string) ([]store.SvcMD, error) {
	if len(serviceTypes) > store.MaxServiceTypeFilter {
		return nil, fmt.Errorf("%w: more than %d service types", store.ErrInvalid, store.MaxServiceTypeFilter)
	}
	query := `SELECT svcmd_id FROM associations WHERE principal_id = ?`
	args := []any{principalID}
	if len(serviceTypes) > 0 {
		query += ` AND svcmd_id IN (SELECT svcmd_id FROM svcmd_service_types WHERE service_type IN (?` +
			strings.Repeat(", ?", len(serviceTypes)-1) + `))`
		for _, st := range serviceTypes {
			args = append(args, st)
		}
	}
	return db.svcMDs(ctx, query, args...)
}
