package wss

import (
	"crypto"
	"slices"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/wire"
)

// Verifier checks the WS-Security message signature of SOAP envelopes.
// The verifying keys are the caller's trust decision; KeyInfo only
// selects among them.
type Verifier struct {
	// Trust holds the keys the signature may verify with (required): the
	// holder-of-key key of the token, the sender's metadata keys, or
	// both.
	Trust *xmlsec.TrustSet
	// Policy decides the algorithms and key sizes accepted, and the ZXID
	// quirks of the shared core (DetachedEnveloped transforms,
	// UnrelatedDuplicateIDs).
	Policy xmlsec.Policy
	// AllowUnqualifiedID lets a Reference resolve through an unprefixed id
	// attribute: ZXID 1.43 signs its Body as <e:Body id="BDY"> (IDWSF2.md
	// §11 item 18). Off by default, since id carries no ID semantics on
	// SOAP elements; on or off, id attributes count in the duplicate-ID
	// check.
	AllowUnqualifiedID bool
}

// Verify checks the message signature of env, a parsed SOAP 1.1 Envelope,
// and returns what was verified. env is only read. The rules, each with
// its typed error:
//   - env is a SOAP 1.1 Envelope with one Header, one Body and at most one
//     wsse:Security header (ErrMalformed); wsse:Security holds exactly one
//     ds:Signature (ErrNoSignature when none, ErrMalformed when several);
//   - the SignedInfo passes the shared core's checks: exc-c14n, allowed
//     algorithms (ErrAlgorithm), each Reference with exactly the exc-c14n
//     transform and an optional InclusiveNamespaces PrefixList
//     (ErrTransform);
//   - each Reference URI is "#id" (ErrReference) of exactly one element of
//     the document, no two References naming the same one (ErrReference),
//     and no ID (wsu:Id, ID, AssertionID, Id, id) occurs twice anywhere
//     in the document (ErrDuplicateID): WSS 1.1 §8.3 and XML-DSig Best
//     Practices §2.2 against signature wrapping;
//   - KeyInfo selects among trusted keys only (ErrUntrustedKey);
//   - the SignatureValue verifies (ErrSignature), then every digest
//     matches (ErrDigest): the signature first, so that an unauthenticated
//     message costs one canonical SignedInfo and one public-key operation,
//     not a canonicalization per Reference (XML Signature Best Practices,
//     W3C Note 2013, Best Practice 1).
//
// The Verified result says nothing about which parts had to be signed:
// check that with CheckCoverage or Unsigned.
func (v *Verifier) Verify(env *etree.Element) (*Verified, error) {
	e, sigEl, err := v.locate(env)
	if err != nil {
		return nil, err
	}
	sig, err := xmlsec.ParseSignature(sigEl, xmlsec.ModeWSSecurity, v.Policy)
	if err != nil {
		return nil, err
	}
	ks, err := readKeyInfo(sig.KeyInfo)
	if err != nil {
		return nil, err
	}
	targets, idx, err := v.resolve(env, sig, ks.tokenID)
	if err != nil {
		return nil, err
	}
	keys, err := ks.selectKeys(v.Trust, idx)
	if err != nil {
		return nil, err
	}
	key, err := checkValues(sig, targets, keys, v.Policy)
	if err != nil {
		return nil, err
	}
	return newVerified(e, sig, targets, key, ks.ref), nil
}

// locate finds the one ds:Signature of the wsse:Security header.
func (v *Verifier) locate(env *etree.Element) (envelope, *etree.Element, error) {
	if v.Trust == nil {
		return envelope{}, nil, xmlsec.Errorf(xmlsec.KindUntrustedKey, "Verifier has no trust set")
	}
	e, err := parseEnvelope(env)
	if err != nil {
		return e, nil, err
	}
	if e.security == nil {
		return e, nil, xmlsec.Errorf(xmlsec.KindNoSignature, "no wsse:Security header")
	}
	sigs := wire.Children(e.security, xmlsec.NSDSig, "Signature")
	switch len(sigs) {
	case 0:
		return e, nil, xmlsec.Errorf(xmlsec.KindNoSignature, "wsse:Security holds no ds:Signature")
	case 1:
		return e, sigs[0], nil
	}
	return e, nil, xmlsec.Errorf(xmlsec.KindMalformed, "wsse:Security holds %d ds:Signatures", len(sigs))
}

// resolve maps each Reference to its one target element, after checking
// that the IDs of the document (or, with the UnrelatedDuplicateIDs quirk,
// the referenced ones and the token's) are unique.
func (v *Verifier) resolve(env *etree.Element, sig *xmlsec.Signature, tokenID string) ([]*etree.Element, map[string][]*etree.Element, error) {
	ids, err := referenceIDs(sig)
	if err != nil {
		return nil, nil, err
	}
	root := xmlsec.DocumentRoot(env)
	checked := ids
	if tokenID != "" {
		checked = append(slices.Clip(ids), tokenID)
	}
	if err := v.Policy.CheckIDs(root, checked, idNames); err != nil {
		return nil, nil, err
	}
	idx := indexIDs(root, v.AllowUnqualifiedID)
	targets := make([]*etree.Element, len(ids))
	for i, id := range ids {
		if targets[i], err = lookupID(idx, id); err != nil {
			return nil, nil, err
		}
	}
	return targets, idx, nil
}

// referenceIDs returns the ID of each Reference, refusing one named twice.
func referenceIDs(sig *xmlsec.Signature) ([]string, error) {
	refs := sig.SignedInfo.References
	ids := make([]string, len(refs))
	for i := range refs {
		id, err := refs[i].ID()
		if err != nil {
			return nil, err
		}
		if slices.Contains(ids[:i], id) {
			return nil, xmlsec.Errorf(xmlsec.KindReference, "two References to #%s", id)
		}
		ids[i] = id
	}
	return ids, nil
}

// checkValues checks the SignatureValue with the selected keys, then every
// DigestValue, and returns the key that verified.
func checkValues(sig *xmlsec.Signature, targets []*etree.Element, keys []crypto.PublicKey, pol xmlsec.Policy) (crypto.PublicKey, error) {
	key, err := sig.Verify(keys, pol)
	if err != nil {
		return nil, err
	}
	for i := range sig.SignedInfo.References {
		ref := &sig.SignedInfo.References[i]
		if err := ref.Verify(targets[i], omitFor(ref, sig)); err != nil {
			return nil, err
		}
	}
	return key, nil
}

// omitFor returns the Signature to leave out of a Reference's digest: only
// under the enveloped-signature transform, which ParseSignature admits on
// WS-Security references for the DetachedEnveloped quirk alone.
func omitFor(ref *xmlsec.Reference, sig *xmlsec.Signature) *etree.Element {
	if slices.Contains(ref.Transforms, xmlsec.EnvelopedSignature) {
		return sig.Element
	}
	return nil
}
