package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/conformance"
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
