package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/renkei-idwsf/renkei/store"
)

// federationColumns lists the columns scanFederation reads, in order.
const federationColumns = `principal_id, provider_id, name_id, sp_provided_id, created, terminated`

// scanFederation reads one row of federationColumns.
func scanFederation(s scanner) (store.Federation, error) {
	var f store.Federation
	var created int64
	var terminated sql.NullInt64
	err := s.Scan(&f.PrincipalID, &f.ProviderID, &f.NameID, &f.SPProvidedID, &created, &terminated)
	f.Created, f.Terminated = fromTS(created), fromNullTS(terminated)
	return f, err
}

// CreateFederation implements store.FederationStore.
func (db *DB) CreateFederation(ctx context.Context, f store.Federation) error {
	if err := f.Validate(); err != nil {
		return err
	}
	return db.inTx(ctx, func(t tx) error {
		if err := t.principalExists(ctx, f.PrincipalID); err != nil {
			return err
		}
		_, err := t.exec(ctx, `INSERT INTO federations (`+federationColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
			f.PrincipalID, f.ProviderID, f.NameID, f.SPProvidedID, ts(f.Created), nullTS(f.Terminated))
		return err
	})
}

// Federation implements store.FederationStore.
func (db *DB) Federation(ctx context.Context, principalID, providerID string) (store.Federation, error) {
	f, err := scanFederation(db.queryRow(ctx, `SELECT `+federationColumns+` FROM federations
		WHERE principal_id = ? AND provider_id = ?`, principalID, providerID))
	return f, notFound(err, "federation with "+providerID)
}

// FederationByNameID implements store.FederationStore.
func (db *DB) FederationByNameID(ctx context.Context, providerID, nameID string) (store.Federation, error) {
	f, err := scanFederation(db.queryRow(ctx, `SELECT `+federationColumns+` FROM federations
		WHERE provider_id = ? AND name_id = ?`, providerID, nameID))
	return f, notFound(err, "federation with "+providerID)
}

// FederationBySPProvidedID implements store.FederationStore.
func (db *DB) FederationBySPProvidedID(ctx context.Context, providerID, spProvidedID string) (store.Federation, error) {
	if spProvidedID == "" {
		return store.Federation{}, fmt.Errorf("%w: empty SPProvidedID", store.ErrInvalid)
	}
	f, err := scanFederation(db.queryRow(ctx, `SELECT `+federationColumns+` FROM federations
		WHERE provider_id = ? AND sp_provided_id = ? AND terminated IS NULL`, providerID, spProvidedID))
	return f, notFound(err, "federation with "+providerID)
}

// Federations implements store.FederationStore.
func (db *DB) Federations(ctx context.Context, principalID string) ([]store.Federation, error) {
	rows, err := db.query(ctx, `SELECT `+federationColumns+` FROM federations
		WHERE principal_id = ? ORDER BY provider_id`, principalID)
	return collect(rows, err, scanFederation)
}

// UpdateFederation implements store.FederationStore.
func (db *DB) UpdateFederation(ctx context.Context, principalID, providerID string,
	fn func(store.Federation) (store.Federation, error)) (store.Federation, error) {
	var out store.Federation
	err := db.inTx(ctx, func(t tx) error {
		old, err := scanFederation(t.queryRow(ctx, `SELECT `+federationColumns+` FROM federations
			WHERE principal_id = ? AND provider_id = ?`+t.forUpdate(), principalID, providerID))
		if err != nil {
			return notFound(err, "federation with "+providerID)
		}
		out, err = fn(old)
		if err != nil {
			return err
		}
		return t.replaceFederation(ctx, old, out)
	})
	return out, err
}

// replaceFederation stores f in place of old, which has the same key.
func (t tx) replaceFederation(ctx context.Context, old, f store.Federation) error {
	if f.PrincipalID != old.PrincipalID || f.ProviderID != old.ProviderID {
		return fmt.Errorf("%w: an update must not change the federation's key", store.ErrInvalid)
	}
	if err := f.Validate(); err != nil {
		return err
	}
	_, err := t.exec(ctx, `UPDATE federations SET name_id = ?, sp_provided_id = ?, created = ?,
		terminated = ? WHERE principal_id = ? AND provider_id = ?`,
		f.NameID, f.SPProvidedID, ts(f.Created), nullTS(f.Terminated), f.PrincipalID, f.ProviderID)
	return err
}
