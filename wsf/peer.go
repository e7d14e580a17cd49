package wsf

import (
	"context"
	"crypto"
	"crypto/x509"

	"github.com/renkei-idwsf/renkei/xmlsec"
)

// Peer is what a provider knows of another from the operator-signed
// metadata aggregate (ARCHITECTURE "Trust").
type Peer struct {
	// EntityID is the peer's SAML entityID, its sb:Sender providerID.
	EntityID string
	// Keys are the peer's metadata keys: its message signing key, which is
	// also its TLS client key.
	Keys *xmlsec.TrustSet
	// TokenIssuer marks an IdP or Discovery Service whose signed
	// assertions are accepted as ID-WSF tokens (IDWSF2 §3.4 items 3-4).
	TokenIssuer bool
	// Profile relaxes IDWSF2 §11 items for this peer; zero is strict.
	Profile Profile
}

// Directory finds peers by entityID. Peer returns ErrProviderIDNotValid
// (or an error matching it) for an entity the aggregate does not list.
type Directory interface {
	Peer(ctx context.Context, entityID string) (*Peer, error)
}

// StaticDirectory is a Directory over a fixed set of peers.
type StaticDirectory map[string]*Peer

var _ Directory = StaticDirectory(nil)

// Peer returns the peer with that entityID or ErrProviderIDNotValid.
func (d StaticDirectory) Peer(_ context.Context, entityID string) (*Peer, error) {
	if p, ok := d[entityID]; ok {
		return p, nil
	}
	return nil, Errorf(ProviderIDNotValid, "%q is not in the metadata", entityID)
}

// NewPeer returns a peer whose metadata keys are the certificates' keys.
func NewPeer(entityID string, certs ...*x509.Certificate) *Peer {
	return &Peer{EntityID: entityID, Keys: xmlsec.NewTrustSet(certs)}
}

// HasKey reports whether pub is one of the peer's metadata keys.
func (p *Peer) HasKey(pub crypto.PublicKey) bool {
	if p == nil || p.Keys == nil {
		return false
	}
	_, err := p.Keys.ByKey(pub)
	return err == nil
}
