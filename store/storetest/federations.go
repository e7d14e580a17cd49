package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/store"
)

var federationCases = []testCase{
	{"federation/ok/create-and-lookups", testFederationLookups},
	{"federation/fail/unknown-principal", testFederationUnknownPrincipal},
	{"federation/fail/duplicate-key-or-nameid", testFederationDuplicate},
	{"federation/fail/duplicate-active-spprovidedid", testFederationDuplicateSPID},
	{"federation/ok/update-through-closure", testFederationUpdate},
	{"federation/fail/update-closure-error-stores-nothing", testFederationUpdateError},
	{"federation/fail/update-changes-key", testFederationUpdateKey},
	{"federation/ok/terminated-keeps-nameid", testFederationTerminated},
}

func testFederationLookups(t *testing.T, s store.Store) {
	newPrincipal(t, s, "p-1")
	f2 := newFederation(t, s, "p-1", provider(2), "")
	f1 := newFederation(t, s, "p-1", provider(1), "patient-0042")
	got, err := s.Federation(ctx, "p-1", provider(1))
	must(t, err)
	wantEqual(t, got, f1)
	got, err = s.FederationByNameID(ctx, provider(2), f2.NameID)
	must(t, err)
	wantEqual(t, got, f2)
	got, err = s.FederationBySPProvidedID(ctx, provider(1), "patient-0042")
	must(t, err)
	wantEqual(t, got, f1)
	all, err := s.Federations(ctx, "p-1")
	must(t, err)
	wantEqual(t, all, []store.Federation{f1, f2})
	_, err = s.FederationByNameID(ctx, provider(1), f2.NameID)
	wantErr(t, err, store.ErrNotFound)
	_, err = s.FederationBySPProvidedID(ctx, provider(2), "")
	wantErr(t, err, store.ErrInvalid)
	if !f1.Active() {
		t.Fatal("a new federation is not active")
	}
}

func testFederationUnknownPrincipal(t *testing.T, s store.Store) {
	f := store.Federation{PrincipalID: "nobody", ProviderID: provider(1), NameID: "n", Created: t0}
	wantErr(t, s.CreateFederation(ctx, f), store.ErrNotFound)
	_, err := s.Federation(ctx, "nobody", provider(1))
	wantErr(t, err, store.ErrNotFound)
}

func testFederationDuplicate(t *testing.T, s store.Store) {
	newPrincipal(t, s, "p-1")
	newPrincipal(t, s, "p-2")
	f := newFederation(t, s, "p-1", provider(1), "")
	again := f
	again.NameID = "another"
	wantErr(t, s.CreateFederation(ctx, again), store.ErrAlreadyExists)
	stolen := f
	stolen.PrincipalID = "p-2"
	wantErr(t, s.CreateFederation(ctx, stolen), store.ErrAlreadyExists)
	elsewhere := f
	elsewhere.ProviderID = provider(2)
	must(t, s.CreateFederation(ctx, elsewhere))
	got, err := s.FederationByNameID(ctx, provider(1), f.NameID)
	must(t, err)
	wantEqual(t, got, f)
}

func testFederationDuplicateSPID(t *testing.T, s store.Store) {
	newPrincipal(t, s, "p-1")
	newPrincipal(t, s, "p-2")
	f := newFederation(t, s, "p-1", provider(1), "patient-0042")
	g := store.Federation{PrincipalID: "p-2", ProviderID: provider(1), NameID: "n-2",
		SPProvidedID: "patient-0042", Created: t0}
	wantErr(t, s.CreateFederation(ctx, g), store.ErrAlreadyExists)
	_, err := s.UpdateFederation(ctx, "p-1", provider(1), func(f store.Federation) (store.Federation, error) {
		f.Terminated = at(time.Hour)
		return f, nil
	})
	must(t, err)
	must(t, s.CreateFederation(ctx, g))
	got, err := s.FederationBySPProvidedID(ctx, provider(1), "patient-0042")
	must(t, err)
	wantEqual(t, got, g)
	_, err = s.UpdateFederation(ctx, "p-1", provider(1), func(f store.Federation) (store.Federation, error) {
		f.Terminated = time.Time{}
		return f, nil
	})
	wantErr(t, err, store.ErrAlreadyExists)
	old, err := s.Federation(ctx, "p-1", provider(1))
	must(t, err)
	wantEqual(t, old.Terminated, at(time.Hour))
	wantEqual(t, old.NameID, f.NameID)
}

