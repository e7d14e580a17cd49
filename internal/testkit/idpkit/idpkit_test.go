package idpkit_test

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/renkei-idwsf/renkei/internal/testkit/idpkit"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
)

func spMetadata(t *testing.T) []byte {
	sp := &md.EntityDescriptor{EntityID: "https://sp.renkei.test", SPSSO: []*md.SPSSODescriptor{{
		SSO: md.SSO{Role: md.Role{ProtocolSupport: []string{md.ProtocolSAML2}}},
		AssertionConsumer: []md.IndexedEndpoint{{Endpoint: md.Endpoint{Binding: samlp.BindingHTTPPOST,
			Location: "https://127.0.0.1:1/acs"}}}}}}
	b, err := xmlsec.Serialize(sp.Element())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestStart: the binary serves metadata signed with the kit's signing key
// at the URLs the kit reports, and Cleanup leaves no process behind.
func TestStart(t *testing.T) {
	var pid int
	t.Run("ok/serves-signed-metadata", func(t *testing.T) {
		const dsAddr = "https://127.0.0.1:1/disco"
		k := idpkit.New(t, idpkit.Options{SPMetadata: [][]byte{spMetadata(t)}, Discovery: true, DSAddress: dsAddr})
		if ds, err := os.ReadFile(filepath.Join(k.Dir, "ds.xml")); err != nil || !strings.Contains(string(ds), dsAddr) ||
			strings.Contains(string(ds), idpkit.DSAddress) || k.DSAddress() != dsAddr {
			t.Fatalf("ds.xml does not list the DS at Options.DSAddress (%v):\n%s", err, ds)
		}
		card := k.IssueCard("p-alice", "HIC-0001", "p256")
		if card.Cert.Issuer.String() != k.RA.CardCA().Subject.String() {
			t.Fatalf("card issued by %s", card.Cert.Issuer)
		}
		k.Start()
		pid = k.PID()
		doc, err := xmlsec.Parse(k.Metadata, xmlsec.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		d, _, err := md.Verify(doc.Root(), &dsig.Verifier{Trust: xmlsec.NewTrustSet([]*x509.Certificate{k.Signing.Cert})})
		if err != nil {
			t.Fatal(err)
		}
		if d.Entity.EntityID != k.EntityID || !strings.Contains(string(k.Metadata), k.CardBaseURL+idpkit.PathECP) {
			t.Fatalf("metadata of %q does not name the ECP endpoint %s", d.Entity.EntityID, k.ECPURL)
		}
	})
	if pid == 0 || syscall.Kill(pid, 0) == nil {
		t.Fatalf("renkei-idp (pid %d) still runs after Cleanup", pid)
	}
	t.Run("fail/refused-config-reports-output", func(t *testing.T) {
		k := idpkit.New(t, idpkit.Options{Tweak: func(c *idpkit.Config) { c.CardCRL = "" }})
		err := k.TryStart()
		if err == nil || !strings.Contains(err.Error(), "cardCRL") || k.PID() != 0 {
			t.Fatalf("a refused configuration is not reported with the binary's words: %v", err)
		}
	})
}
