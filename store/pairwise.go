package store

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"time"
)

// PairwiseNameIDBytes is the randomness of a pairwise persistent NameID:
// 128 bits, so that it says nothing about the principal and cannot be
// guessed (SAML 2.0 Core §8.3.7).
const PairwiseNameIDBytes = 16

// pairwiseAttempts bounds the retries when a fresh NameID collides with
// one the provider already knows (a 2^-128 event, or a broken rnd).
const pairwiseAttempts = 3

// Pairwise returns the active federation of principalID with providerID:
// the principal's pairwise persistent NameID at that provider and the
// provider's SPProvidedID, as the IdP puts it in an SSO assertion and the
// Discovery Service in a token (ARCHITECTURE "The relay DB is the
// federation table"). When none exists and create is set, it creates one
// with a fresh NameID from rnd (nil means crypto/rand), created at now.
//
// It is atomic on every backend without a transaction of its own: two
// first uses racing, in one process or two, both call CreateFederation,
// whose (principal, provider) key lets one win; the loser gets
// ErrAlreadyExists and reads the winner's federation, so both return the
// same NameID. Errors: ErrNotFound when there is no federation and create
// is not set, or, with create, when the principal does not exist;
// ErrConflict when the federation was terminated (its NameID is never
// revived); any other backend error unchanged.
func Pairwise(ctx context.Context, fs FederationStore, principalID, providerID string, create bool,
	now time.Time, rnd io.Reader) (Federation, error) {
	for range pairwiseAttempts {
		f, err := fs.Federation(ctx, principalID, providerID)
		switch {
		case err == nil:
			return active(f)
		case !errors.Is(err, ErrNotFound):
			return Federation{}, err
		case !create:
			return Federation{}, fmt.Errorf("no federation of %q with %q: %w", principalID, providerID, err)
		}
		f, err = createPairwise(ctx, fs, principalID, providerID, now, rnd)
		if !errors.Is(err, ErrAlreadyExists) {
			return f, err
		}
	}
	return Federation{}, fmt.Errorf("federation of %q with %q: no unique NameID after %d attempts: %w",
		principalID, providerID, pairwiseAttempts, ErrAlreadyExists)
}

// createPairwise stores a new federation with a fresh NameID.
// ErrAlreadyExists means another caller created the federation first, or
// the NameID collided: Pairwise reads again and retries.
func createPairwise(ctx context.Context, fs FederationStore, principalID, providerID string,
	now time.Time, rnd io.Reader) (Federation, error) {
	v, err := pairwiseNameID(rnd)
	if err != nil {
		return Federation{}, err
	}
	f := Federation{PrincipalID: principalID, ProviderID: providerID, NameID: v, Created: now}
	if err := fs.CreateFederation(ctx, f); err != nil {
		return Federation{}, err
	}
	return f, nil
}

// pairwiseNameID returns PairwiseNameIDBytes of rnd as unpadded base64url.
func pairwiseNameID(rnd io.Reader) (string, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	b := make([]byte, PairwiseNameIDBytes)
	if _, err := io.ReadFull(rnd, b); err != nil {
		return "", fmt.Errorf("pairwise NameID randomness: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// active returns f unless it was terminated: a terminated federation keeps
// its NameID reserved and the principal is refused until the link is
// renewed.
func active(f Federation) (Federation, error) {
	if !f.Active() {
		return Federation{}, fmt.Errorf("federation of %q with %q terminated at %s: %w",
			f.PrincipalID, f.ProviderID, f.Terminated.Format(time.RFC3339), ErrConflict)
	}
	return f, nil
}
