package discovery_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/discovery"
	"github.com/renkei-idwsf/renkei/internal/testkit/dskit"
	"github.com/renkei-idwsf/renkei/store"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/disco"
)

// countingStore counts the DS's session reads and writes.
type countingStore struct {
	discovery.Store
	reads, writes atomic.Int32
}

func (s *countingStore) SessionByIndex(ctx context.Context, provider, index string) (store.Session, error) {
	s.reads.Add(1)
	return s.Store.SessionByIndex(ctx, provider, index)
}

func (s *countingStore) UpdateSession(ctx context.Context, id string, fn func(store.Session) (store.Session, error)) (store.Session, error) {
	s.writes.Add(1)
	return s.Store.UpdateSession(ctx, id, fn)
}

func sessionFed(t *testing.T) (*dskit.Federation, *countingStore) {
	cs := &countingStore{}
	f := dskit.New(t, dskit.Options{WrapStore: func(s discovery.Store) discovery.Store { cs.Store = s; return cs }})
	f.Link(t, f.Principal, false)
	return f, cs
}

var allSamples = byType(dskit.Clinical, dskit.Checkup, dskit.Appointment, dskit.Eligibility, dskit.Pension)

func selfHeader() wsf.Header {
	return wsf.Header{UsageDirectives: []wsf.UsageDirective{wsf.PurposeDirective(wsf.PurposeSelf)}}
}

