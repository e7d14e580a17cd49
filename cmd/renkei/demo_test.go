package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestDemo runs `renkei demo` as a newcomer would and checks what it
// promises: every step passes, the replayed assertion and the revoked card
// are refused, the card signs through the real PC/SC stack, and the portal reads the pairwise NameID, never the principal.
func TestDemo(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"demo", "-dir", t.TempDir()}, &out); err != nil {
		t.Fatalf("demo failed: %v\n%s", err, out.String())
	}
	got := out.String()
	for _, want := range []string{
		"All steps passed",
		"refused: store: already exists",
		"refused: trust: certificate revoked",
		"AuthnContext urn:oasis:names:tc:SAML:2.0:ac:classes:SmartcardPKI",
		"PIN verified, the card signed one TLS 1.3 handshake (1 GENERAL AUTHENTICATE)",
		"card-login listener authenticated card HIC-0000-0001",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("demo output lacks %q:\n%s", want, got)
		}
	}
	if strings.Count(got, "   ok (") != 10 {
		t.Errorf("want 10 steps ok:\n%s", got)
	}
}

func TestUnknownCommand(t *testing.T) {
	if err := run(context.Background(), []string{"serve-everything"}, &bytes.Buffer{}); err == nil {
		t.Fatal("fail/unknown-command: accepted")
	}
}
