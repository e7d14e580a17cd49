package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDemoHeadless runs `renkei demo -headless` as a newcomer would: the
// role binaries built, every role its own process from the files an
// operator writes, then the story's six steps walked against them. It
// wants exit status 0, every step printed and held with the evidence it
// promises, and, once the command returns, no role process alive and no
// listener left on the addresses it printed.
func TestDemoHeadless(t *testing.T) {
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := run(ctx, []string{"demo", "-headless", "-dir", t.TempDir()}, &out); err != nil {
		t.Fatalf("demo -headless failed: %v\n%s", err, out.String())
	}
	got := out.String()
	for i := 1; i <= 6; i++ {
		if !strings.Contains(got, "\n"+strconv.Itoa(i)+". ") {
			t.Errorf("step %d is not printed", i)
		}
	}
	if n := strings.Count(got, "   ok ("); n != 6 || strings.Contains(got, "FAILED") {
		t.Errorf("%d steps ok, want 6", n)
	}
	for _, want := range []string{
		"every role ready",
		"GET portal /login 303 -> GET IdP /sso 303 -> GET IdP-card /login 200 -> POST portal /acs 303 -> GET portal / 200",
		"AuthnContext urn:oasis:names:tc:SAML:2.0:ac:classes:SmartcardPKI",
		"DiscoveryEPR: https://ds.renkei.test/metadata",
		"subject EncryptedID true",
		"the local identifiers are only in federations.sp_provided_id",
		"DST Query -> https://insurer.renkei.test/metadata",
		"none of the local identifiers in the WSPs'",
		`"Your appointment is booked."`,
		`"Insured", insurer number`,
		"logs in too, with AuthnContext urn:oasis:names:tc:SAML:2.0:ac:classes:X509",
		"(the visit logged out)",
		"whose accessor is hospital A",
		"All 6 steps held",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the output lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("output:\n%s", got)
	}
	stopped(t, got)
}

// TestDemoHeadlessNodes runs `renkei demo -headless -nodes`: two nodes
// each of the IdP, the DS and hospital A's WSP behind the demo's
// balancers over its throwaway PostgreSQL; between steps 2 and 3 one node
// of each is killed (SIGKILL) and the story goes on through the
// survivors. It wants every step held and, once the command returns, no
// process left (PostgreSQL's postmaster included) and nothing listening.
func TestDemoHeadlessNodes(t *testing.T) {
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := run(ctx, []string{"demo", "-headless", "-nodes", "-dir", t.TempDir()}, &out); err != nil {
		t.Fatalf("demo -headless -nodes failed: %v\n%s", err, out.String())
	}
	got := out.String()
	if n := strings.Count(got, "   ok ("); n != 6 || strings.Contains(got, "FAILED") {
		t.Errorf("%d steps ok, want 6", n)
	}
	for _, want := range []string{
		"PostgreSQL: a throwaway cluster at postgres://postgres@127.0.0.1:",
		"wsp hospital-a register done in",
		"idp 2 ", "ds 2 ", "wsp hospital-a 2 ",
		"-- killed (SIGKILL) idp 1 (pid ",
		"; the walk goes on through idp 2, ds 2, wsp hospital-a 2\n3. ",
		"after the kill the balancers handed the survivors ",
		"the local identifiers are only in federations.sp_provided_id",
		`"Your appointment is booked."`,
		"(the visit logged out)",
		"All 6 steps held",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the output lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("output:\n%s", got)
	}
	stopped(t, got)
}

// stopped checks that the role processes the demo printed are gone and
// that nothing listens any more on the addresses it printed.
func stopped(t *testing.T, out string) {
	t.Helper()
	pids := regexp.MustCompile(`\(pid (\d+)\)`).FindAllStringSubmatch(out, -1)
	if len(pids) < 9 {
		t.Fatalf("found %d role processes in the output, want 9", len(pids))
	}
	for _, p := range pids {
		pid, _ := strconv.Atoi(p[1])
		if syscall.Kill(pid, 0) == nil {
			t.Errorf("process %d still runs after the demo", pid)
		}
	}
	for _, a := range regexp.MustCompile(`https?://(127\.0\.0\.1:\d+)`).FindAllStringSubmatch(out, -1) {
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

// TestDemoDirNotEmpty: a -dir that holds files is refused before anything
// starts, so that no earlier run's files are mixed with new ones.
func TestDemoDirNotEmpty(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "old"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err := run(context.Background(), []string{"demo", "-dir", dir}, &out)
	if err == nil || !strings.Contains(err.Error(), "is not empty") || out.Len() != 0 {
		t.Fatalf("fail/dir-not-empty: %v, printed %q", err, out.String())
	}
}
