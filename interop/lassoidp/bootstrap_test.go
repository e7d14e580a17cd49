package lassoidp_test

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/internal/testkit/idpkit"
	"github.com/renkei-idwsf/renkei/internal/testkit/lasso"
	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
	"github.com/renkei-idwsf/renkei/xmlsec/xmlenc"
)

// checkBootstrap: the DiscoveryEPR attribute Lasso decrypted and dumped
// as raw XML holds one wsa:EndpointReference (IDWSF2 §4.5) of the
// configured DS, whose token is an assertion our IdP signed (still
// verifiable after Lasso's round trip), for the DS alone, naming the user
// by an EncryptedID only the DS can open, and bound to the SP's key.
func (f *fed) checkBootstrap(t *testing.T, r *lasso.Result, sp *lasso.SP) {
	t.Helper()
	a := r.Attr(lasso.DiscoveryEPR)
	if a == nil || len(a.Values) != 1 {
		t.Fatalf("DiscoveryEPR attribute: %+v", a)
	}
	doc, err := xmlsec.Parse([]byte(a.Values[0]), xmlsec.Limits{})
	if err != nil {
		t.Fatalf("the attribute value Lasso reports does not parse: %v", err)
	}
	els := doc.Root().ChildElements()
	if len(els) != 1 || els[0].Tag != "EndpointReference" || els[0].NamespaceURI() != "http://www.w3.org/2005/08/addressing" {
		t.Fatalf("the AttributeValue holds %d elements, want one wsa:EndpointReference: %s", len(els), a.Values[0])
	}
	epr, err := wsf.DecodeEPR(els[0])
	if err != nil {
		t.Fatal(err)
	}
	if epr.Address != idpkit.DSAddress || epr.Metadata == nil || epr.Metadata.ProviderID != idpkit.DSEntityID ||
		len(epr.Metadata.SecurityContexts) != 1 || len(epr.Metadata.SecurityContexts[0].Tokens) != 1 {
		t.Fatalf("EPR %+v", epr)
	}
	f.checkDSToken(t, epr.Metadata.SecurityContexts[0].Tokens[0].Element, sp)
}

func (f *fed) checkDSToken(t *testing.T, tok *etree.Element, sp *lasso.SP) {
	t.Helper()
	as, _, err := saml.VerifyAssertion(tok, &dsig.Verifier{Trust: xmlsec.NewTrustSet([]*x509.Certificate{f.idp.Signing.Cert})})
	if err != nil {
		t.Fatalf("the DS token does not verify with our signing key after Lasso's round trip: %v", err)
	}
	if as.Subject == nil || as.Subject.EncryptedID == nil || as.Subject.NameID != nil {
		t.Fatal("the DS token names its subject in clear")
	}
	n, err := as.Subject.EncryptedID.Decrypt(&xmlenc.Decrypter{Key: f.idp.DSEncryption.Key.(*rsa.PrivateKey), EntityID: idpkit.DSEntityID})
	if err != nil || n.Format != saml.NameIDPersistent || n.Value == "" {
		t.Fatalf("the DS cannot read the token's subject: %+v %v", n, err)
	}
	hok := as.Subject.ConfirmationsBy("urn:oasis:names:tc:SAML:2.0:cm:holder-of-key")
	if len(hok) != 1 || hok[0].Data == nil || len(hok[0].Data.KeyInfos) != 1 || len(hok[0].Data.KeyInfos[0].Certificates) != 1 ||
		!bytes.Equal(hok[0].Data.KeyInfos[0].Certificates[0].Raw, sp.Signing.Cert.Raw) {
		t.Fatalf("the DS token is not bound to the SP's metadata key: %+v", hok)
	}
	if err := as.CheckConditions(time.Now(), time.Minute, idpkit.DSEntityID); err != nil {
		t.Fatalf("the DS token is not for the DS now: %v", err)
	}
}
