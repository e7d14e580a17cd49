package wsp_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/renkei-idwsf/renkei/internal/testkit/golden"
	"github.com/renkei-idwsf/renkei/saml/samlp"
)

// sloSeeds are real messages for the WSP's SingleLogoutService: the IdP's
// signed LogoutRequest as idp/slo_chain.go sends it, the same unsigned,
// one naming two sessions, and one with a wrong Destination.
func sloSeeds(t testing.TB) [][]byte {
	two := idpLogout("_seed3", "_s3")
	two.SessionIndexes = append(two.SessionIndexes, "_s4")
	elsewhere := idpLogout("_seed4", "_s5")
	elsewhere.Destination = "https://hospital-b.renkei.test/wsp/slo"
	return [][]byte{envelopeOf(t, idpLogout("_seed1", "_s1"), idpSigner()), envelopeOf(t, idpLogout("_seed2", "_s2"), nil),
		envelopeOf(t, two, idpSigner()), envelopeOf(t, elsewhere, idpSigner())}
}

// TestSLOFuzzSeeds checks that FuzzSLOReceive has its committed seed
// corpus; with -update it writes it again from sloSeeds.
func TestSLOFuzzSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzSLOReceive")
	if golden.Update() {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for i, s := range sloSeeds(t) {
			body := fmt.Sprintf("go test fuzz v1\n[]byte(%s)\n", strconv.Quote(string(s)))
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%02d", i)), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if es, err := os.ReadDir(dir); err != nil || len(es) < 4 {
		t.Fatalf("seed corpus missing or thin: %v", err)
	}
}

// FuzzSLOReceive feeds the WSP's SingleLogoutService arbitrary bodies:
// it never panics, always answers (a fault or a signed LogoutResponse),
// and a body it honours is one whose SessionIndexes it then reports
// ended.
func FuzzSLOReceive(f *testing.F) {
	for _, s := range sloSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		s := newSLO(t, &memReplay{})
		r, err := s.Receive(context.Background(), bytes.NewReader(body))
		if r == nil {
			t.Fatalf("no reply: %v", err)
		}
		if (r.Logout != nil) != (err == nil) || r.Fault && err == nil {
			t.Fatalf("reply %+v with error %v", r, err)
		}
		if r.Logout == nil {
			return
		}
		for _, i := range r.Logout.SessionIndexes {
			if ok, err := s.Ended(context.Background(), i, sloNow); !ok || err != nil {
				t.Fatalf("honoured logout of %q not recorded: %v", i, err)
			}
		}
		if !bytes.Contains(r.Envelope, []byte(samlp.StatusSuccess)) {
			t.Fatal("honoured without Success")
		}
	})
}
