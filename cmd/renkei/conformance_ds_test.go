package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/internal/dsserver"
	"github.com/renkei-idwsf/renkei/internal/testkit/dskit"
	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/store"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// TestConformanceDSCommand runs `renkei conformance -role ds` as an
// operator would against the Discovery Service renkei-ds runs (its
// assembly, built from its configuration files, on its own loopback
// listener): the target file names the DS's metadata, the IdP key the
// suite signs DS tokens with, two principals by their NameIDs at the DS
// (one linked at two institutions, whose local identifiers the tokens
// must carry), and the parties the suite plays. Every case passes, and
// the report says so.
func TestConformanceDSCommand(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := dskit.StartDS(t, "")
	base := s.File.BaseURL

	wsps := dskit.Samples()
	a, b := wsps[0], wsps[2] // hospital A, hospital B
	now := time.Now().UTC()
	nameID := func(p string) string {
		if err := s.Store.CreatePrincipal(ctx, store.Principal{ID: p, Created: now}); err != nil {
			t.Fatal(err)
		}
		fed, err := store.Pairwise(ctx, s.Store, p, dskit.DSID, true, now, nil)
		if err != nil {
			t.Fatal(err)
		}
		return fed.NameID
	}
	alice, bob := nameID("p-alice"), nameID("p-bob")
	for _, w := range []*dskit.WSP{a, b} {
		if _, err := s.DS.LinkByHand(ctx, "test", "p-alice", w.EntityID, w.LocalID); err != nil {
			t.Fatal(err)
		}
	}

	k := dskit.KeysOf(t, pki.RSA2048)
	bundle := func(name string, id *pki.Identity, withKey bool) string {
		b := id.CertPEM()
		if withKey {
			b = append(id.KeyPEM(), b...)
		}
		p := filepath.Join(dir, name+".pem")
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return name + ".pem"
	}
	dsMD := writeDSMetadata(t, dir, base)
	target := map[string]any{
		"entityID": dskit.DSID, "address": s.SOAPURL(), "metadata": dsMD,
		"idp":            map[string]string{"entityID": dskit.IdPID, "key": bundle("idp", k.IdP, true)},
		"principal":      map[string]any{"nameID": alice, "subjects": map[string]string{a.EntityID: a.LocalID, b.EntityID: b.LocalID}},
		"otherPrincipal": map[string]any{"nameID": bob},
		"wsc":            map[string]string{"entityID": dskit.OtherWSCID, "key": bundle("wsc", k.Other, true)},
		"otherWSC":       map[string]string{"entityID": dskit.PortalID, "key": bundle("portal", k.Portal, false)},
		"wsps": []map[string]string{
			{"entityID": a.EntityID, "key": bundle("wsp-a", dskit.WSPIdentity(t, a.EntityID), true)},
			{"entityID": b.EntityID, "key": bundle("wsp-b", dskit.WSPIdentity(t, b.EntityID), true)}},
	}
	raw, err := json.MarshalIndent(target, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	tf := filepath.Join(dir, "ds-target.json")
	if err := os.WriteFile(tf, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, k.CA.CertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	err = run(ctx, []string{"conformance", "-role", "ds", "-ds-target", tf, "-ca", ca}, &out)
	if err != nil {
		t.Fatalf("conformance -role ds against renkei-ds: %v\n%s", err, out.String())
	}
	for _, want := range []string{"IDWSF2-Disco-4.2/token-audience-subject", "IDWSF2-Disco-4.3/svcmd-other-provider-replace", "F16"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the report does not mention %s:\n%s", want, out.String())
		}
	}
}

// writeDSMetadata writes the DS's own EntityDescriptor from the
// federation's aggregate, as its operator hands it to a tester.
func writeDSMetadata(t *testing.T, dir, base string) string {
	t.Helper()
	for _, e := range dskit.Aggregate(t, pki.RSA2048, base+dsserver.PathSOAP).Entities {
		if e.EntityID != dskit.DSID {
			continue
		}
		b, err := xmlsec.Serialize(e.Element())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "ds-metadata.xml"), b, 0o600); err != nil {
			t.Fatal(err)
		}
		return "ds-metadata.xml"
	}
	t.Fatal("no DS in the aggregate")
	return ""
}
