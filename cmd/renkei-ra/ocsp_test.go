package main

import (
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/renkei-idwsf/renkei/card/ocspcheck"
	"github.com/renkei-idwsf/renkei/card/trust"
	"github.com/renkei-idwsf/renkei/ra"
)

// TestOCSPServe: the responder renkei-ra ocsp serves tells the IdP's OCSP
// client that a card revoked by renkei-ra revoke is revoked, and another
// good, by POST; it answers GET too, and refuses other media types.
func TestOCSPServe(t *testing.T) {
	dir, cards := t.TempDir(), t.TempDir()
	mustRun(t, "init", "-dir", dir, "-ocsp-url", "http://127.0.0.1:8089/")
	mustRun(t, "card", "-dir", dir, "-number", "6001", "-out", filepath.Join(cards, "a.json"))
	if aia := cardCert(t, filepath.Join(cards, "a.json")).OCSPServer; len(aia) != 1 || aia[0] != "http://127.0.0.1:8089/" {
		t.Errorf("ok/card-names-responder: AIA OCSP %v", aia)
	}
	mustRun(t, "card", "-dir", dir, "-number", "6002", "-out", filepath.Join(cards, "b.json"))
	a, err := ra.Open(ra.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(ocspHandler(a.Responder(0), slog.New(slog.DiscardHandler)))
	defer srv.Close()
	mustRun(t, "revoke", "-dir", dir, "-number", "6002")

	client := &ocspcheck.Client{Responder: srv.URL, Log: slog.New(slog.DiscardHandler)}
	for name, c := range map[string]struct {
		file string
		want trust.OCSPStatus
	}{"ok/good": {"a.json", trust.OCSPGood}, "ok/revoked": {"b.json", trust.OCSPRevoked}} {
		st, err := client.CheckOCSP(context.Background(), cardCert(t, filepath.Join(cards, c.file)), a.CardCA(), time.Now())
		if err != nil || st != c.want {
			t.Errorf("%s: status %d, %v; want %d", name, st, err, c.want)
		}
	}

	req, err := ocsp.CreateRequest(cardCert(t, filepath.Join(cards, "b.json")), a.CardCA(), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(srv.URL + "/" + base64.StdEncoding.EncodeToString(req))
	if err != nil {
		t.Fatal(err)
	}
	der, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if r, err := ocsp.ParseResponseForCert(der, cardCert(t, filepath.Join(cards, "b.json")), a.CardCA()); err != nil || r.Status != ocsp.Revoked {
		t.Errorf("ok/get: %v", err)
	}
	mustRun(t, "ocsp-signer", "-dir", dir, "-validity", "24h")
	a, err = ra.Open(ra.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	dr, err := a.DelegatedResponder(0)
	if err != nil {
		t.Fatal(err)
	}
	delegated := httptest.NewServer(ocspHandler(dr, slog.New(slog.DiscardHandler)))
	defer delegated.Close()
	dc := &ocspcheck.Client{Responder: delegated.URL, Log: slog.New(slog.DiscardHandler)}
	if st, err := dc.CheckOCSP(context.Background(), cardCert(t, filepath.Join(cards, "b.json")), a.CardCA(), time.Now()); err != nil || st != trust.OCSPRevoked {
		t.Errorf("ok/delegated-signer: status %d, %v", st, err)
	}
	resp, err = http.Post(srv.URL, "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("fail/text-plain: HTTP %d", resp.StatusCode)
	}
}
