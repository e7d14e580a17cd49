package ra

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"testing"
	"time"

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
	role, key, err := a.IssueRole("wsp", "rsa2048", []string{"localhost", "127.0.0.1"})
	if err != nil || role.VerifyHostname("127.0.0.1") != nil || role.KeyUsage&x509.KeyUsageKeyEncipherment == 0 ||
		role.CheckSignatureFrom(a.ServiceCA()) != nil {
		t.Fatalf("ok/rsa-role-names-loopback-ip: %v", err)
	}
	if _, ok := key.Public().(*rsa.PublicKey); !ok {
		t.Fatalf("ok/rsa-role-key: %T", key.Public())
	}
}

// TestIssueCardForHolder: the holder's name is the subject's name
// attribute and the date of birth the RFC 3739 dateOfBirth at noon GMT,
// as a parser other than ours reads them back.
func TestIssueCardForHolder(t *testing.T) {
	a, err := Init(Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	k, _ := NewKey("p256", nil)
	born := time.Date(1961, 4, 12, 0, 0, 0, 0, time.FixedZone("JST", 9*3600))
	cert, err := a.IssueCardFor("4712", k.Public(), Holder{Name: "山田 花子", BirthDate: born})
	if err != nil {
		t.Fatal(err)
	}
	var name string
	for _, n := range cert.Subject.Names {
		if n.Type.Equal(oidName) {
			name, _ = n.Value.(string)
		}
	}
	if name != "山田 花子" || cert.Subject.SerialNumber != "4712" {
		t.Fatalf("ok/name-in-subject: %q in %s", name, cert.Subject)
	}
	var attrs []attribute
	for _, e := range cert.Extensions {
		if e.Id.Equal(oidSubjectDirectoryAttributes) {
			if _, err := asn1.Unmarshal(e.Value, &attrs); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(attrs) != 1 || !attrs[0].Type.Equal(oidDateOfBirth) || len(attrs[0].Values) != 1 {
		t.Fatalf("ok/date-of-birth: attributes %+v", attrs)
	}
	var got time.Time
	if _, err := asn1.UnmarshalWithParams(attrs[0].Values[0].FullBytes, &got, "generalized"); err != nil ||
		!got.Equal(time.Date(1961, 4, 12, 12, 0, 0, 0, time.UTC)) {
		t.Fatalf("ok/date-of-birth: %v %v", got, err)
	}
}
