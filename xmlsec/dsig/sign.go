package dsig

import (
	"crypto"
	"crypto/x509"
	"io"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/xmlsec"
)

// Namespaces the placement rules look for.
const (
	nsAssertion = "urn:oasis:names:tc:SAML:2.0:assertion"
	nsXSI       = "http://www.w3.org/2001/XMLSchema-instance"
)

// Signer makes enveloped signatures. Key is required; the other fields
// have defaults. A Signer is not changed by Sign and may be shared by
// goroutines.
type Signer struct {
	Key crypto.Signer
	// Certificates go into ds:KeyInfo/ds:X509Data, the signing
	// certificate first; none means no KeyInfo.
	Certificates []*x509.Certificate
	// SignatureMethod is a SignatureMethod URI; "" picks rsa-sha256 for
	// RSA, ecdsa-sha256 for P-256 and ecdsa-sha384 for P-384.
	SignatureMethod string
	// DigestMethod is a DigestMethod URI; "" means sha256.
	DigestMethod string
	// IDAttr names the unprefixed ID attribute; "" means "ID" (SAML).
	IDAttr string
	// Policy limits what may be used: SHA-1 only with AllowSHA1.
	Policy xmlsec.Policy
	// Rand is the randomness for ECDSA; nil means crypto/rand.
	Rand io.Reader
}

// Sign returns a signed copy of el; el and its document are not changed.
// The copy carries the namespace declarations el inherited, and its
// Signature sits where the SAML schemas want it: right after a leading
// saml:Issuer, otherwise as the first child element (md:EntityDescriptor,
// md:EntitiesDescriptor). Prefixes used in xsi:type values are put in the
// InclusiveNamespaces PrefixList so that their bindings are signed too.
func (s *Signer) Sign(el *etree.Element) (*etree.Element, error) {
	si, err := s.signedInfo()
	if err != nil {
		return nil, err
	}
	out := xmlsec.DetachCopy(el)
	if sigChild(out) != nil {
		return nil, xmlsec.Errorf(xmlsec.KindMalformed, "<%s> already carries a ds:Signature", el.Tag)
	}
	id, ok := xmlsec.AttrValue(out, idAttr(s.IDAttr))
	if !ok || id == "" {
		return nil, xmlsec.Errorf(xmlsec.KindReference, "<%s> has no %s attribute to reference", el.Tag, idAttr(s.IDAttr))
	}
	ref := &si.References[0]
	ref.URI, ref.PrefixList = "#"+id, xmlsec.QNamePrefixes(out)
	if err := ref.Compute(out, nil); err != nil {
		return nil, err
	}
	sig, err := xmlsec.NewSignature(s.Rand, s.Key, si, s.keyInfo())
	if err != nil {
		return nil, err
	}
	insertSignature(out, sig)
	return out, nil
}

// signedInfo resolves the configured algorithms through the policy.
func (s *Signer) signedInfo() (*xmlsec.SignedInfo, error) {
	if s.Key == nil {
		return nil, xmlsec.Errorf(xmlsec.KindAlgorithm, "Signer has no Key")
	}
	m, err := s.method()
	if err != nil {
		return nil, err
	}
	if err := s.Policy.CheckKey(m, s.Key.Public()); err != nil {
		return nil, err
	}
	dm := s.DigestMethod
	if dm == "" {
		dm = xmlsec.DigestSHA256
	}
	h, err := s.Policy.DigestMethod(dm)
	if err != nil {
		return nil, err
	}
	ref := xmlsec.Reference{Transforms: []string{xmlsec.EnvelopedSignature, xmlsec.ExcC14N}, Digest: h}
	return &xmlsec.SignedInfo{Method: m, References: []xmlsec.Reference{ref}}, nil
}

func (s *Signer) method() (xmlsec.SignatureMethod, error) {
	if s.SignatureMethod == "" {
		return xmlsec.DefaultSignatureMethod(s.Key.Public())
	}
	return s.Policy.SignatureMethod(s.SignatureMethod)
}

func (s *Signer) keyInfo() *etree.Element {
	if len(s.Certificates) == 0 {
		return nil
	}
	return xmlsec.X509KeyInfo(s.Certificates...)
}

func idAttr(name string) string {
	if name == "" {
		return "ID"
	}
	return name
}

// insertSignature places sig after a leading saml:Issuer, else before the
// first child element (SAML 2.0 Core §5.4.1 and the schemas' sequences).
func insertSignature(el, sig *etree.Element) {
	for i, t := range el.Child {
		c, ok := t.(*etree.Element)
		if !ok {
			continue
		}
		if c.Tag == "Issuer" && c.NamespaceURI() == nsAssertion {
			i++
		}
		el.InsertChildAt(i, sig)
		return
	}
	el.AddChild(sig)
}
