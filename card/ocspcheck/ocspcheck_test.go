package ocspcheck

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log/slog"
	"math/big"
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
	a, cert := cardRA(t, &clock)
	other, _ := cardRA(t, &now)
	var asked atomic.Int32
	responder := a.Responder(time.Hour)
	answer := func(der []byte) []byte {
		asked.Add(1)
		resp, _ := responder.Respond(der)
		return resp
	}
	url := serve(t, &answer)
	c := &Client{Responder: url, Log: slog.New(slog.DiscardHandler)}
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
	fresh := &Client{Responder: url, Log: slog.New(slog.DiscardHandler)}
	if _, err := fresh.CheckOCSP(ctx, cert, a.CardCA(), now); !errors.Is(err, ErrBadAnswer) {
		t.Errorf("fail/answer-of-another-ca: %v, want ErrBadAnswer", err)
	}
	if _, err := (&Client{Log: slog.New(slog.DiscardHandler)}).CheckOCSP(ctx, cert, a.CardCA(), now); !errors.Is(err, ErrNoResponder) {
		t.Errorf("fail/no-responder: %v, want ErrNoResponder", err)
	}
}

// cardRA is an RA whose clock reads *clock, and the card HIC-1 it issued.
func cardRA(t *testing.T, clock *time.Time) (*ra.Authority, *x509.Certificate) {
	t.Helper()
	a, err := ra.Init(ra.Config{Dir: t.TempDir(), Now: func() time.Time { return *clock }})
	if err != nil {
		t.Fatal(err)
	}
	key, _ := ra.NewKey("p256", nil)
	cert, err := a.IssueCard("HIC-1", key.Public())
	if err != nil {
		t.Fatal(err)
	}
	return a, cert
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
	a, cert := cardRA(t, &clock)
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

// TestMaxAge: an answer is cached no longer than MaxAge after its
// thisUpdate, however late its nextUpdate, and an answer whose thisUpdate
// is older than MaxAge is refused, with or without nextUpdate (RFC 6960
// §3.2 item 5), so the caller falls back to the CRL.
func TestMaxAge(t *testing.T) {
	now := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	clock := now
	a, cert := cardRA(t, &clock)
	var asked atomic.Int32
	responder := a.Responder(30 * 24 * time.Hour) // nextUpdate a month on
	answer := func(req []byte) []byte {
		asked.Add(1)
		der, err := responder.Respond(req)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	url := serve(t, &answer)
	ctx := context.Background()
	c := &Client{Responder: url, Log: slog.New(slog.DiscardHandler)}
	for i, at := range []time.Time{now, now.Add(59 * time.Minute), now.Add(61 * time.Minute)} {
		clock = at
		if st, err := c.CheckOCSP(ctx, cert, a.CardCA(), at); err != nil || st != trust.OCSPGood {
			t.Fatalf("check %d: %d, %v", i, st, err)
		}
	}
	if n := asked.Load(); n != 2 {
		t.Errorf("ok/cached-at-most-default-max-age: %d requests for 3 checks, want 2", n)
	}

	asked.Store(0)
	short := &Client{Responder: url, MaxAge: 10 * time.Minute, Log: slog.New(slog.DiscardHandler)}
	for i, at := range []time.Time{now, now.Add(9 * time.Minute), now.Add(11 * time.Minute)} {
		clock = at
		if st, err := short.CheckOCSP(ctx, cert, a.CardCA(), at); err != nil || st != trust.OCSPGood {
			t.Fatalf("max-age 10m, check %d: %d, %v", i, st, err)
		}
	}
	if n := asked.Load(); n != 2 {
		t.Errorf("ok/cached-at-most-max-age: %d requests for 3 checks, want 2", n)
	}

	clock = now.Add(-2 * time.Hour) // the responder answers with a two-hour-old thisUpdate
	if st, err := (&Client{Responder: url, Log: slog.New(slog.DiscardHandler)}).CheckOCSP(ctx, cert, a.CardCA(), now); !errors.Is(err, ErrBadAnswer) || st != trust.OCSPUnknown {
		t.Errorf("fail/this-update-older-than-max-age: status %d, %v, want unknown and ErrBadAnswer", st, err)
	}

	// An answer without nextUpdate, from a CA of the test's own whose key
	// it holds (the RA always sets nextUpdate).
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test card CA"},
		NotBefore: now.AddDate(-1, 0, 0), NotAfter: now.AddDate(1, 0, 0), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	cardDER, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "card"},
		NotBefore: now.AddDate(-1, 0, 0), NotAfter: now.AddDate(1, 0, 0)}, ca, cert.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	card, _ := x509.ParseCertificate(cardDER)
	var thisUpdate time.Time
	asked.Store(0)
	answer = func([]byte) []byte {
		asked.Add(1)
		der, err := ocsp.CreateResponse(ca, ca, ocsp.Response{SerialNumber: card.SerialNumber, Status: ocsp.Good, ThisUpdate: thisUpdate}, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	thisUpdate = now.Add(-2 * time.Hour)
	if st, err := (&Client{Responder: url, Log: slog.New(slog.DiscardHandler)}).CheckOCSP(ctx, card, ca, now); !errors.Is(err, ErrBadAnswer) || st != trust.OCSPUnknown {
		t.Errorf("fail/no-next-update-older-than-max-age: status %d, %v, want unknown and ErrBadAnswer", st, err)
	}
	thisUpdate = now.Add(-10 * time.Minute)
	nn := &Client{Responder: url, Log: slog.New(slog.DiscardHandler)}
	for i := range 2 {
		if st, err := nn.CheckOCSP(ctx, card, ca, now); err != nil || st != trust.OCSPGood {
			t.Errorf("ok/no-next-update-recent, check %d: status %d, %v", i, st, err)
		}
	}
	if n := asked.Load(); n != 3 {
		t.Errorf("ok/no-next-update-not-cached: %d requests for 3 checks, want 3", n)
	}
}
