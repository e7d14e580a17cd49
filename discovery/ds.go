package discovery

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/store"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/disco"
	"github.com/renkei-idwsf/renkei/wsf/secmech"
)

// DS is the Discovery Service engine. It is safe for concurrent use.
type DS struct {
	cfg Config
	// minter mints the tokens that travel in clear in the answer, which
	// the receiver checks against the schemas whole before it leaves
	// (wsf/server Config.SkipOutgoingValidation); sealed the
	// EncryptedAssertion tokens, which only Config.Schema checks, before
	// they are encrypted.
	minter *secmech.Minter
	sealed *secmech.Minter
	svcs   svcCache
}

// New returns the engine, or every problem of cfg at once.
func New(cfg Config) (*DS, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	d := &DS{cfg: cfg}
	d.minter = &secmech.Minter{Issuer: cfg.EntityID, Signer: cfg.Signer, Rand: cfg.Rand, Meter: cfg.Meter, Kind: wsf.TokenDS}
	d.sealed = &secmech.Minter{Issuer: cfg.EntityID, Signer: cfg.Signer, Rand: cfg.Rand, Schema: cfg.Schema, Meter: cfg.Meter, Kind: wsf.TokenDS}
	return d, nil
}

// EntityID returns the DS's entityID.
func (d *DS) EntityID() string { return d.cfg.EntityID }

// refusal is a Discovery outcome other than OK: its lu:Status code, and
// the private reason the audit log and the operator's log keep.
type refusal struct {
	code   wsf.Code
	reason string
}

func (r *refusal) Error() string { return string(r.code) + ": " + r.reason }

func refuse(code wsf.Code, format string, args ...any) *refusal {
	return &refusal{code: code, reason: fmt.Sprintf(format, args...)}
}

// statusOf returns the lu:Status of a refusal (with no comment: reasons
// stay private), or ok for nil.
func statusOf(err *refusal) wsf.Status {
	if err == nil {
		return wsf.Status{Code: disco.OK}
	}
	return wsf.Status{Code: err.code}
}

// principal resolves the principal the invocation token names: its
// NameID at this DS, qualified by the IdP, to the active federation of
// the relay database (ARCHITECTURE "The relay DB is the federation
// table"). A token of another namespace, for an unknown NameID or a
// terminated federation, is Forbidden; so is the token of an IdP session
// that has ended (principalSession).
func (d *DS) principal(ctx context.Context, inv *Invoker) (string, *refusal, error) {
	p, _, ref, err := d.principalSession(ctx, inv)
	return p, ref, err
}

// principalSession is principal with the IdP session the token belongs
// to: nil when the token names none (see session).
func (d *DS) principalSession(ctx context.Context, inv *Invoker) (string, *store.Session, *refusal, error) {
	p, ref, err := d.federated(ctx, inv)
	if ref != nil || err != nil {
		return "", nil, ref, err
	}
	s, ref, err := d.session(ctx, inv, p)
	if ref != nil || err != nil {
		return "", nil, ref, err
	}
	return p, s, nil, nil
}

// session reads the IdP session a token of the IdP that shares the store
// names by the DS's SessionIndex: one read. A session that is gone
// (logged out), has run out or is another principal's is Forbidden, as a
// terminated federation is: single logout ends the DS token (SAML
// Profiles §4.4). A token without a SessionIndex, or of another issuer,
// has no session here (nil).
func (d *DS) session(ctx context.Context, inv *Invoker, principal string) (*store.Session, *refusal, error) {
	if inv.SessionIndex == "" || inv.TokenIssuer != d.cfg.NameQualifier {
		return nil, nil, nil
	}
	s, err := d.cfg.Store.SessionByIndex(ctx, d.cfg.EntityID, inv.SessionIndex)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, refuse(disco.Forbidden, "IdP session of the token ended (logout)"), nil
	case err != nil:
		return nil, nil, err
	case !d.cfg.now().Before(s.Expires):
		return nil, refuse(disco.Forbidden, "IdP session of the token ended at %s", s.Expires.Format(time.RFC3339)), nil
	case s.PrincipalID != principal:
		return nil, refuse(disco.Forbidden, "IdP session of the token is another principal's"), nil
	}
	return &s, nil, nil
}

// federated resolves the token's NameID to its active federation.
func (d *DS) federated(ctx context.Context, inv *Invoker) (string, *refusal, error) {
	n := inv.Subject
	switch {
	case !inv.Proven:
		return "", refuse(disco.Forbidden, "sender %s not proven", inv.Provider), nil
	case n == nil:
		return "", refuse(disco.Forbidden, "no token naming a principal"), nil
	case n.Format != "" && n.Format != saml.NameIDPersistent:
		return "", refuse(disco.Forbidden, "subject format %q is not persistent", n.Format), nil
	case n.SPNameQualifier != "" && n.SPNameQualifier != d.cfg.EntityID:
		return "", refuse(disco.Forbidden, "subject is %q's NameID, not this DS's", n.SPNameQualifier), nil
	case n.NameQualifier != "" && n.NameQualifier != d.cfg.NameQualifier:
		return "", refuse(disco.Forbidden, "subject qualified by %q, not the IdP", n.NameQualifier), nil
	case !inv.TokenEnd.IsZero() && !inv.TokenEnd.After(d.cfg.now()):
		// The receiver allows clock skew past NotOnOrAfter; a token the DS
		// could bound no minted token by is refused, not an error.
		return "", refuse(disco.Forbidden, "invoking token ended at %s", inv.TokenEnd.Format(time.RFC3339)), nil
	}
	f, err := d.cfg.Store.FederationByNameID(ctx, d.cfg.EntityID, n.Value)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return "", refuse(disco.Forbidden, "no federation for the token's NameID"), nil
	case err != nil:
		return "", nil, err
	case !f.Active():
		return "", refuse(disco.Forbidden, "federation of the token's principal with the DS terminated"), nil
	}
	return f.PrincipalID, nil, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
