package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/renkei-idwsf/renkei/internal/testkit/fedkit"
	"github.com/renkei-idwsf/renkei/wsp/sample"
)

// TestOperatorLogout: a citizen logged in to My Portal through the running
// renkei-idp; renkei-idp logout ends the citizen's IdP session and the
// portal, which receives the SOAP LogoutRequest, ends its own session
// (its home page is the welcome page again); nim to the
// portal, which lists no ManageNameIDService, is refused saying so.
func TestOperatorLogout(t *testing.T) {
	f := fedkit.Start(t, fedkit.Options{Institutions: []string{sample.HospitalA}})
	principal, card := f.Citizen(t, "p01")
	b := f.Browser(t, card)
	f.Login(t, b)
	if !signedIn(t, f, b) {
		t.Fatal("logged in, the portal's home page offers no logout")
	}
	config := filepath.Join(f.IdP.Dir, "idp.json")
	var out, logs bytes.Buffer
	lg := slog.New(slog.NewTextHandler(&logs, nil))
	if err := run(context.Background(), []string{"-config", config, "logout", "-principal", principal}, &out, lg); err != nil {
		t.Fatalf("logout: %v\n%s\n%s", err, out.String(), logs.String())
	}
	if !strings.Contains(out.String(), f.Portal.File.EntityID) || !strings.Contains(out.String(), ": logged out") {
		t.Errorf("ok/logout-reported: %s", out.String())
	}
	if signedIn(t, f, b) {
		t.Errorf("ok/portal-session-ended: the portal still shows the citizen signed in after the IdP's SOAP logout")
	}
	out.Reset()
	if err := run(context.Background(), []string{"-config", config, "logout", "-principal", principal}, &out, lg); err != nil ||
		!strings.Contains(out.String(), "no session") {
		t.Errorf("ok/logout-again: %v %s", err, out.String())
	}
	err := run(context.Background(), []string{"-config", config, "nim", "-principal", principal, "-sp", f.Portal.File.EntityID, "-terminate"}, &out, lg)
	if err == nil || !strings.Contains(err.Error(), "no SOAP ManageNameIDService") {
		t.Errorf("fail/nim-to-sp-without-service: %v", err)
	}
}

// signedIn reports whether the portal's home page, redirects not
// followed, is a signed-in citizen's (it offers the logout form), not the
// welcome page.
func signedIn(t *testing.T, f *fedkit.Fed, b interface{ Client() *http.Client }) bool {
	t.Helper()
	resp, err := b.Client().Get(f.PortalURL + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode == http.StatusOK && strings.Contains(string(body), `action="/logout"`)
}
