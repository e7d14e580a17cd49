package lasso_test

import (
	"crypto/x509"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/card/piv"
	"github.com/renkei-idwsf/renkei/internal/browser"
	"github.com/renkei-idwsf/renkei/internal/testkit/lasso"
	"github.com/renkei-idwsf/renkei/internal/testkit/pcsc"
	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/internal/testkit/vcard"
)

// TestCardWithLassoIdP wires the three harnesses as the IdP's acceptance
// will: the virtual card through real PC/SC signs the TLS handshakes with
// the Lasso IdP, once in a browser SSO (Redirect, persistent, encrypted) to
// the Lasso SP and once in an ECP exchange driven by Lasso's ECP. The IdP
// names the user after the client certificate, so the card's certificate
// reaching it shows in the SP's result; the card's APDU log shows it
// signed.
func TestCardWithLassoIdP(t *testing.T) {
	lasso.Require(t)
	id := pki.MustGet().RSA
	c := vcard.Insert(t, pcsc.AcquireT(t), 0, id, vcard.Options{})
	sp, idp := federation(t, true)
	b, err := browser.New(browser.Config{RootCAs: roots(), ServerName: "localhost",
		Certificate: []*x509.Certificate{c.Cert}, Key: c.Signer})
	if err != nil {
		t.Fatal(err)
	}
	before := c.Virtual.Count(piv.InsGeneralAuth)
	page, err := b.Get(ctx(t), sp.LoginURL(lasso.Redirect, lasso.Persistent, false))
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	r, err := lasso.ParseResult(page.Status, page.Body)
	if err != nil || !r.Encrypted || r.Format != lasso.FormatPersistent || !cnIs(r, id.Cert.Subject.CommonName) {
		t.Fatalf("ok/browser-sso: %+v %v", r, err)
	}
	run, err := (&lasso.ECP{IdPMetadata: idp.Metadata, SP: soft(t).Client(), IdP: cardOnly(b)}).
		Run(ctx(t), t, sp.ECPURL(lasso.Transient))
	if err != nil {
		t.Fatalf("ok/ecp: %v\n%s", err, run)
	}
	if r, err = lasso.ParseResult(run.Status, run.Body); err != nil || r.Format != lasso.FormatTransient || !cnIs(r, id.Cert.Subject.CommonName) {
		t.Fatalf("ok/ecp: %+v %v", r, err)
	}
	if n := c.Virtual.Count(piv.InsGeneralAuth) - before; n < 2 {
		t.Fatalf("the card signed %d handshakes, want one per IdP connection (>= 2)", n)
	}
}

// cardOnly is a client on the browser's transport (the card's key), with a
// fresh connection pool so the ECP's SOAP call makes its own handshake.
func cardOnly(b *browser.Browser) *http.Client {
	tr := b.Client().Transport.(*http.Transport).Clone()
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

func cnIs(r *lasso.Result, cn string) bool {
	a := r.Attr("cn")
	return a != nil && len(a.Values) == 1 && strings.Contains(a.Values[0], ">"+cn+"</saml:AttributeValue>")
}
