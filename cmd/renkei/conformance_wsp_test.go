package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/renkei-idwsf/renkei/internal/testkit/dskit"
	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/wsf/dst"
	"github.com/renkei-idwsf/renkei/wsp/sample"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// TestConformanceWSPCommand runs `renkei conformance -role wsp` as an
// operator would against hospital A's WSP as renkei-wsp assembles it
// (internal/wspserver over the generated sample, on its own loopback
// listener): the target file names the WSP's metadata, the appointment
// service, a patient's local identifier and one the hospital does not
// know, an open and a full slot to book, the DS key the suite signs the
// tokens with, and the WSCs the suite plays. Every case passes, and the
// report says so.
func TestConformanceWSPCommand(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	w := dskit.StartWSP(t)
	k := dskit.KeysOf(t, pki.RSA2048)
	_, local := w.PersonAt(t, sample.HospitalA)

	write := func(name string, b []byte) string {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
		return name
	}
	bundle := func(name string, id *pki.Identity, withKey bool) string {
		b := id.CertPEM()
		if withKey {
			b = append(id.KeyPEM(), b...)
		}
		return write(name+".pem", b)
	}
	md, err := xmlsec.Serialize(w.Entity().Element())
	if err != nil {
		t.Fatal(err)
	}
	target := map[string]any{
		"metadata": write("wsp-metadata.xml", md), "serviceType": dst.Appointment, "nameQualifier": dskit.IdPID,
		"ds":             map[string]string{"entityID": dskit.DSID, "key": bundle("ds", k.DS, true)},
		"wsc":            map[string]string{"entityID": dskit.PortalID, "key": bundle("portal", k.Portal, true)},
		"otherWSC":       map[string]string{"entityID": dskit.OtherWSCID, "key": bundle("other", k.Other, false)},
		"subject":        map[string]string{"localID": local},
		"unknownSubject": "conformance-unknown-000",
		"write": map[string]any{"item": "Appointment", "values": map[string]string{"Slot": w.Institution.OpenSlot},
			"refused": map[string]string{"Slot": w.Institution.FullSlot}},
	}
	raw, err := json.MarshalIndent(target, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	tf := filepath.Join(dir, write("wsp-target.json", raw))
	ca := filepath.Join(dir, write("ca.pem", k.CA.CertPEM()))
	var out strings.Builder
	err = run(ctx, []string{"conformance", "-role", "wsp", "-wsp-target", tf, "-ca", ca}, &out)
	if err != nil {
		t.Fatalf("conformance -role wsp against renkei-wsp's assembly: %v\n%s", err, out.String())
	}
	for _, want := range []string{"IDWSF2-DST-5.1/query-paging", "IDWSF2-SB-2.2/target-identity", "IDWSF2-DST-5.2/create-refused", "F19", "PASS"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the report does not mention %s:\n%s", want, out.String())
		}
	}
}