func testFederationUpdate(t *testing.T, s store.Store) {
	newPrincipal(t, s, "p-1")
	f := newFederation(t, s, "p-1", provider(1), "")
	var seen store.Federation
	got, err := s.UpdateFederation(ctx, "p-1", provider(1), func(old store.Federation) (store.Federation, error) {
		seen = old
		old.SPProvidedID = "12345678:健保:0042:01"
		return old, nil
	})
	must(t, err)
	wantEqual(t, seen, f)
	f.SPProvidedID = "12345678:健保:0042:01"
	wantEqual(t, got, f)
	stored, err := s.FederationBySPProvidedID(ctx, provider(1), f.SPProvidedID)
	must(t, err)
	wantEqual(t, stored, f)
	_, err = s.UpdateFederation(ctx, "p-1", provider(9), func(f store.Federation) (store.Federation, error) {
		t.Fatal("closure called for a missing federation")
		return f, nil
	})
	wantErr(t, err, store.ErrNotFound)
}

func testFederationUpdateError(t *testing.T, s store.Store) {
	newPrincipal(t, s, "p-1")
	f := newFederation(t, s, "p-1", provider(1), "before")
	refuse := errors.New("refused by policy")
	_, err := s.UpdateFederation(ctx, "p-1", provider(1), func(f store.Federation) (store.Federation, error) {
		f.SPProvidedID = "after"
		return f, refuse
	})
	if err != refuse {
		t.Fatalf("got error %v, want the closure's error unchanged", err)
	}
	got, err := s.Federation(ctx, "p-1", provider(1))
	must(t, err)
	wantEqual(t, got, f)
}

func testFederationUpdateKey(t *testing.T, s store.Store) {
	newPrincipal(t, s, "p-1")
	f := newFederation(t, s, "p-1", provider(1), "")
	_, err := s.UpdateFederation(ctx, "p-1", provider(1), func(f store.Federation) (store.Federation, error) {
		f.ProviderID = provider(2)
		return f, nil
	})
	wantErr(t, err, store.ErrInvalid)
	_, err = s.UpdateFederation(ctx, "p-1", provider(1), func(f store.Federation) (store.Federation, error) {
		f.NameID = ""
		return f, nil
	})
	wantErr(t, err, store.ErrInvalid)
	got, err := s.Federation(ctx, "p-1", provider(1))
	must(t, err)
	wantEqual(t, got, f)
}

func testFederationTerminated(t *testing.T, s store.Store) {
	newPrincipal(t, s, "p-1")
	newPrincipal(t, s, "p-2")
	f := newFederation(t, s, "p-1", provider(1), "patient-0042")
	f.Terminated = at(time.Hour)
	_, err := s.UpdateFederation(ctx, "p-1", provider(1), func(store.Federation) (store.Federation, error) {
		return f, nil
	})
	must(t, err)
	got, err := s.FederationByNameID(ctx, provider(1), f.NameID)
	must(t, err)
	wantEqual(t, got, f)
	if got.Active() {
		t.Fatal("a terminated federation is active")
	}
	_, err = s.FederationBySPProvidedID(ctx, provider(1), "patient-0042")
	wantErr(t, err, store.ErrNotFound)
	reuse := store.Federation{PrincipalID: "p-2", ProviderID: provider(1), NameID: f.NameID, Created: t0}
	wantErr(t, s.CreateFederation(ctx, reuse), store.ErrAlreadyExists)
}
