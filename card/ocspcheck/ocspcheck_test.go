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

	"golang.org/x/crypto/ocsp"

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

// serve answers OCSP requests with *answer, which the test may change.
func serve(t *testing.T, answer *func(req []byte) []byte) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		der, _ := io.ReadAll(r.Body)
		w.Write((*answer)(der))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestResponderCertificate: an answer signed by a delegated responder
// certificate is accepted only if the certificate carries id-kp-OCSPSigning
// and is valid at the check's time (RFC 6960 §4.2.2.2); an answer signed by
// another card of the same CA, which x/crypto/ocsp alone accepts, is
// refused.
func TestResponderCertificate(t *testing.T) {
	now := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	clock := now
	a, err := ra.Init(ra.Config{Dir: t.TempDir(), Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	key, _ := ra.NewKey("p256", nil)
	cert, err := a.IssueCard("HIC-1", key.Public())
	if err != nil {
		t.Fatal(err)
	}
	otherKey, _ := ra.NewKey("p256", nil)
	otherCard, err := a.IssueCard("HIC-2", otherKey.Public())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.IssueOCSPSigner(time.Hour); err != nil {
		t.Fatal(err)
	}
	delegated, err := a.DelegatedResponder(10 * time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var answer func([]byte) []byte
	url := serve(t, &answer)
	ctx := context.Background()
	check := func(at time.Time) (trust.OCSPStatus, error) {
		clock = at
		return (&Client{Responder: url, Log: slog.New(slog.DiscardHandler)}).CheckOCSP(ctx, cert, a.CardCA(), at)
	}

	answer = func([]byte) []byte {
		der, err := ocsp.CreateResponse(a.CardCA(), otherCard, ocsp.Response{SerialNumber: cert.SerialNumber, Status: ocsp.Good,
			ThisUpdate: clock, NextUpdate: clock.Add(10 * time.Minute), Certificate: otherCard}, otherKey)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ocsp.ParseResponseForCert(der, cert, a.CardCA()); err != nil {
			t.Fatalf("x/crypto/ocsp refuses the card-signed answer itself: %v", err)
		}
		return der
	}
	if st, err := check(now); !errors.Is(err, ErrBadAnswer) {
		t.Errorf("fail/signed-by-a-card: status %d, %v, want ErrBadAnswer", st, err)
	}

	answer = func(req []byte) []byte {
		der, err := delegated.Respond(req)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	if st, err := check(now.Add(30 * time.Minute)); err != nil || st != trust.OCSPGood {
		t.Errorf("ok/delegated-signer: status %d, %v", st, err)
	}
	if st, err := check(now.Add(2 * time.Hour)); !errors.Is(err, ErrBadAnswer) {
		t.Errorf("fail/delegated-signer-expired: status %d, %v, want ErrBadAnswer", st, err)
	}
	if st, err := check(now.Add(-time.Hour)); !errors.Is(err, ErrBadAnswer) {
		t.Errorf("fail/delegated-signer-not-yet-valid: status %d, %v, want ErrBadAnswer", st, err)
	}
}
