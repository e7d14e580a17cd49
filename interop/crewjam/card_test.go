package crewjam

import (
	"crypto/x509"
	"testing"

	"github.com/renkei-idwsf/renkei/card/piv"
	"github.com/renkei-idwsf/renkei/internal/browser"
	"github.com/renkei-idwsf/renkei/internal/testkit/pcsc"
	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/internal/testkit/vcard"
)

// TestCardWithCrewjamIdP runs the wiring the IdP's acceptance needs from
// this module: the virtual card through real PC/SC signs the TLS handshake
// with crewjam's IdP, which names the user after the client certificate;
// the crewjam SP receives that name in a signed, encrypted assertion.
func TestCardWithCrewjamIdP(t *testing.T) {
	id := pki.MustGet().P256
	c := vcard.Insert(t, pcsc.AcquireT(t), 0, id, vcard.Options{})
	sp, idp := federate(t, Config{SignatureMethod: RSASHA256, Encrypt: true})
	b, err := browser.New(browser.Config{RootCAs: rootPool(), ServerName: "localhost",
		Certificate: []*x509.Certificate{c.Cert}, Key: c.Signer})
	if err != nil {
		t.Fatal(err)
	}
	before := c.Virtual.Count(piv.InsGeneralAuth)
	r, err := sp.Login(testCtx(t), b, POST, Persistent, false)
	if err != nil {
		t.Fatal(err)
	}
	if r.NameID != "P-"+id.Cert.Subject.CommonName || !r.Encrypted || r.Issuer != idp.srv.URL+"/metadata" {
		t.Fatalf("result %+v\n%s", r, b)
	}
	if c.Virtual.Count(piv.InsGeneralAuth) == before {
		t.Fatal("the card signed no handshake")
	}
}
