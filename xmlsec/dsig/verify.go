package dsig

import (
	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/xmlsec"
)

// Verifier checks enveloped signatures against a trust set. A Verifier is
// not changed by Verify and may be shared by goroutines.
type Verifier struct {
	// Trust holds the keys signatures are accepted from (required).
	Trust *xmlsec.TrustSet
	// Policy decides the algorithms and key sizes accepted.
	Policy xmlsec.Policy
	// IDAttr names the unprefixed ID attribute; "" means "ID" (SAML).
	IDAttr string
}

// Verify checks the enveloped signature of el, the element the caller
// expects to be signed (a Response, or an Assertion inside one), and
// returns a standalone copy of what was signed. Callers read only that
// copy. The rules, each with its typed error:
//   - el has exactly one ds:Signature child (ErrNoSignature when none,
//     ErrMalformed when several);
//   - the SignedInfo passes the shared core's checks: exc-c14n, allowed
//     algorithms (ErrAlgorithm), exactly the transforms enveloped-signature
//     then exc-c14n (ErrTransform), one Reference (ErrReference);
//   - the Reference URI is "#" + el's ID (ErrReference), and no ID occurs
//     twice anywhere in el's document (ErrDuplicateID; with the policy's
//     UnrelatedDuplicateIDs quirk, el's ID only), so the Reference can only
//     mean el (SAML 2.0 Core §5.4.2);
//   - KeyInfo selects among trusted keys only (ErrUntrustedKey), the
//     SignatureValue verifies (ErrSignature), and the digest of el without
//     its Signature matches (ErrDigest).
func (v *Verifier) Verify(el *etree.Element) (*etree.Element, error) {
	sigEl, err := v.signatureOf(el)
	if err != nil {
		return nil, err
	}
	sig, err := xmlsec.ParseSignature(sigEl, xmlsec.ModeEnveloped, v.Policy)
	if err != nil {
		return nil, err
	}
	if err := v.checkTarget(el, &sig.SignedInfo.References[0]); err != nil {
		return nil, err
	}
	if err := v.checkSigner(sig); err != nil {
		return nil, err
	}
	if err := sig.SignedInfo.References[0].Verify(el, sigEl); err != nil {
		return nil, err
	}
	return xmlsec.DetachSigned(el, sigEl), nil
}

func (v *Verifier) signatureOf(el *etree.Element) (*etree.Element, error) {
	if v.Trust == nil {
		return nil, xmlsec.Errorf(xmlsec.KindUntrustedKey, "Verifier has no trust set")
	}
	var found *etree.Element
	for _, t := range el.Child {
		c, ok := t.(*etree.Element)
		if !ok || c.Tag != "Signature" || c.NamespaceURI() != xmlsec.NSDSig {
			continue
		}
		if found != nil {
			return nil, xmlsec.Errorf(xmlsec.KindMalformed, "<%s> has two ds:Signature children", el.Tag)
		}
		found = c
	}
	if found == nil {
		return nil, xmlsec.Errorf(xmlsec.KindNoSignature, "<%s> is not signed", el.Tag)
	}
	return found, nil
}

// checkTarget ties the Reference to el: its URI names el's ID, and that ID
// (like every other) is unique in the whole document.
func (v *Verifier) checkTarget(el *etree.Element, ref *xmlsec.Reference) error {
	refID, err := ref.ID()
	if err != nil {
		return err
	}
	id, _ := xmlsec.AttrValue(el, idAttr(v.IDAttr))
	if id == "" || id != refID {
		return xmlsec.Errorf(xmlsec.KindReference, "Reference %q does not point at <%s %s=%q>", ref.URI, el.Tag, idAttr(v.IDAttr), id)
	}
	return v.Policy.CheckIDs(xmlsec.DocumentRoot(el), []string{id}, v.idAttrs())
}

func (v *Verifier) idAttrs() []string {
	name := idAttr(v.IDAttr)
	for _, n := range xmlsec.DefaultIDAttrs {
		if n == name {
			return xmlsec.DefaultIDAttrs
		}
	}
	return append([]string{name}, xmlsec.DefaultIDAttrs...)
}

func (v *Verifier) checkSigner(sig *xmlsec.Signature) error {
	keys, err := v.Trust.Resolve(sig.KeyInfo)
	if err != nil {
		return err
	}
	_, err = sig.Verify(keys, v.Policy)
	return err
}

// sigChild returns el's first ds:Signature child, or nil.
func sigChild(el *etree.Element) *etree.Element {
	for _, c := range el.ChildElements() {
		if c.Tag == "Signature" && c.NamespaceURI() == xmlsec.NSDSig {
			return c
		}
	}
	return nil
}
