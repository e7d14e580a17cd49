package main

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/renkei-idwsf/renkei/ra"
	"github.com/renkei-idwsf/renkei/store"
	"github.com/renkei-idwsf/renkei/store/sqlstore"
)

// storeTimeout bounds a command's work in the relay database.
const storeTimeout = 30 * time.Second

// registry is the relay database's card registry, opened by -store: the
// IdP finds the principal of a login certificate there
// (store.CardReader.CardByCertificate), so a card the RA issues is usable
// only once it is registered.
type registry struct {
	db        *sqlstore.DB
	principal string
	now       time.Time
}

// storeFlags are -store and, for commands that register a certificate,
// -principal.
type storeFlags struct {
	dsn, principal *string
}

func (f flags) storeFlags(withPrincipal bool) storeFlags {
	s := storeFlags{dsn: f.String("store", "", "relay database DSN (sqlite:PATH, postgres://...) to record the change in")}
	if withPrincipal {
		s.principal = f.String("principal", "", "principal ID the certificate is registered to (with -store)")
	}
	return s
}

// check refuses -principal without -store and -store without -principal.
func (s storeFlags) check() error {
	if s.principal == nil {
		return nil
	}
	switch {
	case *s.dsn != "" && *s.principal == "":
		return errors.New("-store needs -principal: the principal the card is registered to")
	case *s.dsn == "" && *s.principal != "":
		return errors.New("-principal needs -store")
	}
	return nil
}

// open connects to the relay database; it returns nil without -store.
func (s storeFlags) open(ctx context.Context, now time.Time) (*registry, error) {
	if *s.dsn == "" {
		return nil, nil
	}
	db, err := sqlstore.Open(ctx, *s.dsn)
	if err != nil {
		return nil, fmt.Errorf("relay database: %w (nothing was changed)", err)
	}
	r := &registry{db: db, now: now}
	if s.principal != nil {
		r.principal = *s.principal
	}
	return r, nil
}

func (r *registry) Close() error { return r.db.Close() }

// prepare makes sure the principal exists and number is still free, before
// the RA certifies anything.
func (r *registry) prepare(ctx context.Context, number string) error {
	if err := r.free(ctx, number); err != nil {
		return err
	}
	err := r.db.CreatePrincipal(ctx, store.Principal{ID: r.principal, Created: r.now})
	if err != nil && !errors.Is(err, store.ErrAlreadyExists) {
		return fmt.Errorf("principal %q: %w (nothing was issued)", r.principal, err)
	}
	return nil
}

// free returns an error unless no card with number is registered.
func (r *registry) free(ctx context.Context, number string) error {
	c, err := r.db.Card(ctx, number)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil
	case err != nil:
		return fmt.Errorf("relay database: card %q: %w (nothing was issued)", number, err)
	}
	return fmt.Errorf("card number %q is already registered in the store (principal %q, %s); nothing was issued", number, c.PrincipalID, c.Status)
}

// card is the registry row of cert, issued now under number.
func (r *registry) card(number string, cert *x509.Certificate) store.Card {
	return store.Card{Number: number, PrincipalID: r.principal, CertIssuer: cert.Issuer.String(),
		CertSerial: cert.SerialNumber.String(), Status: store.CardIssued, Issued: r.now}
}

// register records cert as card number of the principal.
func (r *registry) register(ctx context.Context, number string, cert *x509.Certificate, out io.Writer) error {
	if err := r.db.IssueCard(ctx, r.card(number, cert)); err != nil {
		return fmt.Errorf("certificate serial %s was issued and written, but card %q is NOT registered in the store, so the IdP refuses it: %w",
			cert.SerialNumber, number, err)
	}
	fmt.Fprintf(out, "card %s registered in the store for principal %s\n", number, r.principal)
	return nil
}

// raKnows reports whether the RA ever certified a key for number.
func raKnows(a *ra.Authority, number string) bool {
	for _, c := range a.Cards() {
		if c.CardNumber == number {
			return true
		}
	}
	return false
}

