package idp

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// TestWriteFuzzSeeds rewrites testdata/fuzz/FuzzAccept when
// RENKEI_WRITE_SEEDS is set: requests of each test SP, signed and not.
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("RENKEI_WRITE_SEEDS") == "" {
		t.Skip("set RENKEI_WRITE_SEEDS=1 to rewrite the seed corpus")
	}
	e := newSSOEnv(t, nil)
	dir := filepath.Join("testdata", "fuzz", "FuzzAccept")
	n := 0
	write := func(b []byte) {
		n++
		must(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%02d", n)), []byte(fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)), 0o644))
	}
	for _, id := range []string{portalID, otherSP, evilID, legacyID} {
		sp := e.sps[id]
		req := e.newRequest(sp, "_seed-"+fmt.Sprint(n))
		req.NameIDPolicy = &samlp.NameIDPolicy{Format: "urn:oasis:names:tc:SAML:2.0:nameid-format:transient", AllowCreate: true}
		b, err := xmlsec.Serialize(req.Element())
		must(t, err)
		write(b)
		signed, err := samlp.Sign(req, spSigner(sp))
		must(t, err)
		b, err = xmlsec.Serialize(signed)
		must(t, err)
		write(b)
	}
}
