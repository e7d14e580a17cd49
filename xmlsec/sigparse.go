package xmlsec

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"strings"

	"github.com/beevik/etree"
)

// ParseSignature reads a ds:Signature element strictly against the
// XML-DSig schema and the mode's rules: SignedInfo, SignatureValue,
// optional KeyInfo, then only Objects; CanonicalizationMethod exc-c14n;
// SignatureMethod and DigestMethods allowed by pol (ErrAlgorithm); the
// mode's exact transform sequence (ErrTransform); in ModeEnveloped exactly
// one Reference (ErrReference). The element is not changed.
func ParseSignature(sig *etree.Element, mode Mode, pol Policy) (*Signature, error) {
	if !isDS(sig, "Signature") {
		return nil, Errorf(KindMalformed, "not a ds:Signature")
	}
	kids, err := dsChildren(sig)
	if err != nil {
		return nil, err
	}
	if len(kids) < 2 || !isDS(kids[0], "SignedInfo") || !isDS(kids[1], "SignatureValue") {
		return nil, Errorf(KindMalformed, "ds:Signature must start with SignedInfo, SignatureValue")
	}
	s := &Signature{Element: sig, siElement: kids[0]}
	if s.SignedInfo, err = parseSignedInfo(kids[0], mode, pol); err != nil {
		return nil, err
	}
	if s.Value, err = DecodeBase64(kids[1].Text()); err != nil {
		return nil, err
	}
	s.KeyInfo, err = signatureTail(kids[2:])
	return s, err
}

// signatureTail returns the optional KeyInfo and checks that only
// ds:Object elements follow it.
func signatureTail(rest []*etree.Element) (*etree.Element, error) {
	var keyInfo *etree.Element
	if len(rest) > 0 && isDS(rest[0], "KeyInfo") {
		keyInfo, rest = rest[0], rest[1:]
	}
	for _, el := range rest {
		if !isDS(el, "Object") {
			return nil, Errorf(KindMalformed, "unexpected ds:%s in Signature", el.Tag)
		}
	}
	return keyInfo, nil
}

func parseSignedInfo(el *etree.Element, mode Mode, pol Policy) (SignedInfo, error) {
	var si SignedInfo
	kids, err := dsChildren(el)
	if err != nil {
		return si, err
	}
	if len(kids) < 3 || !isDS(kids[0], "CanonicalizationMethod") || !isDS(kids[1], "SignatureMethod") {
		return si, Errorf(KindMalformed, "SignedInfo must hold CanonicalizationMethod, SignatureMethod, Reference")
	}
	if si.PrefixList, err = parseC14NMethod(kids[0]); err != nil {
		return si, err
	}
	if si.Method, err = parseSignatureMethod(kids[1], pol); err != nil {
		return si, err
	}
	return si, parseReferences(&si, kids[2:], mode, pol)
}

func parseReferences(si *SignedInfo, refs []*etree.Element, mode Mode, pol Policy) error {
	if mode == ModeEnveloped && len(refs) != 1 {
		return Errorf(KindReference, "an enveloped signature has exactly one Reference, got %d", len(refs))
	}
	for _, el := range refs {
		r, err := parseReference(el, mode, pol)
		if err != nil {
			return err
		}
		si.References = append(si.References, r)
	}
	return nil
}

// parseC14NMethod accepts only exc-c14n without comments and returns its
// InclusiveNamespaces PrefixList.
func parseC14NMethod(el *etree.Element) ([]string, error) {
	if alg := attrOr(el, "Algorithm"); alg != ExcC14N {
		return nil, Errorf(KindAlgorithm, "CanonicalizationMethod %q not allowed", alg)
	}
	return inclusivePrefixes(el)
}

func parseSignatureMethod(el *etree.Element, pol Policy) (SignatureMethod, error) {
	m, err := pol.SignatureMethod(attrOr(el, "Algorithm"))
	if err != nil {
		return m, err
	}
	if len(el.ChildElements()) != 0 {
		return m, Errorf(KindAlgorithm, "SignatureMethod parameters (HMACOutputLength) not allowed")
	}
	return m, nil
}

