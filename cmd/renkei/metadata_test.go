package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/internal/testkit/xmlsec1"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// writeEntity writes e as a metadata file of dir.
func writeEntity(t *testing.T, dir, name string, e *md.EntityDescriptor) string {
	t.Helper()
	b, err := xmlsec.Serialize(e.Element())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func testEntities(cert *x509.Certificate) (*md.EntityDescriptor, *md.EntityDescriptor) {
	keys := []md.KeyDescriptor{{Use: md.UseSigning, Certificates: []*x509.Certificate{cert}}}
	idp := &md.EntityDescriptor{EntityID: "https://idp.renkei.test/metadata", ID: "_same", IDPSSO: []*md.IDPSSODescriptor{{
		SSO:          md.SSO{Role: md.Role{ProtocolSupport: []string{md.ProtocolSAML2}, Keys: keys}},
		SingleSignOn: []md.Endpoint{{Binding: md.BindingHTTPRedirect, Location: "https://idp.renkei.test/sso"}}}}}
	sp := &md.EntityDescriptor{EntityID: "https://portal.renkei.test/metadata", ID: "_same", SPSSO: []*md.SPSSODescriptor{{
		SSO:               md.SSO{Role: md.Role{ProtocolSupport: []string{md.ProtocolSAML2}, Keys: keys}},
		AssertionConsumer: []md.IndexedEndpoint{{Endpoint: md.Endpoint{Binding: md.BindingHTTPPOST, Location: "https://portal.renkei.test/acs"}}}}}}
	return idp, sp
}

func writePEM(t *testing.T, path, typ string, der []byte) string {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestMetadataAggregate builds and signs an aggregate with operator keys in
// each PEM form, has xmlsec1 verify it, and reads it back with `metadata
// verify`; a foreign operator certificate, an expired input, a duplicate
// entityID and a key that does not match its certificate are refused.
func TestMetadataAggregate(t *testing.T) {
	p := pki.MustGet()
	dir := t.TempDir()
	idp, sp := testEntities(p.P256.Cert)
	in1, in2 := writeEntity(t, dir, "idp.xml", idp), writeEntity(t, dir, "sp.xml", sp)
	rsaKey := p.RSA.Key.(*rsa.PrivateKey)
	ecDER, err := x509.MarshalECPrivateKey(p.P256.Key.(*ecdsa.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	rsaCert := writePEM(t, filepath.Join(dir, "rsa.crt"), "CERTIFICATE", p.RSA.Cert.Raw)
	ecCert := writePEM(t, filepath.Join(dir, "ec.crt"), "CERTIFICATE", p.P256.Cert.Raw)
	keys := []struct{ name, key, cert string }{
		{"ok/pkcs8", writePEM(t, filepath.Join(dir, "k8.pem"), "PRIVATE KEY", mustPKCS8(t, rsaKey)), rsaCert},
		{"ok/pkcs1", writePEM(t, filepath.Join(dir, "k1.pem"), "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey)), rsaCert},
		{"ok/ec", writePEM(t, filepath.Join(dir, "kec.pem"), "EC PRIVATE KEY", ecDER), ecCert},
	}
	ctx := context.Background()
	for _, k := range keys {
		t.Run(k.name, func(t *testing.T) {
			outDir := t.TempDir()
			outPath := filepath.Join(outDir, "agg.xml")
			reader := openedOld(t, outPath)
			var out bytes.Buffer
			err := run(ctx, []string{"metadata", "aggregate", "-key", k.key, "-cert", k.cert, "-name", "urn:renkei:test", "-valid-for", "48h", "-cache", "30m", "-o", outPath, in1, in2}, &out)
			if err != nil || !strings.Contains(out.String(), "2 entities") {
				t.Fatalf("aggregate: %v %s", err, out.String())
			}
			checkReplaced(t, reader, outDir)
			x := xmlsec1.New(t)
			b, _ := os.ReadFile(outPath)
			if o, err := x.Run("--verify", "--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:metadata:EntitiesDescriptor", "--trusted-pem", x.File("ca.pem", p.CA.CertPEM()), x.File("agg.xml", b)); err != nil {
				t.Fatalf("xmlsec1 refused the aggregate: %v\n%s", err, o)
			}
			out.Reset()
			if err := run(ctx, []string{"metadata", "verify", "-cert", k.cert, outPath}, &out); err != nil {
				t.Fatalf("verify: %v", err)
			}
			got := out.String()
			for _, want := range []string{"https://idp.renkei.test/metadata\tIdP\tvalid until", "https://portal.renkei.test/metadata\tSP\t", "2 entities accepted"} {
				if !strings.Contains(got, want) {
					t.Errorf("verify output lacks %q:\n%s", want, got)
				}
			}
			if err := run(ctx, []string{"metadata", "verify", "-cert", writePEM(t, filepath.Join(t.TempDir(), "f.crt"), "CERTIFICATE", p.ForeignRSA.Cert.Raw), outPath}, &out); !errors.Is(err, xmlsec.ErrUntrustedKey) {
				t.Fatalf("fail/foreign-operator: %v", err)
			}
		})
	}

	old := *sp
	old.EntityID = "https://old.renkei.test/metadata"
	old.ValidUntil = time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	expired := writeEntity(t, dir, "old.xml", &old)
	base := []string{"metadata", "aggregate", "-key", keys[0].key, "-o", filepath.Join(dir, "x.xml")}
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"fail/expired-input", append(base, "-cert", rsaCert, in1, expired), "expired"},
		{"fail/duplicate-entity", append(base, "-cert", rsaCert, in1, in1), "duplicate"},
		{"fail/key-cert-mismatch", append(base, "-cert", ecCert, in1), "not for the key"},
		{"fail/no-inputs", append(base, "-cert", rsaCert), "usage"},
		{"fail/invalid-input", append(base, "-cert", rsaCert, rsaCert), ""},
	} {
		if err := run(ctx, c.args, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "x.xml")); err == nil {
		t.Error("a refused aggregate was written")
	}
}

func mustPKCS8(t *testing.T, k any) []byte {
	t.Helper()
	b, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// openedOld writes an old aggregate to path and opens it, as a role
// reading it at the moment the operator writes the new one.
func openedOld(t *testing.T, path string) *os.File {
	t.Helper()
	if err := os.WriteFile(path, []byte("<old aggregate/>"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// checkReplaced: the new aggregate replaced the file by a rename (the
// reader of the old one still reads it whole) and left no temporary file.
func checkReplaced(t *testing.T, reader *os.File, dir string) {
	t.Helper()
	if b, err := io.ReadAll(reader); err != nil || string(b) != "<old aggregate/>" {
		t.Errorf("ok/atomic-write: the reader of the old aggregate read %d other bytes, %v: the file was written in place", len(b), err)
	}
	if names, _ := os.ReadDir(dir); len(names) != 1 {
		t.Errorf("ok/no-temporary-left: %d files in the output directory", len(names))
	}
}
