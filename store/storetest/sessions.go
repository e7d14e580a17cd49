package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/store"
)

var sessionCases = []testCase{
	{"session/ok/create-and-lookups", testSessionLookups},
	{"session/fail/unknown-principal", testSessionUnknownPrincipal},
	{"session/fail/duplicate-id-or-index-stores-nothing", testSessionDuplicate},
	{"session/fail/invalid-participants", testSessionInvalid},
	{"session/ok/update-adds-participant", testSessionUpdate},
	{"session/fail/update-closure-error-stores-nothing", testSessionUpdateError},
	{"session/ok/delete-returns-participants-once", testSessionDelete},
}

// participant returns the n-th sample participant.
func participant(n int) store.Participant {
	return store.Participant{ProviderID: provider(n), SessionIndex: "idx-" + provider(n),
		NameID: "nid-" + provider(n), NameIDFormat: "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
		Joined: at(time.Duration(n) * time.Second)}
}

// newSession returns a session of principal with participants 1..n.
func newSession(id, principal string, n int) store.Session {
	s := store.Session{ID: id, PrincipalID: principal, AuthnInstant: t0,
		AuthnContext: "urn:oasis:names:tc:SAML:2.0:ac:classes:SmartcardPKI",
		Created:      t0, Expires: at(8 * time.Hour)}
	if n > 0 {
		s.CardNumber = "HIC-" + id // and none on a session without participants
	}
	for i := 1; i <= n; i++ {
		p := participant(i)
		p.SessionIndex += "-" + id
		s.Participants = append(s.Participants, p)
	}
	return s
}

func testSessionLookups(t *testing.T, s store.Store) {
	newPrincipal(t, s, "p-1")
	a, b := newSession("s-a", "p-1", 2), newSession("s-b", "p-1", 0)
	b.Created = at(time.Minute)
	must(t, s.CreateSession(ctx, a))
	must(t, s.CreateSession(ctx, b))
	got, err := s.Session(ctx, "s-a")
	must(t, err)
	wantEqual(t, got, a)
	got, err = s.SessionByIndex(ctx, provider(2), a.Participants[1].SessionIndex)
	must(t, err)
	wantEqual(t, got, a)
	all, err := s.Sessions(ctx, "p-1")
	must(t, err)
	wantEqual(t, all, []store.Session{a, b})
	if p, ok := got.Participant(provider(1)); !ok || p != a.Participants[0] {
		t.Fatalf("Participant(%s) = %+v, %v", provider(1), p, ok)
	}
	_, err = s.SessionByIndex(ctx, provider(1), a.Participants[1].SessionIndex)
	wantErr(t, err, store.ErrNotFound)
}

func testSessionUnknownPrincipal(t *testing.T, s store.Store) {
	wantErr(t, s.CreateSession(ctx, newSession("s-a", "nobody", 1)), store.ErrNotFound)
	_, err := s.Session(ctx, "s-a")
	wantErr(t, err, store.ErrNotFound)
}

func testSessionDuplicate(t *testing.T, s store.Store) {
	newPrincipal(t, s, "p-1")
	a := newSession("s-a", "p-1", 1)
	must(t, s.CreateSession(ctx, a))
	wantErr(t, s.CreateSession(ctx, newSession("s-a", "p-1", 0)), store.ErrAlreadyExists)
	c := newSession("s-c", "p-1", 2)
	c.Participants[0], c.Participants[1] = c.Participants[1], a.Participants[0]
	wantErr(t, s.CreateSession(ctx, c), store.ErrAlreadyExists)
	_, err := s.Session(ctx, "s-c")
	wantErr(t, err, store.ErrNotFound)
	got, err := s.Session(ctx, "s-a")
	must(t, err)
	wantEqual(t, got, a)
}

func testSessionInvalid(t *testing.T, s store.Store) {
	newPrincipal(t, s, "p-1")
	twice := newSession("s-a", "p-1", 1)
	twice.Participants = append(twice.Participants, twice.Participants[0])
	wantErr(t, s.CreateSession(ctx, twice), store.ErrInvalid)
	noIndex := newSession("s-a", "p-1", 1)
	noIndex.Participants[0].SessionIndex = ""
	wantErr(t, s.CreateSession(ctx, noIndex), store.ErrInvalid)
	noExpiry := newSession("s-a", "p-1", 0)
	noExpiry.Expires = time.Time{}
	wantErr(t, s.CreateSession(ctx, noExpiry), store.ErrInvalid)
}

func testSessionUpdate(t *testing.T, s store.Store) {
	newPrincipal(t, s, "p-1")
	a := newSession("s-a", "p-1", 1)
	must(t, s.CreateSession(ctx, a))
	joined := participant(3)
	got, err := s.UpdateSession(ctx, "s-a", func(v store.Session) (store.Session, error) {
		v.Participants = append(v.Participants, joined)
		v.Expires = at(9 * time.Hour)
		return v, nil
	})
	must(t, err)
	a.Participants, a.Expires = append(a.Participants, joined), at(9*time.Hour)
	wantEqual(t, got, a)
	stored, err := s.SessionByIndex(ctx, joined.ProviderID, joined.SessionIndex)
	must(t, err)
	wantEqual(t, stored, a)
	_, err = s.UpdateSession(ctx, "s-a", func(v store.Session) (store.Session, error) {
		v.PrincipalID = "p-2"
		return v, nil
	})
	wantErr(t, err, store.ErrInvalid)
	_, err = s.UpdateSession(ctx, "s-x", func(v store.Session) (store.Session, error) { return v, nil })
	wantErr(t, err, store.ErrNotFound)
}

func testSessionUpdateError(t *testing.T, s store.Store) {
	newPrincipal(t, s, "p-1")
	a := newSession("s-a", "p-1", 2)
	must(t, s.CreateSession(ctx, a))
	refuse := errors.New("refused")
	_, err := s.UpdateSession(ctx, "s-a", func(v store.Session) (store.Session, error) {
		v.Participants = nil
		return v, refuse
	})
	if err != refuse {
		t.Fatalf("got error %v, want the closure's error unchanged", err)
	}
	got, err := s.Session(ctx, "s-a")
	must(t, err)
	wantEqual(t, got, a)
}

func testSessionDelete(t *testing.T, s store.Store) {
	newPrincipal(t, s, "p-1")
	a := newSession("s-a", "p-1", 2)
	must(t, s.CreateSession(ctx, a))
	got, err := s.DeleteSession(ctx, "s-a")
	must(t, err)
	wantEqual(t, got, a)
	_, err = s.DeleteSession(ctx, "s-a")
	wantErr(t, err, store.ErrNotFound)
	_, err = s.SessionByIndex(ctx, provider(1), a.Participants[0].SessionIndex)
	wantErr(t, err, store.ErrNotFound)
	b := newSession("s-b", "p-1", 2)
	b.Participants = a.Participants
	must(t, s.CreateSession(ctx, b))
}
