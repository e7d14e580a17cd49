package ra

import (
	"crypto"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"
)

// TestResponder: the RA's OCSP answers, signed by the card-issuer CA, say
// good for an issued card, revoked (with time and reason) for a card
// another process revoked after the responder was made, unknown for a
// serial the RA never issued as a card, and refuse requests about another
// CA or that do not parse.
func TestResponder(t *testing.T) {
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	a, err := Init(Config{Dir: dir, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	good, revoked := issue(t, a, "1001"), issue(t, a, "1002")
	service, _, err := a.IssueServer("idp", []string{"localhost"})
	if err != nil {
		t.Fatal(err)
	}
	r := a.Responder(0)
	other, err := Open(Config{Dir: dir, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Revoke("1002", 1); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		cert   *x509.Certificate
		status int
	}{
		{"ok/good", good, ocsp.Good},
		{"ok/revoked-by-another-process", revoked, ocsp.Revoked},
		{"ok/unknown-serial", &x509.Certificate{SerialNumber: service.SerialNumber}, ocsp.Unknown},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp := ask(t, r, c.cert, a.CardCA())
			if resp.Status != c.status {
				t.Fatalf("status %d, want %d", resp.Status, c.status)
			}
			if !resp.NextUpdate.Equal(now.Add(DefaultOCSPValidity)) {
				t.Errorf("nextUpdate %s, want %s", resp.NextUpdate, now.Add(DefaultOCSPValidity))
			}
			if c.status == ocsp.Revoked && (resp.RevocationReason != 1 || !resp.RevokedAt.Equal(now)) {
				t.Errorf("revoked at %s reason %d, want %s reason 1", resp.RevokedAt, resp.RevocationReason, now)
			}
		})
	}
	t.Run("fail/other-issuer", func(t *testing.T) {
		req, err := ocsp.CreateRequest(service, a.ServiceCA(), &ocsp.RequestOptions{Hash: crypto.SHA256})
		if err != nil {
			t.Fatal(err)
		}
		wantError(t, r, req, ocsp.Unauthorized)
	})
	t.Run("fail/malformed", func(t *testing.T) { wantError(t, r, []byte("\x30\x03not OCSP"), ocsp.Malformed) })
}

func issue(t *testing.T, a *Authority, number string) *x509.Certificate {
	t.Helper()
	k, err := NewKey("p256", nil)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := a.IssueCard(number, k.Public())
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func ask(t *testing.T, r *Responder, cert, issuer *x509.Certificate) *ocsp.Response {
	t.Helper()
	req, err := ocsp.CreateRequest(cert, issuer, nil)
	if err != nil {
		t.Fatal(err)
	}
	der, err := r.Respond(req)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := ocsp.ParseResponseForCert(der, cert, issuer)
	if err != nil {
		t.Fatalf("answer not signed by the card-issuer CA: %v", err)
	}
	return resp
}

func wantError(t *testing.T, r *Responder, req []byte, want ocsp.ResponseStatus) {
	t.Helper()
	der, err := r.Respond(req)
	if err != nil {
		t.Fatal(err)
	}
	_, err = ocsp.ParseResponse(der, nil)
	if re, ok := err.(ocsp.ResponseError); !ok || re.Status != want {
		t.Fatalf("answer %v, want the error status %v", err, want)
	}
}

// TestDelegatedResponder: answers signed by the delegated OCSP signer carry
// its certificate and verify against the card-issuer CA; a signer file
// from another RA is refused when the responder starts.
func TestDelegatedResponder(t *testing.T) {
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	a, err := Init(Config{Dir: dir, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	card := issue(t, a, "2001")
	if _, err := a.DelegatedResponder(0); err == nil {
		t.Fatal("fail/no-signer: a delegated responder without its files")
	}
	signer, err := a.IssueOCSPSigner(30 * 24 * time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	r, err := a.DelegatedResponder(0)
	if err != nil {
		t.Fatal(err)
	}
	resp := ask(t, r, card, a.CardCA())
	if resp.Status != ocsp.Good || resp.Certificate == nil || !resp.Certificate.Equal(signer) {
		t.Fatalf("ok/delegated: status %d, embedded certificate %v", resp.Status, resp.Certificate)
	}

	otherDir := t.TempDir()
	other, err := Init(Config{Dir: otherDir, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.IssueOCSPSigner(time.Hour); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{OCSPSignerCert, OCSPSignerKey} {
		b, err := os.ReadFile(filepath.Join(otherDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.DelegatedResponder(0); err == nil {
		t.Fatal("fail/foreign-signer: accepted a signer of another CA")
	}
}
