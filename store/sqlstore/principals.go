package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/renkei-idwsf/renkei/store"
)

// CreatePrincipal implements store.PrincipalStore.
func (db *DB) CreatePrincipal(ctx context.Context, p store.Principal) error {
	if err := p.Validate(); err != nil {
		return err
	}
	_, err := db.exec(ctx, `INSERT INTO principals (id, created) VALUES (?, ?)`, p.ID, ts(p.Created))
	return err
}

// Principal implements store.PrincipalStore.
func (db *DB) Principal(ctx context.Context, id string) (store.Principal, error) {
	p := store.Principal{ID: id}
	var created int64
	err := db.queryRow(ctx, `SELECT created FROM principals WHERE id = ?`, id).Scan(&created)
	p.Created = fromTS(created)
	return p, notFound(err, "principal "+id)
}

// cardColumns lists the columns scanCard reads, in order.
const cardColumns = `number, principal_id, cert_issuer, cert_serial, status, issued, revoked`

// scanCard reads one row of cardColumns.
func scanCard(s scanner) (store.Card, error) {
	var c store.Card
	var issued int64
	var revoked sql.NullInt64
	err := s.Scan(&c.Number, &c.PrincipalID, &c.CertIssuer, &c.CertSerial, &c.Status, &issued, &revoked)
	c.Issued, c.Revoked = fromTS(issued), fromNullTS(revoked)
	return c, err
}

// Card implements store.CardReader.
func (db *DB) Card(ctx context.Context, number string) (store.Card, error) {
	c, err := scanCard(db.queryRow(ctx, `SELECT `+cardColumns+` FROM cards WHERE number = ?`, number))
	return c, notFound(err, "card "+number)
}

// CardByCertificate implements store.CardReader.
func (db *DB) CardByCertificate(ctx context.Context, issuer, serial string) (store.Card, error) {
	c, err := scanCard(db.queryRow(ctx, `SELECT `+cardColumns+` FROM cards
		WHERE cert_issuer = ? AND cert_serial = ?`, issuer, serial))
	return c, notFound(err, "card with certificate "+serial)
}

// Cards implements store.CardReader.
func (db *DB) Cards(ctx context.Context, principalID string) ([]store.Card, error) {
	rows, err := db.query(ctx, `SELECT `+cardColumns+` FROM cards
		WHERE principal_id = ? ORDER BY issued, number`, principalID)
	return collect(rows, err, scanCard)
}

// IssueCard implements store.PrincipalStore.
func (db *DB) IssueCard(ctx context.Context, c store.Card) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if c.Status != store.CardIssued {
		return fmt.Errorf("%w: a new card must have status %q", store.ErrInvalid, store.CardIssued)
	}
	return db.inTx(ctx, func(t tx) error { return t.insertCard(ctx, c) })
}

// insertCard stores c after checking that its principal exists.
func (t tx) insertCard(ctx context.Context, c store.Card) error {
	if err := t.principalExists(ctx, c.PrincipalID); err != nil {
		return err
	}
	_, err := t.exec(ctx, `INSERT INTO cards (`+cardColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		c.Number, c.PrincipalID, c.CertIssuer, c.CertSerial, c.Status, ts(c.Issued), nullTS(c.Revoked))
	return err
}

// principalExists returns ErrNotFound unless the principal exists.
func (t tx) principalExists(ctx context.Context, id string) error {
	var one int
	err := t.queryRow(ctx, `SELECT 1 FROM principals WHERE id = ?`, id).Scan(&one)
	return notFound(err, "principal "+id)
}

// lockCard reads a card and locks it until the transaction ends.
func (t tx) lockCard(ctx context.Context, number string) (store.Card, error) {
	c, err := scanCard(t.queryRow(ctx, `SELECT `+cardColumns+` FROM cards WHERE number = ?`+
		t.forUpdate(), number))
	return c, notFound(err, "card "+number)
}

// revoke marks c revoked at now.
func (t tx) revoke(ctx context.Context, c store.Card, now time.Time) (store.Card, error) {
	c.Status, c.Revoked = store.CardRevoked, now
	if err := c.Validate(); err != nil {
		return store.Card{}, err
	}
	_, err := t.exec(ctx, `UPDATE cards SET status = ?, revoked = ? WHERE number = ?`,
		c.Status, ts(now), c.Number)
	return c, err
}

// RevokeCard implements store.PrincipalStore.
func (db *DB) RevokeCard(ctx context.Context, number string, now time.Time) (store.Card, error) {
	var out store.Card
	err := db.inTx(ctx, func(t tx) error {
		c, err := t.lockCard(ctx, number)
		if err == nil && c.Status != store.CardIssued {
			err = fmt.Errorf("%w: card %s is already revoked", store.ErrConflict, number)
		}
		if err == nil {
			out, err = t.revoke(ctx, c, now)
		}
		return err
	})
	return out, err
}

// ReissueCard implements store.PrincipalStore.
func (db *DB) ReissueCard(ctx context.Context, oldNumber string, c store.Card) (store.Card, error) {
	err := db.inTx(ctx, func(t tx) error {
		old, err := t.lockCard(ctx, oldNumber)
		if err != nil {
			return err
		}
		if c.PrincipalID == "" {
			c.PrincipalID = old.PrincipalID
		}
		if c.PrincipalID != old.PrincipalID {
			return fmt.Errorf("%w: card %s belongs to another principal", store.ErrInvalid, oldNumber)
		}
		return t.reissue(ctx, old, c)
	})
	return c, err
}

// reissue revokes old unless already revoked and stores its successor c.
func (t tx) reissue(ctx context.Context, old, c store.Card) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if c.Status != store.CardIssued {
		return fmt.Errorf("%w: a new card must have status %q", store.ErrInvalid, store.CardIssued)
	}
	if old.Status == store.CardIssued {
		if _, err := t.revoke(ctx, old, c.Issued); err != nil {
			return err
		}
	}
	return t.insertCard(ctx, c)
}
