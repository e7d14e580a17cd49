package storetest

import (
	"bytes"
	"encoding/base64"
	"sync"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/store"
)

var pairwiseCases = []testCase{
	{"pairwise/ok/created-once-then-read", testPairwiseCreateRead},
	{"pairwise/ok/spprovidedid-returned", testPairwiseSPProvidedID},
	{"pairwise/fail/no-create-stores-nothing", testPairwiseNoCreate},
	{"pairwise/fail/unknown-principal", testPairwiseUnknownPrincipal},
	{"pairwise/fail/terminated-not-revived", testPairwiseTerminated},
	{"pairwise/ok/colliding-nameid-retried", testPairwiseCollision},
	{"pairwise/fail/nameid-always-colliding", testPairwiseAlwaysColliding},
	{"race/ok/pairwise-first-use-one-nameid", testRacePairwise},
}

// zeros is a broken randomness source: every NameID it yields is the same.
type zeros struct{}

func (zeros) Read(b []byte) (int, error) {
	clear(b)
	return len(b), nil
}

// nameIDOf is the NameID Pairwise makes of PairwiseNameIDBytes bytes b.
func nameIDOf(b byte) string {
	return base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{b}, store.PairwiseNameIDBytes))
}

func testPairwiseCreateRead(t *testing.T, s store.Store) {
	newPrincipal(t, s, "p-1")
	f, err := store.Pairwise(ctx, s, "p-1", provider(1), true, t0, nil)
	must(t, err)
	if raw, err := base64.RawURLEncoding.DecodeString(f.NameID); err != nil || len(raw) != store.PairwiseNameIDBytes {
		t.Fatalf("NameID %q is not %d random bytes", f.NameID, store.PairwiseNameIDBytes)
	}
	wantEqual(t, f, store.Federation{PrincipalID: "p-1", ProviderID: provider(1), NameID: f.NameID, Created: t0})
	again, err := store.Pairwise(ctx, s, "p-1", provider(1), false, at(time.Hour), nil)
	must(t, err)
	wantEqual(t, again, f)
	stored, err := s.Federation(ctx, "p-1", provider(1))
	must(t, err)
	wantEqual(t, stored, f)
	other, err := store.Pairwise(ctx, s, "p-1", provider(2), true, t0, nil)
	must(t, err)
	if other.NameID == f.NameID {
		t.Fatal("one NameID for two providers")
	}
}

func testPairwiseSPProvidedID(t *testing.T, s store.Store) {
	newPrincipal(t, s, "p-1")
	f := newFederation(t, s, "p-1", provider(1), "12345678:健保:0042:01")
	got, err := store.Pairwise(ctx, s, "p-1", provider(1), true, at(time.Hour), zeros{})
	must(t, err)
	wantEqual(t, got, f)
}

func testPairwiseNoCreate(t *testing.T, s store.Store) {
	newPrincipal(t, s, "p-1")
	_, err := store.Pairwise(ctx, s, "p-1", provider(1), false, t0, nil)
	wantErr(t, err, store.ErrNotFound)
	all, err := s.Federations(ctx, "p-1")
	must(t, err)
	wantEqual(t, len(all), 0)
}

func testPairwiseUnknownPrincipal(t *testing.T, s store.Store) {
	_, err := store.Pairwise(ctx, s, "nobody", provider(1), true, t0, nil)
	wantErr(t, err, store.ErrNotFound)
}

func testPairwiseTerminated(t *testing.T, s store.Store) {
	newPrincipal(t, s, "p-1")
	f := newFederation(t, s, "p-1", provider(1), "")
	f, err := s.UpdateFederation(ctx, "p-1", provider(1), func(f store.Federation) (store.Federation, error) {
		f.Terminated = at(time.Hour)
		return f, nil
	})
	must(t, err)
	_, err = store.Pairwise(ctx, s, "p-1", provider(1), true, at(2*time.Hour), nil)
	wantErr(t, err, store.ErrConflict)
	stored, err := s.Federation(ctx, "p-1", provider(1))
	must(t, err)
	wantEqual(t, stored, f)
}

// testPairwiseCollision: the first NameID drawn is one the provider knows
// for another principal, so Pairwise draws again.
func testPairwiseCollision(t *testing.T, s store.Store) {
	newPrincipal(t, s, "p-1")
	newPrincipal(t, s, "p-2")
	must(t, s.CreateFederation(ctx, store.Federation{PrincipalID: "p-2", ProviderID: provider(1),
		NameID: nameIDOf(0), Created: t0}))
	rnd := bytes.NewReader(append(bytes.Repeat([]byte{0}, store.PairwiseNameIDBytes),
		bytes.Repeat([]byte{1}, store.PairwiseNameIDBytes)...))
	f, err := store.Pairwise(ctx, s, "p-1", provider(1), true, t0, rnd)
	must(t, err)
	wantEqual(t, f.NameID, nameIDOf(1))
}

func testPairwiseAlwaysColliding(t *testing.T, s store.Store) {
	newPrincipal(t, s, "p-1")
	newPrincipal(t, s, "p-2")
	must(t, s.CreateFederation(ctx, store.Federation{PrincipalID: "p-2", ProviderID: provider(1),
		NameID: nameIDOf(0), Created: t0}))
	_, err := store.Pairwise(ctx, s, "p-1", provider(1), true, t0, zeros{})
	wantErr(t, err, store.ErrAlreadyExists)
	_, err = s.Federation(ctx, "p-1", provider(1))
	wantErr(t, err, store.ErrNotFound)
}

// testRacePairwise: first uses racing, as two browser tabs at the IdP or
// the IdP and the Discovery Service at once, all get the one NameID that
// was stored.
func testRacePairwise(t *testing.T, s store.Store) {
	newPrincipal(t, s, "p-1")
	var mu sync.Mutex
	seen := map[string]bool{}
	wins := race(t, nil, func(int) error {
		f, err := store.Pairwise(ctx, s, "p-1", provider(1), true, t0, nil)
		mu.Lock()
		defer mu.Unlock()
		seen[f.NameID] = true
		return err
	})
	wantEqual(t, wins, Racers)
	f, err := s.Federation(ctx, "p-1", provider(1))
	must(t, err)
	wantEqual(t, seen, map[string]bool{f.NameID: true})
}
