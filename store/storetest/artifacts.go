package storetest

import (
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/store"
)

var artifactCases = []testCase{
	{"artifact/ok/take-once", testArtifactTakeOnce},
	{"artifact/fail/taken-at-expiry", testArtifactExpired},
	{"artifact/fail/duplicate-handle", testArtifactDuplicate},
	{"artifact/ok/replace", testArtifactReplace},
}

var replayCases = []testCase{
	{"replay/fail/second-use", testReplaySecondUse},
	{"replay/ok/reuse-after-expiry", testReplayAfterExpiry},
	{"replay/ok/kinds-and-scopes-are-separate", testReplayScopes},
	{"replay/fail/expiry-not-after-now", testReplayBadWindow},
	{"replay/ok/seen-reads-without-recording", testReplaySeen},
}

var gcCases = []testCase{
	{"gc/ok/removes-only-expired", testGC},
}

// newArtifact returns an artifact valid for five minutes from t0.
func newArtifact(handle string) store.Artifact {
	return store.Artifact{Handle: handle, Issuer: "https://idp.example.jp", Recipient: provider(1),
		Message: []byte("<samlp:Response ID=\"r1\">\x00\xff</samlp:Response>"),
		Created: t0, Expires: at(5 * time.Minute)}
}

func testArtifactTakeOnce(t *testing.T, s store.Store) {
	a := newArtifact("AAQAAMh48/1oXIM+sDo7Dh2qMp1HM4IF5DaRNmDj6RdUmllwn9jJHyEgIi8=")
	must(t, s.PutArtifact(ctx, a))
	got, err := s.TakeArtifact(ctx, a.Handle, at(time.Minute))
	must(t, err)
	wantEqual(t, got, a)
	_, err = s.TakeArtifact(ctx, a.Handle, at(time.Minute))
	wantErr(t, err, store.ErrNotFound)
}

func testArtifactExpired(t *testing.T, s store.Store) {
	a := newArtifact("h-1")
	must(t, s.PutArtifact(ctx, a))
	_, err := s.TakeArtifact(ctx, a.Handle, a.Expires)
	wantErr(t, err, store.ErrNotFound)
	_, err = s.TakeArtifact(ctx, a.Handle, t0)
	wantErr(t, err, store.ErrNotFound)
}

func testArtifactDuplicate(t *testing.T, s store.Store) {
	a := newArtifact("h-1")
	must(t, s.PutArtifact(ctx, a))
	b := a
	b.Message = []byte("<other/>")
	wantErr(t, s.PutArtifact(ctx, b), store.ErrAlreadyExists)
	got, err := s.TakeArtifact(ctx, a.Handle, t0)
	must(t, err)
	wantEqual(t, got, a)
}

func testArtifactReplace(t *testing.T, s store.Store) {
	a := newArtifact("h-1")
	must(t, s.ReplaceArtifact(ctx, a)) // no artifact yet: stored
	b := a
	b.Recipient, b.Message, b.Created, b.Expires = provider(2), []byte("<renewed/>"), at(time.Minute), at(10*time.Minute)
	must(t, s.ReplaceArtifact(ctx, b))
	got, err := s.TakeArtifact(ctx, a.Handle, at(6*time.Minute)) // a would have expired
	must(t, err)
	wantEqual(t, got, b)
	_, err = s.TakeArtifact(ctx, a.Handle, at(6*time.Minute))
	wantErr(t, err, store.ErrNotFound)

	// An expired artifact is replaced too, and a replaced one still
	// refuses a plain put.
	c := newArtifact("h-2")
	must(t, s.PutArtifact(ctx, c))
	d := c
	d.Created, d.Expires = at(time.Hour), at(2*time.Hour)
	must(t, s.ReplaceArtifact(ctx, d))
	wantErr(t, s.PutArtifact(ctx, c), store.ErrAlreadyExists)
	got, err = s.TakeArtifact(ctx, c.Handle, at(90*time.Minute))
	must(t, err)
	wantEqual(t, got, d)
}

func testReplaySecondUse(t *testing.T, s store.Store) {
	k := store.NewReplayKey(store.ReplayAssertionID, "https://idp.example.jp", "_a7n-1")
	must(t, s.CheckAndInsert(ctx, k, at(time.Hour), t0))
	err := s.CheckAndInsert(ctx, k, at(2*time.Hour), at(time.Minute))
	wantErr(t, err, store.ErrReplay)
	wantErr(t, err, store.ErrAlreadyExists)
	wantErr(t, s.CheckAndInsert(ctx, k, at(2*time.Hour), at(59*time.Minute)), store.ErrReplay)
}

