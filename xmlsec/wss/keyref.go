package wss

import (
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"strings"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/wire"
)

// KeyRefKind says how a signature's ds:KeyInfo names the signing key.
type KeyRefKind int

// The KeyInfo forms of ID-WSF 2.0 message signatures (IDWSF2.md §2.4).
const (
	// KeyRefNone: no ds:KeyInfo (ZXID sends none; the receiver knows the
	// key from the sender's metadata or the token).
	KeyRefNone KeyRefKind = iota
	// KeyRefSAMLToken: a wsse:SecurityTokenReference whose
	// wsse:KeyIdentifier (ValueType SAMLID) holds the ID of the SAML 2.0
	// holder-of-key assertion (WSS SAML Token Profile 1.1 §3.4.2), as
	// Lasso and ZXID write it.
	KeyRefSAMLToken
	// KeyRefBinaryToken: a wsse:SecurityTokenReference whose
	// wsse:Reference points at an X.509 wsse:BinarySecurityToken in
	// wsse:Security (WSS X.509 Token Profile 1.1 §3.3.2), for the
	// ClientTLS:X509-style mechanisms.
	KeyRefBinaryToken
	// KeyRefX509Data: an inline ds:X509Data.
	KeyRefX509Data
	// KeyRefOther: any other KeyInfo content, read only when verifying.
	KeyRefOther
)

// KeyRef is a signature's key reference: what a Signer writes into
// ds:KeyInfo, and what a Verifier read from it.
type KeyRef struct {
	Kind        KeyRefKind
	AssertionID string            // KeyRefSAMLToken: the assertion's ID
	Certificate *x509.Certificate // KeyRefBinaryToken, KeyRefX509Data
}

// SAMLTokenRef names a SAML 2.0 assertion token by its ID.
func SAMLTokenRef(assertionID string) KeyRef {
	return KeyRef{Kind: KeyRefSAMLToken, AssertionID: assertionID}
}

// BinaryTokenRef carries cert in a wsse:BinarySecurityToken.
func BinaryTokenRef(cert *x509.Certificate) KeyRef {
	return KeyRef{Kind: KeyRefBinaryToken, Certificate: cert}
}

// X509DataRef carries cert in an inline ds:X509Data.
func X509DataRef(cert *x509.Certificate) KeyRef {
	return KeyRef{Kind: KeyRefX509Data, Certificate: cert}
}

// check refuses a KeyRef that cannot name pub.
func (k KeyRef) check(pub crypto.PublicKey) error {
	switch k.Kind {
	case KeyRefNone:
		return nil
	case KeyRefSAMLToken:
		if k.AssertionID == "" {
			return xmlsec.Errorf(xmlsec.KindReference, "SAML token reference without an assertion ID")
		}
		return nil
	case KeyRefBinaryToken, KeyRefX509Data:
		return checkCertKey(k.Certificate, pub)
	}
	return xmlsec.Errorf(xmlsec.KindMalformed, "KeyRef kind %d cannot be written", k.Kind)
}

func checkCertKey(cert *x509.Certificate, pub crypto.PublicKey) error {
	if cert == nil {
		return xmlsec.Errorf(xmlsec.KindUntrustedKey, "key reference without a certificate")
	}
	eq, ok := cert.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !eq.Equal(pub) {
		return xmlsec.Errorf(xmlsec.KindUntrustedKey, "the certificate does not hold the signing key")
	}
	return nil
}

// install adds to sec what the key reference needs there (the
// SecurityTokenReference naming the SAML token, or the
// BinarySecurityToken), returning those elements, which must be signed,
// and the ds:KeyInfo for the Signature (nil for KeyRefNone). The
// namespaces they use are declared on the envelope (see ensurePrefix).
func (k KeyRef) install(sec *etree.Element, ids *idMaker) ([]*etree.Element, *etree.Element, error) {
	switch k.Kind {
	case KeyRefSAMLToken:
		str := findSAMLSTR(sec, k.AssertionID)
		if str == nil {
			str = newSAMLSTR(sec, k.AssertionID)
			sec.AddChild(str)
		}
		return []*etree.Element{str}, keyInfo(newSAMLSTR(sec, k.AssertionID)), nil
	case KeyRefBinaryToken:
		return installBST(sec, ids, k.Certificate)
	case KeyRefX509Data:
		return nil, xmlsec.X509KeyInfo(k.Certificate), nil
	}
	return nil, nil, nil
}

