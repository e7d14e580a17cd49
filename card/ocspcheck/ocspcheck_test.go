package ocspcheck

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/card/trust"
	"github.com/renkei-idwsf/renkei/ra"
)

// TestCache: an answer is kept until its nextUpdate (one request for two
// logins), asked again after it, and never kept from a responder whose
// answers are signed by another CA, which are refused.
func TestCache(t *testing.T) {
	now := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	clock := now // the RA's
	a, err := ra.Init(ra.Config{Dir: t.TempDir(), Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	other, err := ra.Init(ra.Config{Dir: t.TempDir(), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	key, _ := ra.NewKey("p256", nil)
	cert, err := a.IssueCard("HIC-1", key.Public())
	if err != nil {
		t.Fatal(err)
	}
	var asked atomic.Int32
	responder := a.Responder(time.Hour)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		der, _ := io.ReadAll(r.Body)
		resp, _ := responder.Respond(der)
		w.Write(resp)
	}))
	defer srv.Close()
	c := &Client{Responder: srv.URL, Log: slog.New(slog.DiscardHandler)}
	ctx := context.Background()
	for i, at := range []time.Time{now, now.Add(59 * time.Minute), now.Add(61 * time.Minute)} {
		clock = at
		if st, err := c.CheckOCSP(ctx, cert, a.CardCA(), at); err != nil || st != trust.OCSPGood {
			t.Fatalf("check %d: %d, %v", i, st, err)
		}
	}
	if n := asked.Load(); n != 2 {
		t.Errorf("ok/cached-until-next-update: %d requests for 3 checks, want 2", n)
	}

	responder = other.Responder(time.Hour)
	fresh := &Client{Responder: srv.URL, Log: slog.New(slog.DiscardHandler)}
	if _, err := fresh.CheckOCSP(ctx, cert, a.CardCA(), now); !errors.Is(err, ErrBadAnswer) {
		t.Errorf("fail/answer-of-another-ca: %v, want ErrBadAnswer", err)
	}
	if _, err := (&Client{Log: slog.New(slog.DiscardHandler)}).CheckOCSP(ctx, cert, a.CardCA(), now); !errors.Is(err, ErrNoResponder) {
		t.Errorf("fail/no-responder: %v, want ErrNoResponder", err)
	}
}
