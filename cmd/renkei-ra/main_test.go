package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/renkei-idwsf/renkei/card/trust"
	"github.com/renkei-idwsf/renkei/card/virtual"
	"github.com/renkei-idwsf/renkei/internal/keyfile"
	"github.com/renkei-idwsf/renkei/ra"
	"software.sslmate.com/src/go-pkcs12"
)

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	var out bytes.Buffer
	if err := run(args, &out); err != nil {
		t.Fatalf("renkei-ra %s: %v", strings.Join(args, " "), err)
	}
	return out.String()
}

// TestLifecycle issues, reissues and revokes cards with the CLI and checks
// the results as the IdP would, with card/trust and the written CRL.
func TestLifecycle(t *testing.T) {
	dir, cards := t.TempDir(), t.TempDir()
	mustRun(t, "init", "-dir", dir)
	first, second, other := filepath.Join(cards, "a.json"), filepath.Join(cards, "b.json"), filepath.Join(cards, "c.json")
	mustRun(t, "card", "-dir", dir, "-number", "5001", "-key", "rsa2048", "-out", first)
	mustRun(t, "reissue", "-dir", dir, "-number", "5001", "-out", second)
	mustRun(t, "card", "-dir", dir, "-number", "5002", "-out", other)
	mustRun(t, "revoke", "-dir", dir, "-number", "5002")
	v := verifier(t, dir)
	cases := []struct {
		name, file string
		want       error
	}{
		{"fail/superseded-card", first, trust.ErrRevoked},
		{"ok/reissued-card", second, nil},
		{"fail/revoked-card", other, trust.ErrRevoked},
	}
	for _, c := range cases {
		cert := cardCert(t, c.file)
		if _, err := v.Verify(cert); !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
			t.Errorf("%s: Verify = %v, want %v", c.name, err, c.want)
		}
		if cert.Subject.SerialNumber != "5001" && cert.Subject.SerialNumber != "5002" {
			t.Errorf("%s: subject serialNumber %q", c.name, cert.Subject.SerialNumber)
		}
	}
	if out := mustRun(t, "list", "-dir", dir); strings.Count(out, "revoked") != 2 {
		t.Errorf("ok/list: want 2 revoked certificates:\n%s", out)
	}
}

func verifier(t *testing.T, dir string) *trust.Verifier {
	ca, err := keyfile.ReadCert(filepath.Join(dir, ra.CardCACert))
	if err != nil {
		t.Fatal(err)
	}
	crl, err := keyfile.ReadCRL(filepath.Join(dir, ra.CardCRL))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	return &trust.Verifier{Roots: roots, CRLs: []*x509.RevocationList{crl}}
}

func cardCert(t *testing.T, file string) *x509.Certificate {
	c, err := virtual.Open(file, virtual.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return c.Certificate()
}

func TestServerAndSoftCertificates(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, "init", "-dir", dir)
	mustRun(t, "server", "-dir", dir, "-role", "idp", "-dns", "localhost,idp.renkei.test")
	srv, err := keyfile.ReadCert(filepath.Join(dir, "idp.crt"))
	if err != nil || srv.VerifyHostname("idp.renkei.test") != nil {
		t.Fatalf("ok/server-cert: %v", err)
	}
	out := mustRun(t, "server", "-dir", dir, "-role", "lab", "-dns", "127.0.0.1,::1,localhost")
	lab, err := keyfile.ReadCert(filepath.Join(dir, "lab.crt"))
	if err != nil || lab.VerifyHostname("127.0.0.1") != nil || lab.VerifyHostname("::1") != nil || len(lab.DNSNames) != 1 {
		t.Fatalf("ok/ip-sans: DNS %v, IP %v, %v", lab.DNSNames, lab.IPAddresses, err)
	}
	if !strings.Contains(out, "IP addresses [127.0.0.1 ::1]") {
		t.Errorf("ok/ip-sans-reported: %q", out)
	}
	p12 := filepath.Join(t.TempDir(), "demo.p12")
	mustRun(t, "soft", "-dir", dir, "-password", "pw", "-out", p12)
	_, cert, _, err := pkcs12.DecodeChain(readFile(t, p12), "pw")
	if err != nil {
		t.Fatal(err)
	} else if _, err := verifier(t, dir).Verify(cert); !errors.Is(err, trust.ErrForeignIssuer) {
		t.Fatalf("fail/soft-is-not-a-card: Verify = %v", err)
	}
	pair, err := tls.LoadX509KeyPair(strings.TrimSuffix(p12, ".p12")+".crt", strings.TrimSuffix(p12, ".p12")+".key")
	if err != nil || !bytes.Equal(pair.Certificate[0], cert.Raw) {
		t.Fatalf("ok/soft-pem: the PEM pair is not the PKCS#12's certificate and key: %v", err)
	}
	if err := run([]string{"server", "-dir", dir, "-role", "../x"}, &bytes.Buffer{}); err == nil {
		t.Fatal("fail/role-with-path: accepted")
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