func keyInfo(child *etree.Element) *etree.Element {
	ki := etree.NewElement("ds:KeyInfo")
	ki.AddChild(child)
	return ki
}

// newSAMLSTR builds, for use inside sec, the STR of WSS SAML Token
// Profile 1.1 §3.4.2 for a SAML 2.0 assertion, with its TokenType
// (required there for V2.0 tokens).
func newSAMLSTR(sec *etree.Element, assertionID string) *etree.Element {
	w := ensurePrefix(sec, "wsse", NSWSSE)
	w11 := ensurePrefix(sec, "wsse11", NSWSSE11)
	str := etree.NewElement(w + ":SecurityTokenReference")
	str.CreateAttr(w11+":TokenType", TokenTypeSAMLV20)
	ki := str.CreateElement(w + ":KeyIdentifier")
	ki.CreateAttr("ValueType", ValueTypeSAMLID)
	ki.SetText(assertionID)
	return str
}

// findSAMLSTR returns the STR child of sec naming assertionID, or nil.
func findSAMLSTR(sec *etree.Element, assertionID string) *etree.Element {
	for _, str := range wire.Children(sec, NSWSSE, "SecurityTokenReference") {
		if id, ok := samlKeyIdentifier(str); ok && id == assertionID {
			return str
		}
	}
	return nil
}

// samlKeyIdentifier returns the assertion ID of an STR's SAMLID
// KeyIdentifier.
func samlKeyIdentifier(str *etree.Element) (string, bool) {
	for _, ki := range wire.Children(str, NSWSSE, "KeyIdentifier") {
		if vt, _ := xmlsec.AttrValue(ki, "ValueType"); vt == ValueTypeSAMLID {
			return strings.TrimSpace(ki.Text()), true
		}
	}
	return "", false
}

// installBST adds a wsse:BinarySecurityToken holding cert to sec (or
// reuses one holding it already) and returns the KeyInfo whose STR
// references it.
func installBST(sec *etree.Element, ids *idMaker, cert *x509.Certificate) ([]*etree.Element, *etree.Element, error) {
	w := ensurePrefix(sec, "wsse", NSWSSE)
	bst := findBST(sec, cert)
	if bst == nil {
		bst = etree.NewElement(w + ":BinarySecurityToken")
		bst.CreateAttr("ValueType", ValueTypeX509v3)
		bst.CreateAttr("EncodingType", EncodingBase64)
		bst.SetText(base64.StdEncoding.EncodeToString(cert.Raw))
		sec.AddChild(bst)
	}
	id, err := ids.ensureID(bst)
	if err != nil {
		return nil, nil, err
	}
	str := etree.NewElement(w + ":SecurityTokenReference")
	ref := str.CreateElement(w + ":Reference")
	ref.CreateAttr("URI", "#"+id)
	ref.CreateAttr("ValueType", ValueTypeX509v3)
	return []*etree.Element{bst}, keyInfo(str), nil
}

func findBST(sec *etree.Element, cert *x509.Certificate) *etree.Element {
	for _, bst := range wire.Children(sec, NSWSSE, "BinarySecurityToken") {
		if der, err := bstDER(bst); err == nil && string(der) == string(cert.Raw) {
			return bst
		}
	}
	return nil
}

// bstDER decodes an X.509 v3 BinarySecurityToken (Base64Binary, the
// default EncodingType).
func bstDER(bst *etree.Element) ([]byte, error) {
	if vt, _ := xmlsec.AttrValue(bst, "ValueType"); vt != ValueTypeX509v3 {
		return nil, xmlsec.Errorf(xmlsec.KindUntrustedKey, "BinarySecurityToken ValueType %q is not X509v3", vt)
	}
	if enc, ok := xmlsec.AttrValue(bst, "EncodingType"); ok && enc != EncodingBase64 {
		return nil, xmlsec.Errorf(xmlsec.KindMalformed, "BinarySecurityToken EncodingType %q", enc)
	}
	return xmlsec.DecodeBase64(bst.Text())
}
