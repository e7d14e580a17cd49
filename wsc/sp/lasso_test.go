package sp_test

import (
	"crypto/x509"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/internal/browser"
	"github.com/renkei-idwsf/renkei/internal/testkit/lasso"
	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/wsc/sp"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/xmlenc"
)

// TestLassoIdP logs in at this SP through Debian's Lasso (python3-lasso)
// as the IdP: an independent reading of the SP's metadata and signed
// AuthnRequest, and an independent Response for the engine to accept.
// Lasso 2.8 encrypts with AES-CBC, which the SP refuses by default
// (xmlenc: CBC is a padding oracle) and accepts when the portal lists the
// legacy algorithms for this peer; without encryption its signed assertion
// is refused by default and accepted with AllowPlainAssertions.
func TestLassoIdP(t *testing.T) {
	keys := getKeys(t)
	user := pki.MustGet().P256
	b, err := browser.New(browser.Config{RootCAs: rootsOf(pki.MustGet().CA.Cert), ServerName: "localhost",
		Certificate: []*x509.Certificate{user.Cert}, Key: user.Key, Timeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	epr, err := xmlsec.Serialize(bootstrapEPR().Element())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		encrypt bool
		tweak   func(*sp.Config)
		want    error
		cause   error
	}{
		{"fail/encrypted-cbc-refused-by-default", true, nil, sp.ErrDecrypt, xmlsec.ErrAlgorithm},
		{"ok/encrypted-cbc-allowed-for-this-peer", true, func(c *sp.Config) {
			c.Decrypter.DataAlgorithms = xmlenc.LegacyDataAlgorithms()
		}, nil, nil},
		{"fail/plain-refused-by-default", false, nil, sp.ErrUnencrypted, nil},
		{"ok/plain-allowed-for-this-peer", false, func(c *sp.Config) { c.AllowPlainAssertions = true }, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			idp := lasso.NewIdP(t, lasso.IdPConfig{Encrypt: tc.encrypt, DiscoveryEPR: string(epr)})
			p := newPortal(t, "lasso-sp", keys.spSign, keys.spEnc, false, idp.EntityID)
			if tc.tweak != nil {
				p.configure(tc.tweak)
			}
			p.trustIdP(idp.Metadata)
			idp.Start(p.metadata())
			page, err := b.Get(ctx, p.base+"/login?rs=lasso")
			if err != nil || endpoint(page) != p.base+"/acs" {
				t.Fatalf("the browser ended at %v: %v\n%s\nLasso:\n%s", page, err, b, idp.Stderr())
			}
			_, logins, errs, _, _ := p.state()
			if tc.want != nil {
				if page.Status != http.StatusForbidden || len(errs) != 1 || !errors.Is(errs[0], tc.want) ||
					tc.cause != nil && !errors.Is(errs[0], tc.cause) {
					t.Fatalf("HTTP %d, refusals %v; want %v (%v)", page.Status, errs, tc.want, tc.cause)
				}
				return
			}
			if page.Status != http.StatusOK || len(logins) != 1 {
				t.Fatalf("HTTP %d, refusals %v\nLasso:\n%s", page.Status, errs, idp.Stderr())
			}
			l := logins[0]
			n := l.NameID
			switch {
			case n.Format != saml.NameIDPersistent || n.Value == "" || n.NameQualifier != idp.EntityID || n.SPNameQualifier != p.entity:
				t.Fatalf("NameID %+v, want Lasso's persistent NameID for this SP", n)
			case l.IdP != idp.EntityID || l.SessionIndex == "" || l.AuthnContext != saml.ACSmartcardPKI || l.RelayState != "lasso":
				t.Fatalf("login %+v", l)
			case l.Bootstrap == nil || l.Bootstrap.Address != dsSOAP:
				t.Fatalf("bootstrap %+v, want the EPR Lasso was given", l.Bootstrap)
			}
		})
	}
}

func rootsOf(certs ...*x509.Certificate) *x509.CertPool {
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool
}
