package ra

import (
	"crypto/x509"
	"errors"
	"testing"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/renkei-idwsf/renkei/internal/keyfile"
)

func TestIssueRevokeReissuePersist(t *testing.T) {
	dir := t.TempDir()
	a, err := Init(Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	k, _ := NewKey("p256", nil)
	cert, err := a.IssueCard("4711", k.Public())
	if err != nil {
		t.Fatal(err)
	}
	if cert.Subject.SerialNumber != "4711" || cert.CheckSignatureFrom(a.CardCA()) != nil {
		t.Fatalf("ok/card-subject: serialNumber %q, signed by card CA: %v", cert.Subject.SerialNumber, cert.CheckSignatureFrom(a.CardCA()))
	}
	if _, err := Init(Config{Dir: dir}); err == nil {
		t.Fatal("fail/init-twice: a second Init over an RA succeeded")
	}
	b, err := Open(Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Reissue("4711", k.Public()); err != nil {
		t.Fatal(err)
	}
	crl, err := keyfile.ReadCRL(dir + "/" + CardCRL)
	if err != nil || crl.CheckSignatureFrom(b.CardCA()) != nil {
		t.Fatalf("CRL: %v", err)
	}
	if len(crl.RevokedCertificateEntries) != 1 || crl.RevokedCertificateEntries[0].SerialNumber.Cmp(cert.SerialNumber) != 0 || crl.RevokedCertificateEntries[0].ReasonCode != 4 {
		t.Fatalf("ok/reissue-revokes-old: CRL entries %+v", crl.RevokedCertificateEntries)
	}
	if err := b.Revoke("9999", 1); !errors.Is(err, ErrUnknownCard) {
		t.Fatalf("fail/revoke-unknown: %v", err)
	}
}

func TestSoftCertificateIsPKCS12FromServiceCA(t *testing.T) {
	a, err := Init(Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	p12, err := a.IssueSoft("demo citizen", "demo-pass")
	if err != nil {
		t.Fatal(err)
	}
	_, cert, cas, err := pkcs12.DecodeChain(p12, "demo-pass")
	if err != nil {
		t.Fatal(err)
	}
	if cert.CheckSignatureFrom(a.ServiceCA()) != nil || cert.CheckSignatureFrom(a.CardCA()) == nil || len(cas) != 1 {
		t.Fatal("ok/soft-from-service-ca: the soft certificate must come from the service CA only")
	}
	srv, _, err := a.IssueServer("idp", []string{"localhost"})
	if err != nil || srv.VerifyHostname("localhost") != nil || srv.ExtKeyUsage[0] != x509.ExtKeyUsageServerAuth {
		t.Fatalf("ok/server-cert: %v", err)
	}
}
