// Package storetest is the conformance suite of package store: every
// backend runs RunTests and must pass all of it, concurrency cases
// included.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/store"
)

// Opener returns a new, empty store for one test and registers its Close
// with t.Cleanup.
type Opener func(t *testing.T) store.Store

// testCase is one conformance case.
type testCase struct {
	name string
	run  func(t *testing.T, s store.Store)
}

// RunTests runs the whole suite, each case on a store of its own.
func RunTests(t *testing.T, open Opener) {
	groups := [][]testCase{principalCases, federationCases, sessionCases, artifactCases,
		replayCases, svcmdCases, auditCases, gcCases, raceCases, pairwiseCases}
	for _, g := range groups {
		for _, c := range g {
			t.Run(c.name, func(t *testing.T) { c.run(t, open(t)) })
		}
	}
}

// t0 is the suite's fixed clock reading; its nanoseconds check that
// instants round-trip exactly.
var t0 = time.Date(2026, 4, 1, 9, 30, 0, 123456789, time.UTC)

// at returns t0 plus d.
func at(d time.Duration) time.Time { return t0.Add(d) }

// ctx is the context of every call the suite makes.
var ctx = context.Background()

// must fails the test on a non-nil error.
func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// wantErr fails the test unless err matches target.
func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("got error %v, want %v", err, target)
	}
}

// wantEqual fails the test unless got and want are deeply equal.
func wantEqual[T any](t *testing.T, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
}

// newPrincipal stores a principal named id and returns it.
func newPrincipal(t *testing.T, s store.PrincipalStore, id string) store.Principal {
	t.Helper()
	p := store.Principal{ID: id, Created: t0}
	must(t, s.CreatePrincipal(ctx, p))
	return p
}

// newFederation stores a federation of principal with provider.
func newFederation(t *testing.T, s store.FederationStore, principal, provider, spID string) store.Federation {
	t.Helper()
	f := store.Federation{PrincipalID: principal, ProviderID: provider,
		NameID: "nid-" + principal + "@" + provider, SPProvidedID: spID, Created: at(time.Minute)}
	must(t, s.CreateFederation(ctx, f))
	return f
}

// badTexts are strings no backend may accept.
var badTexts = map[string]string{"nul": "a\x00b", "not-utf8": "a\xffb"}

// provider returns the entity ID of the n-th sample provider.
func provider(n int) string { return fmt.Sprintf("https://hospital%d.example.jp/wsp", n) }
