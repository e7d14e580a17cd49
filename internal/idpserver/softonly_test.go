package idpserver

import (
	"context"
	"crypto/x509"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/renkei-idwsf/renkei/idp"
	"github.com/renkei-idwsf/renkei/ra"
	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/store"
)

// TestSoftOnly: a deployment with soft certificates only (softCA, no
// cardCA or cardCRL) validates, starts, and logs a soft certificate in
// with AuthnContext X509, while a card certificate is refused as foreign;
// a cardCA without its CRL is still refused.
func TestSoftOnly(t *testing.T) {
	f, _ := testFile(t)
	raDir := filepath.Dir(f.CardCA)
	f.CardCA, f.CardCRL, f.SoftCA = "", "", filepath.Join(raDir, ra.ServiceCACert)
	must(t, f.Validate())
	a, err := ra.Open(ra.Config{Dir: raDir})
	must(t, err)
	p12, err := a.IssueSoft("demo", "pw")
	must(t, err)
	_, soft, _, err := pkcs12.DecodeChain(p12, "pw")
	must(t, err)
	card := issueCard(t, a, "HIC-0009")

	s, err := Build(context.Background(), f, Options{MainListener: loopback(t), CardListener: loopback(t)})
	must(t, err)
	defer s.Shutdown()
	must(t, s.Start(context.Background()))
	ctx := context.Background()
	must(t, s.Store.CreatePrincipal(ctx, store.Principal{ID: "p-1", Created: time.Now()}))
	must(t, s.Store.IssueCard(ctx, store.Card{Number: "SOFT-1", PrincipalID: "p-1", CertIssuer: soft.Issuer.String(),
		CertSerial: soft.SerialNumber.String(), Status: store.CardIssued, Issued: time.Now()}))
	login := func(c *x509.Certificate) (idp.Authn, error) {
		return s.SSO.IdP().AuthenticateCertificate(ctx, []*x509.Certificate{c}, time.Now())
	}
	if got, err := login(soft); err != nil || got.ClassRef != saml.ACX509 {
		t.Errorf("ok/soft-login: %+v, %v", got, err)
	}
	if _, err := login(card); !errors.Is(err, idp.ErrForeignIssuer) {
		t.Errorf("fail/card-without-cardCA: %v, want ErrForeignIssuer", err)
	}

	f.CardCA = filepath.Join(raDir, ra.CardCACert)
	if err := f.Validate(); err == nil || !strings.Contains(err.Error(), "cardCA and cardCRL go together") {
		t.Errorf("fail/cardCA-without-crl: Validate = %v", err)
	}
}
