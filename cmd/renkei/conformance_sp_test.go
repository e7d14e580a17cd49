package main

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/internal/testkit/portalkit"
	"github.com/renkei-idwsf/renkei/saml"
)

// TestConformanceSPCommand runs `renkei conformance -role sp` as an
// operator would against My Portal: the target file names the suite
// IdP's entityID, a key file that does not exist yet (the command creates
// it) and a loopback address; -print-idp-metadata gives the IdP metadata
// the operator registers at the portal; then the file gets the portal's
// metadata, login URL, acceptance rule, the card AuthnContext and the
// bootstrap it needs, and every Web SSO case passes.
func TestConformanceSPCommand(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // the command listens there; a clash with another test is unlikely
	target := map[string]any{"idp": map[string]string{"entityID": "https://conformance.renkei.test/idp", "key": "idp.pem", "listen": addr}}
	tf := filepath.Join(dir, "sp-target.json")
	writeJSON(t, tf, target)
	var md strings.Builder
	if err := run(ctx, []string{"conformance", "-role", "sp", "-sp-target", tf, "-print-idp-metadata"}, &md); err != nil {
		t.Fatalf("-print-idp-metadata: %v", err)
	}
	if !strings.Contains(md.String(), "http://"+addr+"/sso") {
		t.Fatalf("the IdP metadata does not name the SSO listener:\n%s", md.String())
	}
	p := portalkit.Start(t, "https://conformance.renkei.test/idp", []byte(md.String()))
	if err := os.WriteFile(filepath.Join(dir, "portal.xml"), p.Metadata, 0o600); err != nil {
		t.Fatal(err)
	}
	target["metadata"], target["login"] = "portal.xml", p.LoginURL()
	target["accepted"] = map[string]any{"status": 303, "locationPrefix": "/", "setsCookie": "__Host-portal-session"}
	target["authnContext"] = saml.ACSmartcardPKI
	target["bootstrap"] = map[string]string{"ds": portalkit.DSEntityID, "address": p.DSAddress}
	writeJSON(t, tf, target)
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, pki.MustGet().CA.CertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	err = run(ctx, []string{"conformance", "-role", "sp", "-sp-target", tf, "-ca", ca, "-only", "web-sso"}, &out)
	if err != nil {
		t.Fatalf("conformance -role sp against My Portal: %v\n%s", err, out.String())
	}
	for _, want := range []string{"SAML2-Prof-4.1.4.3/sp-accepts-response", "SAML2-Core-5.4.2/sp-xsw-object", "SAML2-Conf/websso-post", "PASS"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the report does not mention %s:\n%s", want, out.String())
		}
	}
}

func writeJSON(t *testing.T, name string, v any) {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