func parseReference(el *etree.Element, mode Mode, pol Policy) (Reference, error) {
	var r Reference
	if !isDS(el, "Reference") {
		return r, Errorf(KindMalformed, "unexpected ds:%s in SignedInfo", el.Tag)
	}
	r.URI, r.hasURI = AttrValue(el, "URI")
	kids, err := dsChildren(el)
	if err != nil {
		return r, err
	}
	if len(kids) > 0 && isDS(kids[0], "Transforms") {
		if err := parseTransforms(&r, kids[0]); err != nil {
			return r, err
		}
		kids = kids[1:]
	}
	if !pol.transformsAllowed(mode, r.Transforms) {
		return r, Errorf(KindTransform, "transforms %q, this mode allows exactly %q", r.Transforms, allowedTransforms[mode])
	}
	return r, parseDigest(&r, kids, pol)
}

func parseTransforms(r *Reference, el *etree.Element) error {
	kids, err := dsChildren(el)
	if err != nil {
		return err
	}
	for _, t := range kids {
		if !isDS(t, "Transform") {
			return Errorf(KindMalformed, "unexpected ds:%s in Transforms", t.Tag)
		}
		alg := attrOr(t, "Algorithm")
		r.Transforms = append(r.Transforms, alg)
		if alg == ExcC14N {
			if r.PrefixList, err = inclusivePrefixes(t); err != nil {
				return err
			}
		} else if len(t.ChildElements()) != 0 {
			return Errorf(KindTransform, "transform %q takes no parameters here", alg)
		}
	}
	return nil
}

func parseDigest(r *Reference, kids []*etree.Element, pol Policy) error {
	if len(kids) != 2 || !isDS(kids[0], "DigestMethod") || !isDS(kids[1], "DigestValue") {
		return Errorf(KindMalformed, "Reference must end with DigestMethod, DigestValue")
	}
	var err error
	if r.Digest, err = pol.DigestMethod(attrOr(kids[0], "Algorithm")); err != nil {
		return err
	}
	if r.DigestValue, err = DecodeBase64(kids[1].Text()); err != nil {
		return err
	}
	if len(r.DigestValue) != r.Digest.Size() {
		return Errorf(KindDigest, "DigestValue of %d octets for %v", len(r.DigestValue), r.Digest)
	}
	return nil
}

// inclusivePrefixes reads the optional ec:InclusiveNamespaces child of a
// CanonicalizationMethod or exc-c14n Transform; anything else there is
// refused.
func inclusivePrefixes(el *etree.Element) ([]string, error) {
	kids := el.ChildElements()
	if len(kids) == 0 {
		return nil, nil
	}
	in := kids[0]
	if len(kids) != 1 || in.Tag != "InclusiveNamespaces" || in.NamespaceURI() != NSExcC14N {
		return nil, Errorf(KindTransform, "exc-c14n takes only an InclusiveNamespaces parameter")
	}
	return ParsePrefixList(attrOr(in, "PrefixList")), nil
}

// dsChildren returns el's child elements, refusing non-white-space text
// and children outside the XML-DSig namespace.
func dsChildren(el *etree.Element) ([]*etree.Element, error) {
	var out []*etree.Element
	for _, t := range el.Child {
		switch c := t.(type) {
		case *etree.Element:
			if c.NamespaceURI() != NSDSig {
				return nil, Errorf(KindMalformed, "element %s:%s inside ds:%s", c.Space, c.Tag, el.Tag)
			}
			out = append(out, c)
		case *etree.CharData:
			if strings.TrimSpace(c.Data) != "" {
				return nil, Errorf(KindMalformed, "text inside ds:%s", el.Tag)
			}
		}
	}
	return out, nil
}

func isDS(el *etree.Element, local string) bool {
	return el.Tag == local && el.NamespaceURI() == NSDSig
}

func keyType(k crypto.PublicKey) KeyType {
	switch k.(type) {
	case *rsa.PublicKey:
		return KeyRSA
	case *ecdsa.PublicKey:
		return KeyECDSA
	}
	return 0
}

// attrOr is AttrValue without the presence flag.
func attrOr(el *etree.Element, key string) string {
	v, _ := AttrValue(el, key)
	return v
}