func testReplayAfterExpiry(t *testing.T, s store.Store) {
	k := store.MessageIDKey(provider(1), "urn:uuid:5b1f1c5e-7d2a-4c39-9a55-0f6c2f8d1a01")
	must(t, s.CheckAndInsert(ctx, k, at(time.Hour), t0))
	must(t, s.CheckAndInsert(ctx, k, at(3*time.Hour), at(time.Hour)))
	wantErr(t, s.CheckAndInsert(ctx, k, at(4*time.Hour), at(2*time.Hour)), store.ErrReplay)
}

func testReplayScopes(t *testing.T, s store.Store) {
	keys := []store.ReplayKey{
		store.MessageIDKey(provider(1), "urn:uuid:1"),
		store.MessageIDKey(provider(2), "urn:uuid:1"),
		store.NewReplayKey(store.ReplayRequestID, provider(1), "urn:uuid:1"),
		store.MessageIDKey(provider(1)+"urn:uuid:", "1"),
	}
	for _, k := range keys {
		must(t, s.CheckAndInsert(ctx, k, at(time.Hour), t0))
	}
	for _, k := range keys {
		wantErr(t, s.CheckAndInsert(ctx, k, at(time.Hour), t0), store.ErrReplay)
	}
}

func testReplaySeen(t *testing.T, s store.Store) {
	k := store.NewReplayKey(store.ReplayEndedSession, "https://idp.example.jp", "_s1")
	seen := func(now time.Time) bool {
		ok, err := s.Seen(ctx, k, now)
		must(t, err)
		return ok
	}
	if seen(t0) || seen(t0) {
		t.Fatal("an unrecorded key is seen")
	}
	must(t, s.CheckAndInsert(ctx, k, at(time.Hour), t0)) // Seen recorded nothing
	other := store.NewReplayKey(store.ReplayRequestID, "https://idp.example.jp", "_s1")
	if !seen(at(59*time.Minute)) || seen(at(time.Hour)) {
		t.Fatal("a recorded key is not seen until its expiry, and only until")
	}
	if ok, err := s.Seen(ctx, other, t0); err != nil || ok {
		t.Fatalf("another kind of the same value is seen: %v %v", ok, err)
	}
	_, err := s.Seen(ctx, store.ReplayKey{Kind: store.ReplayEndedSession}, t0)
	wantErr(t, err, store.ErrInvalid)
}

func testReplayBadWindow(t *testing.T, s store.Store) {
	k := store.MessageIDKey(provider(1), "urn:uuid:1")
	wantErr(t, s.CheckAndInsert(ctx, k, t0, t0), store.ErrInvalid)
	wantErr(t, s.CheckAndInsert(ctx, k, at(-time.Second), t0), store.ErrInvalid)
	wantErr(t, s.CheckAndInsert(ctx, store.ReplayKey{Kind: store.ReplayMessageID}, at(time.Hour), t0),
		store.ErrInvalid)
	must(t, s.CheckAndInsert(ctx, k, at(time.Hour), t0))
}

func testGC(t *testing.T, s store.Store) {
	newPrincipal(t, s, "p-1")
	old, live := newSession("s-old", "p-1", 1), newSession("s-live", "p-1", 1)
	old.Expires = at(time.Hour)
	must(t, s.CreateSession(ctx, old))
	must(t, s.CreateSession(ctx, live))
	oldArt, liveArt := newArtifact("h-old"), newArtifact("h-live")
	liveArt.Expires = at(8 * time.Hour)
	must(t, s.PutArtifact(ctx, oldArt))
	must(t, s.PutArtifact(ctx, liveArt))
	oldKey, liveKey := store.MessageIDKey("a", "1"), store.MessageIDKey("a", "2")
	must(t, s.CheckAndInsert(ctx, oldKey, at(time.Hour), t0))
	must(t, s.CheckAndInsert(ctx, liveKey, at(8*time.Hour), t0))
	r, err := s.GarbageCollect(ctx, at(time.Hour))
	must(t, err)
	wantEqual(t, r, store.GCResult{Sessions: 1, Artifacts: 1, SeenIDs: 1})
	_, err = s.Session(ctx, "s-old")
	wantErr(t, err, store.ErrNotFound)
	got, err := s.Session(ctx, "s-live")
	must(t, err)
	wantEqual(t, got, live)
	_, err = s.TakeArtifact(ctx, "h-live", at(time.Hour))
	must(t, err)
	wantErr(t, s.CheckAndInsert(ctx, liveKey, at(9*time.Hour), at(time.Hour)), store.ErrReplay)
	r, err = s.GarbageCollect(ctx, at(time.Hour))
	must(t, err)
	wantEqual(t, r, store.GCResult{})
}