// TestQueryJoinsSession: a Query with the DS token of an IdP session makes
// every WSP a participant of that session in one write, each with the
// pairwise NameID its token carries, and each token's AuthnStatement
// carries its WSP's SessionIndex; a second Query reads the session once
// and writes nothing.
func TestQueryJoinsSession(t *testing.T) {
	f, cs := sessionFed(t)
	id, dsIndex := f.StartSession(t, f.Principal, time.Hour)
	c, epr := portal(t, f, f.Principal, dskit.TokenOptions{SessionIndex: dsIndex})
	indexes := map[string]string{}
	for round := 1; round <= 2; round++ {
		r, _, err := query(t, f, c, epr, allSamples, selfHeader())
		if err != nil || r.Status.Code != disco.OK || len(r.EPRs) != len(f.WSPs) {
			t.Fatalf("round %d: %v, status %+v, %d EPRs", round, err, r, len(r.EPRs))
		}
		if got := cs.reads.Load(); got != int32(round) {
			t.Fatalf("round %d: %d session reads in all, want one per Query", round, got)
		}
		if got := cs.writes.Load(); got != 1 {
			t.Fatalf("round %d: %d session writes in all, want the first Query's one", round, got)
		}
		sess, err := f.Store.Session(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		providers := map[string]bool{}
		for _, w := range f.WSPs {
			providers[w.EntityID] = true
		}
		if len(sess.Participants) != 1+len(providers) {
			t.Fatalf("round %d: %d participants, want the DS and %d WSP providers", round, len(sess.Participants), len(providers))
		}
		for _, w := range f.WSPs {
			tok := wspToken(t, f, w, findEPR(t, r, w))
			part, ok := sess.Participant(w.EntityID)
			as := tok.Assertion.AuthnStatements
			switch {
			case !ok:
				t.Fatalf("%s does not participate", w.EntityID)
			case len(as) != 1 || as[0].SessionIndex != part.SessionIndex || part.SessionIndex == dsIndex:
				t.Fatalf("%s: token AuthnStatements %+v, participant %+v", w.EntityID, as, part)
			case part.NameID != tok.Subject.Value || part.NameIDFormat != tok.Subject.Format:
				t.Fatalf("%s: participant NameID %q, token's %q", w.EntityID, part.NameID, tok.Subject.Value)
			case round == 2 && indexes[w.EntityID] != part.SessionIndex:
				t.Fatalf("%s: SessionIndex changed from %q to %q", w.EntityID, indexes[w.EntityID], part.SessionIndex)
			}
			indexes[w.EntityID] = part.SessionIndex
		}
	}
}

func findEPR(t *testing.T, r *disco.QueryResponse, w *dskit.WSP) *wsf.EPR {
	t.Helper()
	for _, e := range r.EPRs {
		if e.Address == w.Address {
			return e
		}
	}
	t.Fatalf("no EPR for %s", w.Address)
	return nil
}

// TestQueryEndedSession: the DS token of a session that was logged out
// (gone from the store) or ran out is Forbidden, as the token of a
// terminated federation is, and nothing is minted; a token without a
// SessionIndex reads no session.
func TestQueryEndedSession(t *testing.T) {
	f, cs := sessionFed(t)
	t.Run("fail/logged-out", func(t *testing.T) {
		id, dsIndex := f.StartSession(t, f.Principal, time.Hour)
		c, epr := portal(t, f, f.Principal, dskit.TokenOptions{SessionIndex: dsIndex})
		if r, _, err := query(t, f, c, epr, allSamples, selfHeader()); err != nil || r.Status.Code != disco.OK {
			t.Fatalf("before logout: %v %+v", err, r)
		}
		if _, err := f.Store.DeleteSession(context.Background(), id); err != nil {
			t.Fatal(err)
		}
		r, _, err := query(t, f, c, epr, allSamples, selfHeader())
		if err != nil || r.Status.Code != disco.Forbidden || len(r.EPRs) != 0 {
			t.Fatalf("after logout: %v, status %+v, %d EPRs; want Forbidden", err, r, len(r.EPRs))
		}
	})
	t.Run("fail/session-ran-out", func(t *testing.T) {
		_, dsIndex := f.StartSession(t, f.Principal, time.Minute)
		c, epr := portal(t, f, f.Principal, dskit.TokenOptions{SessionIndex: dsIndex})
		f.Clock.Advance(2 * time.Minute)
		r, _, err := query(t, f, c, epr, allSamples, selfHeader())
		if err != nil || r.Status.Code != disco.Forbidden || len(r.EPRs) != 0 {
			t.Fatalf("%v, status %+v; want Forbidden", err, r)
		}
	})
	t.Run("ok/no-session-index", func(t *testing.T) {
		before := cs.reads.Load()
		c, epr := portal(t, f, f.Principal, dskit.TokenOptions{})
		r, _, err := query(t, f, c, epr, allSamples, selfHeader())
		if err != nil || r.Status.Code != disco.OK || len(r.EPRs) != len(f.WSPs) {
			t.Fatalf("%v, status %+v", err, r)
		}
		if cs.reads.Load() != before {
			t.Fatal("a token without SessionIndex read a session")
		}
	})
}

// TestQueryDeafWSP: a WSP whose metadata lists no SOAP SingleLogoutService
// does not join the session (a logout could not reach it, and would count
// it as a failure): its token carries no SessionIndex, the others do.
func TestQueryDeafWSP(t *testing.T) {
	const deaf = "https://insurer.renkei.test/metadata"
	f := dskit.New(t, dskit.Options{Deaf: []string{deaf}})
	f.Link(t, f.Principal, false)
	id, dsIndex := f.StartSession(t, f.Principal, time.Hour)
	c, epr := portal(t, f, f.Principal, dskit.TokenOptions{SessionIndex: dsIndex})
	r, _, err := query(t, f, c, epr, allSamples, selfHeader())
	if err != nil || r.Status.Code != disco.OK {
		t.Fatalf("%v %+v", err, r)
	}
	sess, err := f.Store.Session(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	seen := false
	for _, w := range f.WSPs {
		seen = seen || w.EntityID == deaf
		tok := wspToken(t, f, w, findEPR(t, r, w))
		_, joined := sess.Participant(w.EntityID)
		index := ""
		if as := tok.Assertion.AuthnStatements; len(as) > 0 {
			index = as[0].SessionIndex
		}
		if hears := w.EntityID != deaf; joined != hears || (index != "") != hears {
			t.Fatalf("%s (hears logout %v): joined %v, token SessionIndex %q", w.EntityID, hears, joined, index)
		}
	}
	if !seen {
		t.Fatalf("no WSP of %s in the federation", deaf)
	}
}
