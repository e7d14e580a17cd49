package idp

import (
	"context"
	"time"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/store"
)

// ChangeNameID gives the federation of principalID with sp a fresh
// pairwise persistent NameID at the IdP's initiative (SAML Core §3.6.1:
// the IdP, which issued the identifier, sends NewID to change it; SAML
// Profiles §4.5 over SOAP): a signed ManageNameIDRequest naming the
// current NameID with the new value as NewID goes to the SP's SOAP
// ManageNameIDService, and the new value is stored only once the SP's
// signed response reports Success, so that no assertion ever carries an
// identifier the SP has not accepted. It returns the new NameID.
func (s *SSO) ChangeNameID(ctx context.Context, principalID, sp string, now time.Time) (*saml.NameID, error) {
	d, err := s.lookupSP(sp, now)
	if err != nil {
		return nil, err
	}
	ep, err := d.ManageNameIDService(samlp.BindingSOAP)
	if err != nil {
		return nil, Wrap(CodeUnsupportedBinding, err, sp+" has no SOAP ManageNameIDService")
	}
	f, err := s.p.cfg.Federations.Federation(ctx, principalID, sp)
	if err != nil {
		return nil, fedError(err, "federation")
	}
	if !f.Active() {
		return nil, Errorf(CodeUnknownPrincipal, "the federation of %q with %q is terminated", principalID, sp)
	}
	newID, err := s.p.newOpaque(store.PairwiseNameIDBytes)
	if err != nil {
		return nil, err
	}
	id, err := s.p.newID()
	if err != nil {
		return nil, err
	}
	req := &samlp.ManageNameIDRequest{RequestHeader: samlp.RequestHeader{ID: id, IssueInstant: now, Destination: ep.Location,
		Issuer: &saml.Issuer{Value: s.p.cfg.EntityID}}, NewID: newID, NameID: s.p.federated(f)}
	if err := s.sendTerminate(ctx, req, d.TrustSet(), ep.Location, now); err != nil {
		return nil, err
	}
	return s.storeNameID(ctx, f, newID)
}

// storeNameID replaces the federation's NameID by newID, unless the
// federation changed since f was read (terminated, or given another
// NameID by a concurrent change).
func (s *SSO) storeNameID(ctx context.Context, f store.Federation, newID string) (*saml.NameID, error) {
	got, err := s.p.cfg.Federations.UpdateFederation(ctx, f.PrincipalID, f.ProviderID, func(cur store.Federation) (store.Federation, error) {
		if !cur.Active() || cur.NameID != f.NameID {
			return cur, Errorf(CodeInternal, "the federation changed while the SP accepted NewID %q", newID)
		}
		cur.NameID = newID
		return cur, nil
	})
	if err != nil {
		return nil, fedError(err, "store the new NameID")
	}
	return s.p.federated(got), nil
}
