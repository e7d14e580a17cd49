package rolekit_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/internal/rolekit"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// TestCheckAdmin: the admin listener is optional and loopback only.
func TestCheckAdmin(t *testing.T) {
	for _, ok := range []string{"", "127.0.0.1:9100", "[::1]:0"} {
		if err := rolekit.CheckAdmin(ok); err != nil {
			t.Errorf("ok/%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"0.0.0.0:9100", ":9100", "192.0.2.1:9100", "example.org:9100", "localhost:9100", "127.0.0.1"} {
		if err := rolekit.CheckAdmin(bad); err == nil {
			t.Errorf("fail/%q: accepted", bad)
		}
	}
}

// TestMetadataReady: ready while the role's own entity is valid; not once
// its validUntil has passed, nor for an entity the set does not hold, nor
// before the source ever loaded.
func TestMetadataReady(t *testing.T) {
	t0 := time.Now().UTC().Truncate(time.Second)
	e := &md.EntityDescriptor{EntityID: "https://ds.example.org/metadata", ValidUntil: t0.Add(time.Hour),
		SPSSO: []*md.SPSSODescriptor{{SSO: md.SSO{Role: md.Role{ProtocolSupport: []string{"urn:oasis:names:tc:SAML:2.0:protocol"}}}, AssertionConsumer: []md.IndexedEndpoint{{Endpoint: md.Endpoint{
			Binding: "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST", Location: "https://ds.example.org/acs"}}}}}}
	b, err := xmlsec.Serialize(e.Element())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "md.xml")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	set, err := md.New(md.Config{Sources: []md.Source{{Location: path, Unsigned: true}}})
	if err != nil {
		t.Fatal(err)
	}
	now := t0
	check := rolekit.MetadataReady(set, e.EntityID, func() time.Time { return now })
	if err := check.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "never loaded") {
		t.Fatalf("fail/never-loaded: %v", err)
	}
	if err := set.Refresh(context.Background(), t0); err != nil {
		t.Fatal(err)
	}
	if err := check.Run(context.Background()); err != nil {
		t.Fatalf("ok/fresh: %v", err)
	}
	if err := rolekit.MetadataReady(set, "https://other.example.org", func() time.Time { return now }).Run(context.Background()); err == nil {
		t.Fatal("fail/not-listed: ready")
	}
	now = t0.Add(2 * time.Hour)
	if err := check.Run(context.Background()); err == nil {
		t.Fatal("fail/past-validUntil: ready")
	}
}

// TestKeysReady: ready with a key and a certificate valid now.
func TestKeysReady(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	cert := &x509.Certificate{NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour)}
	at := func(t time.Time) func() time.Time { return func() time.Time { return t } }
	if err := rolekit.KeysReady(key, cert, at(now)).Run(context.Background()); err != nil {
		t.Fatalf("ok/valid: %v", err)
	}
	if err := rolekit.KeysReady(key, cert, at(now.Add(2*time.Hour))).Run(context.Background()); err == nil {
		t.Fatal("fail/expired: ready")
	}
	if err := rolekit.KeysReady(nil, cert, at(now)).Run(context.Background()); err == nil {
		t.Fatal("fail/no-key: ready")
	}
}
