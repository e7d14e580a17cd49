package wss

import (
	"crypto"
	"crypto/x509"
	"strings"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/wire"
)

// keySelection is what a signature's ds:KeyInfo says about its key: the
// KeyRef to report, and the ID of a token an STR points at ("" if none).
type keySelection struct {
	ref      KeyRef
	tokenID  string
	keyInfo  *etree.Element
	strChild *etree.Element
}

// readKeyInfo classifies a KeyInfo without resolving anything yet.
func readKeyInfo(keyInfo *etree.Element) (keySelection, error) {
	ks := keySelection{keyInfo: keyInfo}
	if keyInfo == nil {
		return ks, nil
	}
	strs := wire.Children(keyInfo, NSWSSE, "SecurityTokenReference")
	if len(strs) > 1 {
		return ks, xmlsec.Errorf(xmlsec.KindMalformed, "KeyInfo holds %d SecurityTokenReferences", len(strs))
	}
	if len(strs) == 1 {
		return readSTR(ks, strs[0])
	}
	ks.ref.Kind = KeyRefOther
	if x := keyInfo.FindElement("./X509Data/X509Certificate"); x != nil && x.NamespaceURI() == xmlsec.NSDSig {
		ks.ref.Kind = KeyRefX509Data
	}
	return ks, nil
}

// readSTR reads the two STR forms of IDWSF2.md §2.4: a SAMLID
// KeyIdentifier, or a Reference to a token in the message.
func readSTR(ks keySelection, str *etree.Element) (keySelection, error) {
	ks.strChild = str
	ks.ref.Kind = KeyRefOther
	if id, ok := samlKeyIdentifier(str); ok {
		ks.ref = SAMLTokenRef(id)
		return ks, nil
	}
	refs := wire.Children(str, NSWSSE, "Reference")
	if len(refs) != 1 {
		return ks, nil
	}
	uri, _ := xmlsec.AttrValue(refs[0], "URI")
	id, ok := strings.CutPrefix(uri, "#")
	if !ok || id == "" {
		return ks, xmlsec.Errorf(xmlsec.KindReference, "SecurityTokenReference URI %q is not a bare #ID", uri)
	}
	ks.tokenID = id
	return ks, nil
}

// selectKeys returns the trusted keys the KeyInfo selects. KeyInfo never
// adds a key: a BinarySecurityToken or X509Data certificate is looked up
// in the trust set (ErrUntrustedKey when absent), and every other form
// selects all trusted keys.
func (ks *keySelection) selectKeys(trust *xmlsec.TrustSet, idx map[string][]*etree.Element) ([]crypto.PublicKey, error) {
	if ks.tokenID != "" {
		return ks.selectToken(trust, idx)
	}
	if ks.ref.Kind == KeyRefSAMLToken || ks.strChild != nil {
		return trust.Keys(), nil
	}
	keys, err := trust.Resolve(ks.keyInfo)
	if err == nil && ks.ref.Kind == KeyRefX509Data {
		ks.ref.Certificate = firstCertificate(ks.keyInfo)
	}
	return keys, err
}

// selectToken follows an STR Reference: to a BinarySecurityToken, whose
// certificate must be trusted, or to a SAML assertion, which selects all
// trusted keys (the caller put the token's holder-of-key key there).
func (ks *keySelection) selectToken(trust *xmlsec.TrustSet, idx map[string][]*etree.Element) ([]crypto.PublicKey, error) {
	tok, err := lookupID(idx, ks.tokenID)
	if err != nil {
		return nil, err
	}
	switch {
	case wire.Is(tok, NSSAML, "Assertion"):
		ks.ref = SAMLTokenRef(ks.tokenID)
		return trust.Keys(), nil
	case !wire.Is(tok, NSWSSE, "BinarySecurityToken"):
		return nil, xmlsec.Errorf(xmlsec.KindReference, "SecurityTokenReference points at <%s>, not a token", tok.Tag)
	}
	der, err := bstDER(tok)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, xmlsec.Wrap(xmlsec.KindUntrustedKey, err, "BinarySecurityToken certificate")
	}
	key, err := trust.ByCertificate(der)
	if err != nil {
		return nil, err
	}
	ks.ref = BinaryTokenRef(cert)
	return []crypto.PublicKey{key}, nil
}

// firstCertificate parses the first ds:X509Certificate of a KeyInfo, for
// reporting; nil when it does not parse.
func firstCertificate(keyInfo *etree.Element) *x509.Certificate {
	x := keyInfo.FindElement("./X509Data/X509Certificate")
	if x == nil {
		return nil
	}
	der, err := xmlsec.DecodeBase64(x.Text())
	if err != nil {
		return nil
	}
	cert, _ := x509.ParseCertificate(der)
	return cert
}
