package storetest

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/store"
)

var raceCases = []testCase{
	{"race/ok/replay-key-one-winner", testRaceReplay},
	{"race/ok/artifact-one-taker", testRaceArtifact},
	{"race/ok/federation-create-one-winner", testRaceFederationCreate},
	{"race/ok/federation-terminate-one-winner", testRaceFederationTerminate},
	{"race/ok/federation-updates-not-lost", testRaceFederationUpdates},
	{"race/ok/card-revoke-one-winner", testRaceCardRevoke},
	{"race/ok/session-joins-not-lost", testRaceSessionJoins},
	{"race/ok/session-delete-one-winner", testRaceSessionDelete},
}

// Racers is how many goroutines race in each concurrency case, and Rounds
// how many times the replay and artifact races are repeated.
const (
	Racers = 8
	Rounds = 20
)

// race runs fn in Racers goroutines released together and returns how
// many returned nil; errors other than the losers' expected one fail t.
func race(t *testing.T, lose error, fn func(i int) error) int {
	t.Helper()
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, Racers)
	for i := range Racers {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	wins := 0
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case lose == nil || !errors.Is(err, lose):
			t.Fatalf("racer failed: %v", err)
		}
	}
	return wins
}

func testRaceReplay(t *testing.T, s store.Store) {
	for r := range Rounds {
		k := store.MessageIDKey(provider(1), fmt.Sprintf("urn:uuid:race-%d", r))
		wins := race(t, store.ErrReplay, func(int) error {
			return s.CheckAndInsert(ctx, k, at(time.Hour), t0)
		})
		wantEqual(t, wins, 1)
	}
}

func testRaceArtifact(t *testing.T, s store.Store) {
	for r := range Rounds {
		a := newArtifact(fmt.Sprintf("race-%d", r))
		must(t, s.PutArtifact(ctx, a))
		var mu sync.Mutex
		var got []store.Artifact
		wins := race(t, store.ErrNotFound, func(int) error {
			v, err := s.TakeArtifact(ctx, a.Handle, at(time.Minute))
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				got = append(got, v)
			}
			return err
		})
		wantEqual(t, wins, 1)
		wantEqual(t, got, []store.Artifact{a})
	}
}

func testRaceFederationCreate(t *testing.T, s store.Store) {
	newPrincipal(t, s, "p-1")
	var mu sync.Mutex
	var winners []string
	wins := race(t, store.ErrAlreadyExists, func(i int) error {
		nameID := fmt.Sprintf("nid-%d", i)
		err := s.CreateFederation(ctx, store.Federation{PrincipalID: "p-1", ProviderID: provider(1),
			NameID: nameID, Created: t0})
		mu.Lock()
		defer mu.Unlock()
		if err == nil {
			winners = append(winners, nameID)
		}
		return err
	})
	wantEqual(t, wins, 1)
	f, err := s.Federation(ctx, "p-1", provider(1))
	must(t, err)
	wantEqual(t, []string{f.NameID}, winners)
}

func testRaceFederationTerminate(t *testing.T, s store.Store) {
	newPrincipal(t, s, "p-1")
	newFederation(t, s, "p-1", provider(1), "patient-1")
	wins := race(t, store.ErrConflict, func(i int) error {
		_, err := s.UpdateFederation(ctx, "p-1", provider(1), func(f store.Federation) (store.Federation, error) {
			if !f.Active() {
				return f, store.ErrConflict
			}
			f.Terminated = at(time.Duration(i+1) * time.Minute)
			return f, nil
		})
		return err
	})
	wantEqual(t, wins, 1)
}

func testRaceFederationUpdates(t *testing.T, s store.Store) {
	newPrincipal(t, s, "p-1")
	newFederation(t, s, "p-1", provider(1), "")
	wins := race(t, nil, func(i int) error {
		_, err := s.UpdateFederation(ctx, "p-1", provider(1), func(f store.Federation) (store.Federation, error) {
			f.SPProvidedID += fmt.Sprintf("[%d]", i)
			return f, nil
		})
		return err
	})
	wantEqual(t, wins, Racers)
	f, err := s.Federation(ctx, "p-1", provider(1))
	must(t, err)
	for i := range Racers {
		if strings.Count(f.SPProvidedID, fmt.Sprintf("[%d]", i)) != 1 {
			t.Fatalf("SPProvidedID %q lost or doubled update %d", f.SPProvidedID, i)
		}
	}
}

func testRaceCardRevoke(t *testing.T, s store.Store) {
	newPrincipal(t, s, "p-1")
	c := newCard("p-1", 1)
	must(t, s.IssueCard(ctx, c))
	wins := race(t, store.ErrConflict, func(i int) error {
		_, err := s.RevokeCard(ctx, c.Number, at(time.Duration(i+1)*time.Minute))
		return err
	})
	wantEqual(t, wins, 1)
}

func testRaceSessionJoins(t *testing.T, s store.Store) {
	newPrincipal(t, s, "p-1")
	must(t, s.CreateSession(ctx, newSession("s-a", "p-1", 0)))
	race(t, nil, func(i int) error {
		_, err := s.UpdateSession(ctx, "s-a", func(v store.Session) (store.Session, error) {
			v.Participants = append(v.Participants, participant(i))
			return v, nil
		})
		return err
	})
	got, err := s.Session(ctx, "s-a")
	must(t, err)
	wantEqual(t, len(got.Participants), Racers)
}

func testRaceSessionDelete(t *testing.T, s store.Store) {
	newPrincipal(t, s, "p-1")
	a := newSession("s-a", "p-1", 2)
	must(t, s.CreateSession(ctx, a))
	var mu sync.Mutex
	var got []store.Session
	wins := race(t, store.ErrNotFound, func(int) error {
		v, err := s.DeleteSession(ctx, "s-a")
		mu.Lock()
		defer mu.Unlock()
		if err == nil {
			got = append(got, v)
		}
		return err
	})
	wantEqual(t, wins, 1)
	wantEqual(t, got, []store.Session{a})
}
