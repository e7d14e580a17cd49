package sqlstore

import (
	"context"
	"fmt"
)

// migration is one versioned change of the schema. Statements are shared by
// both dialects; {blob} and {serial} stand for their differing types.
type migration struct {
	version int
	name    string
	stmts   []string
}

// migrations are applied in order, each once, each in its own transaction.
// Never edit a released migration: append a new one.
var migrations = []migration{
	{1, "relay database, sessions, artifacts, replay cache, SvcMD, audit", schemaV1},
	{2, "the card a session's login presented", []string{
		`ALTER TABLE sessions ADD COLUMN card_number TEXT NOT NULL DEFAULT ''`}},
}

// migrate applies the migrations this database lacks. Nodes starting at
// once are safe: SQLite's BEGIN IMMEDIATE and PostgreSQL's advisory lock
// let one apply a migration while the other waits and then finds it done.
func (db *DB) migrate(ctx context.Context) error {
	for _, m := range migrations {
		err := db.inTx(ctx, func(t tx) error { return t.apply(ctx, m) })
		if err != nil {
			return fmt.Errorf("sqlstore: migration %d (%s): %w", m.version, m.name, err)
		}
	}
	return nil
}

// apply runs m unless the schema_version table records it already.
func (t tx) apply(ctx context.Context, m migration) error {
	if l := t.db.d.lockMigrations; l != "" {
		if _, err := t.exec(ctx, l); err != nil {
			return err
		}
	}
	if _, err := t.exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL)`); err != nil {
		return err
	}
	latest, err := t.schemaVersion(ctx)
	if err != nil || latest >= m.version {
		return err
	}
	for _, s := range m.stmts {
		if _, err := t.exec(ctx, t.db.d.types.Replace(s)); err != nil {
			return err
		}
	}
	_, err = t.exec(ctx, `INSERT INTO schema_version (version, name) VALUES (?, ?)`, m.version, m.name)
	return err
}

// schemaVersion returns the latest applied migration, refusing a database
// that a newer build has migrated beyond what this one knows.
func (t tx) schemaVersion(ctx context.Context) (int, error) {
	var v int
	err := t.queryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&v)
	if err == nil && v > len(migrations) {
		err = fmt.Errorf("schema version %d is newer than this build knows (%d)", v, len(migrations))
	}
	return v, err
}

// SchemaVersion returns the latest migration applied to the database.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := db.queryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&v)
	return v, err
}

// schemaV1 is the first schema. Times are BIGINT nanoseconds since 1970.
var schemaV1 = []string{
	`CREATE TABLE principals (
		id TEXT PRIMARY KEY,
		created BIGINT NOT NULL)`,
	`CREATE TABLE cards (
		number TEXT PRIMARY KEY,
		principal_id TEXT NOT NULL REFERENCES principals (id),
		cert_issuer TEXT NOT NULL,
		cert_serial TEXT NOT NULL,
		status TEXT NOT NULL,
		issued BIGINT NOT NULL,
		revoked BIGINT,
		UNIQUE (cert_issuer, cert_serial))`,
	`CREATE INDEX cards_principal ON cards (principal_id, issued)`,
	`CREATE TABLE federations (
		principal_id TEXT NOT NULL REFERENCES principals (id),
		provider_id TEXT NOT NULL,
		name_id TEXT NOT NULL,
		sp_provided_id TEXT NOT NULL,
		created BIGINT NOT NULL,
		terminated BIGINT,
		PRIMARY KEY (principal_id, provider_id),
		UNIQUE (provider_id, name_id))`,
	`CREATE UNIQUE INDEX federations_sp_provided_id ON federations (provider_id, sp_provided_id)
		WHERE sp_provided_id <> '' AND terminated IS NULL`,
	`CREATE TABLE sessions (
		id TEXT PRIMARY KEY,
		principal_id TEXT NOT NULL REFERENCES principals (id),
		authn_instant BIGINT NOT NULL,
		authn_context TEXT NOT NULL,
		created BIGINT NOT NULL,
		expires BIGINT NOT NULL)`,
	`CREATE INDEX sessions_principal ON sessions (principal_id, created)`,
	`CREATE INDEX sessions_expires ON sessions (expires)`,
	`CREATE TABLE session_participants (
		session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
		provider_id TEXT NOT NULL,
		session_index TEXT NOT NULL,
		name_id TEXT NOT NULL,
		name_id_format TEXT NOT NULL,
		joined BIGINT NOT NULL,
		PRIMARY KEY (session_id, provider_id),
		UNIQUE (provider_id, session_index))`,
	`CREATE TABLE artifacts (
		handle TEXT PRIMARY KEY,
		issuer TEXT NOT NULL,
		recipient TEXT NOT NULL,
		message {blob} NOT NULL,
		created BIGINT NOT NULL,
		expires BIGINT NOT NULL)`,
	`CREATE INDEX artifacts_expires ON artifacts (expires)`,
	`CREATE TABLE seen_ids (
		kind TEXT NOT NULL,
		value TEXT NOT NULL,
		expires BIGINT NOT NULL,
		PRIMARY KEY (kind, value))`,
	`CREATE INDEX seen_ids_expires ON seen_ids (expires)`,
	`CREATE TABLE svcmds (
		id TEXT PRIMARY KEY,
		provider_id TEXT NOT NULL,
		xml {blob} NOT NULL,
		updated BIGINT NOT NULL)`,
	`CREATE INDEX svcmds_provider ON svcmds (provider_id)`,
	`CREATE TABLE svcmd_service_types (
		svcmd_id TEXT NOT NULL REFERENCES svcmds (id) ON DELETE CASCADE,
		service_type TEXT NOT NULL,
		PRIMARY KEY (svcmd_id, service_type))`,
	`CREATE INDEX svcmd_service_types_type ON svcmd_service_types (service_type)`,
	`CREATE TABLE associations (
		principal_id TEXT NOT NULL REFERENCES principals (id),
		svcmd_id TEXT NOT NULL REFERENCES svcmds (id) ON DELETE CASCADE,
		created BIGINT NOT NULL,
		PRIMARY KEY (principal_id, svcmd_id))`,
	`CREATE INDEX associations_svcmd ON associations (svcmd_id)`,
	`CREATE TABLE audit_events (
		id {serial},
		at BIGINT NOT NULL,
		actor TEXT NOT NULL,
		principal_id TEXT NOT NULL,
		provider_id TEXT NOT NULL,
		action TEXT NOT NULL,
		purpose TEXT NOT NULL,
		detail_type TEXT NOT NULL,
		detail {blob} NOT NULL)`,
	`CREATE INDEX audit_events_principal ON audit_events (principal_id, at, id)`,
}
