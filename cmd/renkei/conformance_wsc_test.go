package main

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/internal/testkit/portalkit"
	"github.com/renkei-idwsf/renkei/saml"
)

// TestConformanceWSCCommand runs `renkei conformance -role wsc` as an
// operator would against My Portal: the target file names the suite's
// IdP, DS and WSP with key files that do not exist yet, two loopback
// addresses and a TLS key and certificate from the CA the portal trusts;
// -print-idp-metadata and -print-peers-metadata give what the operator
// registers at the portal; then every WSC case passes.
func TestConformanceWSCCommand(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	free := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close() // the command listens there; a clash with another test is unlikely
		return ln.Addr().String()
	}
	idpAddr, tlsAddr := free(), free()
	tlsID, err := pki.MustGet().CA.IssueHost("conformance-tls", pki.P256, "localhost")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tls.pem"), append(tlsID.KeyPEM(), tlsID.CertPEM()...), 0o600); err != nil {
		t.Fatal(err)
	}
	target := map[string]any{"idp": map[string]string{"entityID": "https://conformance.renkei.test/idp", "key": "idp.pem", "listen": idpAddr},
		"ds":     map[string]string{"entityID": "https://conformance.renkei.test/ds", "key": "ds.pem"},
		"wsp":    map[string]string{"entityID": "https://conformance.renkei.test/wsp", "key": "wsp.pem"},
		"listen": tlsAddr, "tls": "tls.pem"}
	tf := filepath.Join(dir, "wsc-target.json")
	writeJSON(t, tf, target)
	var idpMD, peers strings.Builder
	if err := run(ctx, []string{"conformance", "-role", "sp", "-sp-target", tf, "-print-idp-metadata"}, &idpMD); err != nil {
		t.Fatalf("-print-idp-metadata: %v", err)
	}
	if err := run(ctx, []string{"conformance", "-role", "wsc", "-wsc-target", tf, "-print-peers-metadata"}, &peers); err != nil {
		t.Fatalf("-print-peers-metadata: %v", err)
	}
	if !strings.Contains(peers.String(), "https://"+tlsAddr+"/wsp") {
		t.Fatalf("the peers' metadata does not name the WSP endpoint:\n%s", peers.String())
	}
	p := portalkit.StartWith(t, portalkit.Options{IdP: "https://conformance.renkei.test/idp", IdPMetadata: []byte(idpMD.String()),
		DS: "https://conformance.renkei.test/ds", Peers: []byte(peers.String())})
	if err := os.WriteFile(filepath.Join(dir, "portal.xml"), p.Metadata, 0o600); err != nil {
		t.Fatal(err)
	}
	target["metadata"], target["login"], target["page"] = "portal.xml", p.LoginURL(), p.BaseURL+"/eligibility"
	target["accepted"] = map[string]any{"status": 303, "locationPrefix": "/", "setsCookie": "__Host-portal-session"}
	target["authnContext"] = saml.ACSmartcardPKI
	writeJSON(t, tf, target)
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, pki.MustGet().CA.CertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := run(ctx, []string{"conformance", "-role", "wsc", "-wsc-target", tf, "-ca", ca}, &out); err != nil {
		t.Fatalf("conformance -role wsc against My Portal: %v\n%s", err, out.String())
	}
	for _, want := range []string{"IDWSF2-3.5/wsc-invokes-wsp", "IDWSF2-2.4/wsc-stale-timestamp", "IDWSF2-WSC-F6", "PASS"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the report does not mention %s:\n%s", want, out.String())
		}
	}
}