// revokeOnCRL revokes number's certificates on the CRL; a card whose
// certificates are all revoked already is reported, not refused, so that a
// command the store interrupted can be run again.
func revokeOnCRL(a *ra.Authority, number string, reason int, out io.Writer) (bool, error) {
	err := a.Revoke(number, reason)
	switch {
	case err == nil:
		fmt.Fprintf(out, "card %s revoked; CRL %s rewritten\n", number, ra.CardCRL)
		return true, nil
	case errors.Is(err, ra.ErrUnknownCard) && raKnows(a, number):
		fmt.Fprintf(out, "card %s: already revoked on the CRL\n", number)
		return false, nil
	}
	return false, err
}

// revoke marks number revoked in the store after the CRL step; crlDone says
// whether that step revoked anything now.
func (r *registry) revoke(ctx context.Context, number string, crlDone bool, out io.Writer) error {
	c, err := r.db.RevokeCard(ctx, number, r.now)
	switch {
	case err == nil:
		fmt.Fprintf(out, "card %s revoked in the store (principal %s)\n", number, c.PrincipalID)
		return nil
	case errors.Is(err, store.ErrConflict) && crlDone:
		fmt.Fprintf(out, "card %s was already revoked in the store\n", number)
		return nil
	case errors.Is(err, store.ErrConflict):
		return fmt.Errorf("card %q is already revoked, on the CRL and in the store: %w", number, err)
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("card %q is revoked on the CRL, but it is not registered in the store: %w", number, err)
	}
	return fmt.Errorf("card %q is revoked on the CRL, but NOT in the store (run revoke again to retry): %w", number, err)
}

// reissue records in the store that card newNumber, certified by cert,
// replaces oldNumber for the same principal.
func (r *registry) reissue(ctx context.Context, oldNumber, newNumber string, cert *x509.Certificate, out io.Writer) error {
	c, err := r.db.ReissueCard(ctx, oldNumber, r.card(newNumber, cert))
	if err != nil {
		return fmt.Errorf("card %q was issued (serial %s) and %q revoked on the CRL, but the store was NOT updated, so the IdP refuses the new card: %w",
			newNumber, cert.SerialNumber, oldNumber, err)
	}
	fmt.Fprintf(out, "card %s replaces %s in the store for principal %s\n", newNumber, oldNumber, c.PrincipalID)
	return nil
}

// checkReissue makes sure, before anything changes, that oldNumber is a
// registered card of this RA and newNumber is unused in both.
func (r *registry) checkReissue(ctx context.Context, a *ra.Authority, oldNumber, newNumber string) error {
	switch {
	case oldNumber == newNumber:
		return errors.New("-new-number must differ from -number")
	case !raKnows(a, oldNumber):
		return fmt.Errorf("%w: %q (nothing was changed)", ra.ErrUnknownCard, oldNumber)
	case raKnows(a, newNumber):
		return fmt.Errorf("card number %q already has certificates from this RA; nothing was changed", newNumber)
	}
	if _, err := r.db.Card(ctx, oldNumber); err != nil {
		return fmt.Errorf("card %q in the store: %w (nothing was changed)", oldNumber, err)
	}
	return r.free(ctx, newNumber)
}

// registeredOnly checks that number, unknown to the RA's card issuer (a
// soft certificate's label), is at least registered in the store.
func (r *registry) registeredOnly(ctx context.Context, number string, out io.Writer) error {
	_, err := r.db.Card(ctx, number)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("%w: %q is neither certified by this RA nor registered in the store", ra.ErrUnknownCard, number)
	case err != nil:
		return fmt.Errorf("relay database: card %q: %w (nothing was changed)", number, err)
	}
	fmt.Fprintf(out, "card %s: not certified by this RA's card issuer, nothing to put on the CRL\n", number)
	return nil
}

// describe says what the store holds for the RA's record c: whether that
// very certificate is the registered one, and its status and principal.
func (r *registry) describe(ctx context.Context, c ra.CardRecord, issuer string) string {
	s, err := r.db.Card(ctx, c.CardNumber)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return "store: not registered"
	case err != nil:
		return "store: " + err.Error()
	case s.CertIssuer != issuer || s.CertSerial != c.Serial:
		return fmt.Sprintf("store: another certificate (serial %s) registered", s.CertSerial)
	}
	return fmt.Sprintf("store: %s, principal %s", s.Status, s.PrincipalID)
}
