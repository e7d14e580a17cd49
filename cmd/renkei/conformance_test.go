package main

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/conformance"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

func TestConformanceCommand(t *testing.T) {
	ctx := context.Background()
	var out strings.Builder
	if err := run(ctx, []string{"conformance", "-list"}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "SAML2-Conf/slo-redirect-sp") || strings.Contains(out.String(), "IDWSF2-F1") {
		t.Fatalf("matrix for the idp role:\n%s", out.String())
	}
	var sp strings.Builder
	if err := run(ctx, []string{"conformance", "-role", "sp", "-list"}, &sp); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sp.String(), "SP=MUST") || !strings.Contains(sp.String(), "SAML2-Core-5.4.2/sp-xsw-object") {
		t.Fatalf("matrix for the sp role:\n%s", sp.String())
	}
	dir := t.TempDir()
	key := filepath.Join(dir, "sp.pem")
	var m1, m2 strings.Builder
	for _, b := range []*strings.Builder{&m1, &m2} {
		if err := run(ctx, []string{"conformance", "-sp-key", key, "-print-sp-metadata"}, b); err != nil {
			t.Fatal(err)
		}
	}
	if m1.String() != m2.String() || !strings.Contains(m1.String(), "SPSSODescriptor") {
		t.Fatal("the SP key file does not keep the SP metadata stable across runs")
	}
	if _, err := conformance.ParseTarget("sp", []byte(m1.String())); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"conformance", "-role", "wsp", "-metadata", "x.xml"},
		{"conformance", "-role", "nosuch", "-list"},
		{"conformance", "-role", "wsc"},
		{"conformance", "-role", "sp"},
		{"conformance", "-role", "wsp", "-mode", "idp", "-list"},
	} {
		if err := run(ctx, args, &out); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
	if err := run(ctx, []string{"conformance", "-metadata", filepath.Join(dir, "missing.xml")}, &out); err == nil {
		t.Fatal("a missing metadata file did not fail the command")
	}
}

func TestServeSPMetadata(t *testing.T) {
	sp, err := conformance.NewSP("https://127.0.0.1/sp", "https://127.0.0.1/sp/acs", time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	url, stop, err := serveSPMetadata("127.0.0.1:0", sp)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	target, err := conformance.LoadTarget(context.Background(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if target.Entity.EntityID != "https://127.0.0.1/sp" {
		t.Fatalf("served entity %q", target.Entity.EntityID)
	}
}

// writeIdPMetadata writes the metadata of an IdP at a loopback address
// nothing listens on, and returns its file.
func writeIdPMetadata(t *testing.T, dir string) string {
	t.Helper()
	id, err := conformance.NewSP("https://127.0.0.1:1/idp", "", time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ed := &md.EntityDescriptor{EntityID: id.EntityID, IDPSSO: []*md.IDPSSODescriptor{{
		SSO: md.SSO{Role: md.Role{ProtocolSupport: []string{md.ProtocolSAML2},
			Keys: []md.KeyDescriptor{{Use: md.UseSigning, Certificates: []*x509.Certificate{id.Cert}}}}},
		SingleSignOn: []md.Endpoint{{Binding: md.BindingHTTPRedirect, Location: "https://127.0.0.1:1/sso"}},
	}}}
	b, err := xmlsec.Serialize(ed.Element())
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "idp.xml")
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// TestConformanceNoFalsePass: a mistyped -only or -skip, half the login
// flags or an unknown -level end the command with an error before the
// target is reached; without -sp-key the cases that need the target to
// know the SP are run errors saying so and the run fails; -h succeeds.
func TestConformanceNoFalsePass(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	meta := writeIdPMetadata(t, dir)
	groups := map[string]string{}
	for _, row := range conformance.Matrix() {
		groups[row.ID] = row.Group
	}
	var metadataCases []string
	for _, c := range conformance.SAMLIdPCases() {
		if c.Role == conformance.RoleIdP && groups[c.Row] == "metadata" {
			metadataCases = append(metadataCases, c.ID)
		}
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"fail/strict-unknown-level", []string{"-metadata", meta, "-strict", "-level", "may"}, "unknown level"},
		{"fail/skip-every-case-in-scope", []string{"-metadata", meta, "-only", "metadata", "-skip", strings.Join(metadataCases, ",")}, "nothing left to run"},
		{"fail/mistyped-only", []string{"-metadata", meta, "-only", "web-ssso"}, `-only "web-ssso" names no row group`},
		{"fail/mistyped-skip", []string{"-metadata", meta, "-skip", "SAML2-Bind-3.4/redirect-authnrequst"}, "names no case"},
		{"fail/unknown-level", []string{"-metadata", meta, "-level", "may"}, "unknown level"},
		{"fail/password-without-user", []string{"-metadata", meta, "-sp-key", filepath.Join(dir, "sp.pem"), "-form-password", "x"}, "needs both -form-user and -form-password"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out strings.Builder
			err := run(ctx, append([]string{"conformance"}, tc.args...), &out)
			if err == nil || errors.Is(err, errConformanceFailed) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q before any case runs; output:\n%s", err, tc.want, out.String())
			}
		})
	}
	t.Run("fail/missing-sp-key", func(t *testing.T) {
		var out strings.Builder
		err := run(ctx, []string{"conformance", "-metadata", meta, "-only", "web-sso,metadata", "-case-timeout", "5s"}, &out)
		if !errors.Is(err, errConformanceFailed) {
			t.Fatalf("err = %v, want a failed run:\n%s", err, out.String())
		}
		txt := out.String()
		if !strings.Contains(txt, "[run error] not run: the suite's SP key is throwaway (no -sp-key") || strings.Contains(txt, "deviates: target") {
			t.Fatalf("report without the -sp-key run error, or blaming the target:\n%s", txt)
		}
		if !strings.Contains(txt, "pass                   MUST     SAML2-Meta-2.4.3/idp-metadata-schema-valid") {
			t.Fatalf("the metadata cases, which need no registered SP, did not run:\n%s", txt)
		}
	})
	t.Run("fail/created-sp-key", func(t *testing.T) {
		var out strings.Builder
		key := filepath.Join(t.TempDir(), "new-sp.pem")
		err := run(ctx, []string{"conformance", "-metadata", meta, "-sp-key", key, "-only", "web-sso,metadata", "-case-timeout", "5s"}, &out)
		if !errors.Is(err, errConformanceFailed) {
			t.Fatalf("err = %v, want a failed run:\n%s", err, out.String())
		}
		txt := out.String()
		if !strings.Contains(txt, "[run error] not run: the suite's SP key is throwaway") || strings.Contains(txt, "deviates: target") {
			t.Fatalf("a key this run created is not treated as throwaway:\n%s", txt)
		}
		if _, err := os.Stat(key); err != nil {
			t.Fatalf("the created key was not saved: %v", err)
		}
	})
	t.Run("ok/help", func(t *testing.T) {
		if err := run(ctx, []string{"conformance", "-h"}, io.Discard); err != nil {
			t.Fatalf("-h: %v", err)
		}
	})
}
