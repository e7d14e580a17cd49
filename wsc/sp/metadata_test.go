package sp_test

import (
	"testing"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/wsc/sp"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/xmlenc"
)

// TestMetadata: the SP's entity, as the operator's aggregate would carry
// it, is schema-valid and tells an IdP what Renkei's IdP reads: signed
// requests, signed assertions, encryption to the SP's key with AES-GCM,
// the ACS over HTTP-POST, SingleLogoutServices for Redirect and SOAP, the
// persistent format, and the request for the discovery bootstrap.
func TestMetadata(t *testing.T) {
	e := newEnv(t)
	b, err := xmlsec.Serialize(e.sp.Metadata().Element())
	e.must(err)
	el, err := xmlsec.ParseElement(b, xmlsec.Limits{})
	e.must(err)
	e.must(e.schema.ValidateElement(el))
	doc, err := md.DecodeUnsigned(el)
	e.must(err)
	if doc.Entity == nil || doc.Entity.EntityID != spID {
		t.Fatalf("entity %+v", doc.Entity)
	}
	d, err := doc.Entity.SP()
	e.must(err)
	if !d.AuthnRequestsSigned || !d.WantAssertionsSigned || !d.WantsDiscoveryBootstrap() {
		t.Fatalf("AuthnRequestsSigned %v, WantAssertionsSigned %v, bootstrap %v", d.AuthnRequestsSigned, d.WantAssertionsSigned, d.WantsDiscoveryBootstrap())
	}
	if c := d.SigningCertificates(); len(c) != 1 || !c[0].Equal(e.k.spSign.Cert) {
		t.Fatalf("signing certificates %v", c)
	}
	rcpt, err := d.EncryptionRecipient(spID)
	e.must(err)
	alg, err := xmlenc.Choose(rcpt.Methods)
	e.must(err)
	if !rcpt.Cert.Equal(e.k.spEnc.Cert) || alg.Data != xmlenc.AES256GCM || alg.KeyTransport != xmlenc.RSAOAEP {
		t.Fatalf("an IdP would encrypt for %s with %+v", rcpt.Cert.Subject, alg)
	}
	acs, err := d.DefaultAssertionConsumerService()
	e.must(err)
	if acs.Location != acsURL || acs.Binding != samlp.BindingHTTPPOST {
		t.Fatalf("default ACS %+v", acs)
	}
	for b, want := range map[string]string{samlp.BindingHTTPRedirect: sloURL, samlp.BindingSOAP: soapURL} {
		if ep, err := d.SingleLogoutService(b); err != nil || ep.Location != want {
			t.Fatalf("SingleLogoutService %s: %+v %v, want %s", b, ep, err, want)
		}
	}
	if len(d.NameIDFormats) != 1 || d.NameIDFormats[0] != saml.NameIDPersistent {
		t.Fatalf("NameIDFormats %v", d.NameIDFormats)
	}

	front := newEnv(t, func(c *sp.Config) { c.SOAPSLOURL = "" })
	fd, err := front.sp.Metadata().SP()
	e.must(err)
	if _, err := fd.SingleLogoutService(samlp.BindingSOAP); err == nil {
		t.Fatal("an SP without SOAPSLOURL lists a SOAP SingleLogoutService: the IdP would send it back-channel requests")
	}
}
