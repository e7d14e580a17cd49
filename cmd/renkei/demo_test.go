package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestDemo runs `renkei demo` as a newcomer would and checks the evidence
// each step promises: the IdP and the portal serve on loopback, xmlsec1
// verifies the metadata and the assertion, the card signs the card-login
// handshake through the real PC/SC stack, the portal reads a pairwise
// NameID (never the principal), SmartcardPKI and the DS bootstrap, the
// replayed Response and the revoked card are refused, the session answers
// without the card and ForceAuthn needs it again; and every server is
// stopped when the demo returns.
func TestDemo(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"demo", "-dir", t.TempDir()}, &out); err != nil {
		t.Fatalf("demo failed: %v\n%s", err, out.String())
	}
	got := out.String()
	for _, want := range []string{
		"All steps passed",
		"xmlsec1 verified ",
		"HTTP-Redirect SingleSignOnService https://127.0.0.1:",
		"GET portal /login 302 -> GET IdP /sso 303 -> GET IdP card-login /login 200 -> POST portal /acs 200",
		"the card signed 1 TLS handshake (1 GENERAL AUTHENTICATE) at the card-login listener",
		"AuthnContext urn:oasis:names:tc:SAML:2.0:ac:classes:SmartcardPKI",
		"DiscoveryEPR: address https://ds.renkei.test/disco, mechanism urn:liberty:security:2006-08:ClientTLS:SAMLV2, 1 token(s)",
		"xmlsec1: assertion _",
		"HTTP 403, refused: store: already exists: identifier already used",
		"GET portal /login 302 -> GET IdP /sso 200 -> POST portal /acs 200",
		"no card-login hop, 0 GENERAL AUTHENTICATE; same NameID",
		"ForceAuthn: the card signed 1 fresh TLS handshake",
		"IdP card-login page, HTTP 403: The certificate has been revoked.",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("demo output lacks %q:\n%s", want, got)
		}
	}
	if n := strings.Count(got, "   ok ("); n != 13 {
		t.Errorf("%d steps ok, want 13:\n%s", n, got)
	}
	principal := regexp.MustCompile(`(principal-[0-9a-f]+) holds card`).FindStringSubmatch(got)
	nameID := regexp.MustCompile(`pairwise persistent NameID (\S+)`).FindStringSubmatch(got)
	if principal == nil || nameID == nil || strings.Contains(nameID[1], principal[1]) {
		t.Errorf("principal %q, NameID %q: want a pseudonym apart from the principal", principal, nameID)
	}
	stopped(t, got)
}

// stopped checks that nothing listens any more on the addresses the demo
// printed.
func stopped(t *testing.T, out string) {
	t.Helper()
	addrs := regexp.MustCompile(`https://(127\.0\.0\.1:\d+)`).FindAllStringSubmatch(out, -1)
	if len(addrs) < 3 {
		t.Fatalf("found %d listener addresses in the output", len(addrs))
	}
	for _, a := range addrs {
		if c, err := net.DialTimeout("tcp", a[1], time.Second); err == nil {
			c.Close()
			t.Errorf("%s still listens after the demo", a[1])
		}
	}
}

func TestUnknownCommand(t *testing.T) {
	if err := run(context.Background(), []string{"serve-everything"}, &bytes.Buffer{}); err == nil {
		t.Fatal("fail/unknown-command: accepted")
	}
}

// TestDemoFailure checks that a failing step stops the demo with its
// number, its name and the cause, and that the output says FAILED.
func TestDemoFailure(t *testing.T) {
	file := t.TempDir() + "/not-a-directory"
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err := run(context.Background(), []string{"demo", "-dir", file}, &out)
	if err == nil || !strings.HasPrefix(err.Error(), "step 1 (registration authority") {
		t.Fatalf("fail/dir-is-a-file: got %v", err)
	}
	if !strings.Contains(out.String(), "   FAILED: ") || strings.Contains(out.String(), "All steps passed") {
		t.Errorf("fail/dir-is-a-file: output\n%s", out.String())
	}
}
