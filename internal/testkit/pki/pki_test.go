package pki

import (
	"crypto/x509"
	"testing"
)

func TestSharedChains(t *testing.T) {
	s := MustGet()
	roots := x509.NewCertPool()
	roots.AddCert(s.CA.Cert)
	opts := x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}
	for _, id := range []*Identity{s.RSA, s.P256, s.P384} {
		if _, err := id.Cert.Verify(opts); err != nil {
			t.Errorf("ok/%s: %v", id.Name, err)
		}
	}
	if _, err := s.ForeignRSA.Cert.Verify(opts); err == nil {
		t.Error("fail/foreign: a foreign leaf chained to the test CA")
	}
}
