package store

import (
	"context"
	"time"
)

// Principal is a card holder: the stable subject every card and federation
// refers to. The relay database keeps no personal data about it.
type Principal struct {
	ID      string
	Created time.Time
}

// Validate reports whether every backend can store p.
func (p Principal) Validate() error {
	return firstErr(checkKey("principal ID", p.ID), checkSetTime("created", p.Created))
}

// CardStatus is the life-cycle state of a card.
type CardStatus string

// The card states. A card is issued once and revoked at most once.
const (
	CardIssued  CardStatus = "issued"
	CardRevoked CardStatus = "revoked"
)

// Card is one smart card issued to a principal. A principal holds many cards
// over time; its federations do not depend on which card is current, so they
// survive a reissue.
type Card struct {
	Number      string // card number printed on the card, unique
	PrincipalID string
	CertIssuer  string // issuer DN of the card's authentication certificate
	CertSerial  string // that certificate's serial number, as text
	Status      CardStatus
	Issued      time.Time
	Revoked     time.Time // zero while the card is issued
}

// Validate reports whether every backend can store c.
func (c Card) Validate() error {
	err := firstErr(checkKey("card number", c.Number), checkKey("principal ID", c.PrincipalID),
		checkKey("certificate issuer", c.CertIssuer), checkKey("certificate serial", c.CertSerial),
		checkSetTime("issued", c.Issued), checkTime("revoked", c.Revoked))
	if err != nil {
		return err
	}
	switch {
	case c.Status == CardIssued && c.Revoked.IsZero():
		return nil
	case c.Status == CardRevoked && !c.Revoked.IsZero():
		return nil
	}
	return invalid("card status", "%q with revoked time %v", c.Status, c.Revoked)
}

// CardReader finds cards, as the IdP does at card login.
type CardReader interface {
	// Card returns the card with that number, or ErrNotFound.
	Card(ctx context.Context, number string) (Card, error)
	// CardByCertificate returns the card whose authentication certificate
	// has that issuer DN and serial number, or ErrNotFound.
	CardByCertificate(ctx context.Context, issuer, serial string) (Card, error)
	// Cards returns a principal's cards, oldest first.
	Cards(ctx context.Context, principalID string) ([]Card, error)
}

// PrincipalStore is what the registration authority needs: principals and
// the issue, revocation and reissue of their cards.
type PrincipalStore interface {
	CardReader
	// CreatePrincipal stores p, or returns ErrAlreadyExists.
	CreatePrincipal(ctx context.Context, p Principal) error
	// Principal returns the principal with that ID, or ErrNotFound.
	Principal(ctx context.Context, id string) (Principal, error)
	// IssueCard stores a new card with status CardIssued. It returns
	// ErrNotFound when the principal does not exist and ErrAlreadyExists
	// when the number or the certificate is taken.
	IssueCard(ctx context.Context, c Card) error
	// RevokeCard marks the card revoked at now and returns it; ErrConflict
	// when it was already revoked.
	RevokeCard(ctx context.Context, number string, now time.Time) (Card, error)
	// ReissueCard atomically revokes the card oldNumber (at c.Issued, unless
	// already revoked) and issues c to the same principal; c.PrincipalID
	// may be empty and is then filled in.
	ReissueCard(ctx context.Context, oldNumber string, c Card) (Card, error)
}
