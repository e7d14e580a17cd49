package wss

import (
	"crypto"
	"io"
	"slices"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/wire"
)

// nsXSI is the namespace of xsi:type, whose QName values use prefixes that
// exclusive c14n does not see.
const nsXSI = "http://www.w3.org/2001/XMLSchema-instance"

// Signer makes WS-Security message signatures. Key is required; the other
// fields have defaults.
type Signer struct {
	Key crypto.Signer
	// KeyRef says what ds:KeyInfo names: SAMLTokenRef for a holder-of-key
	// SAML 2.0 token, BinaryTokenRef or X509DataRef for a certificate;
	// the zero value writes no KeyInfo.
	KeyRef KeyRef
	// SignatureMethod is a SignatureMethod URI; "" picks rsa-sha256 for
	// RSA, ecdsa-sha256 for P-256 and ecdsa-sha384 for P-384.
	SignatureMethod string
	// DigestMethod is a DigestMethod URI; "" means sha256.
	DigestMethod string
	// Policy limits what may be used: SHA-1 only with AllowSHA1, for a
	// peer whose profile allows it.
	Policy xmlsec.Policy
	// Rand is the randomness for ECDSA and fresh wsu:Id values; nil means
	// crypto/rand.
	Rand io.Reader
}

// Sign returns a signed copy of env, a SOAP 1.1 Envelope; env and its
// document are not changed. parts are elements of env to sign; none means
// RequiredParts (IDWSF2.md §2.4: the Body, the Timestamp, every sb, sbf
// and wsa header block and the token reference). In the copy:
//   - a Header and a wsse:Security header (S:mustUnderstand="1") are added
//     when missing;
//   - the key reference's own parts are added to wsse:Security and signed
//     too: for SAMLTokenRef a SecurityTokenReference naming the assertion
//     (unless one is there), for BinaryTokenRef the BinarySecurityToken;
//   - each part without a wsu:Id, ID, AssertionID or Id attribute gets a
//     fresh wsu:Id;
//   - the namespaces of what Sign adds (wsu, wsse, wsse11), when not in
//     scope, are declared on the Envelope (see ensurePrefix);
//   - a ds:Signature is appended to wsse:Security, with one Reference per
//     part, URI="#id", exactly the exc-c14n transform (with an
//     InclusiveNamespaces PrefixList for the prefixes of xsi:type values)
//     and the configured digest.
//
// A part outside env, or one that would contain the Signature, is
// ErrReference; an envelope that already carries a ds:Signature in
// wsse:Security, ErrMalformed; an ID that occurs twice, ErrDuplicateID.
func (s *Signer) Sign(env *etree.Element, parts ...*etree.Element) (*etree.Element, error) {
	out, targets, err := copyParts(env, parts)
	if err != nil {
		return nil, err
	}
	return out, s.signTargets(out, targets)
}

// SignInPlace signs env itself, as Sign signs its copy, for a caller that
// built env and sends it at once: a response of tens of kilobytes is not
// copied to be signed. env must be the root of its tree (no parent, so
// that no namespace is inherited from outside what is signed). On error
// env may be left half changed (IDs, a Security header): the caller
// discards it.
func (s *Signer) SignInPlace(env *etree.Element, parts ...*etree.Element) error {
	if env == nil || env.Parent() != nil && (env.Parent().Tag != "" || env.Parent().Parent() != nil) {
		return xmlsec.Errorf(xmlsec.KindMalformed, "SignInPlace needs the root of a document")
	}
	var targets []*etree.Element
	for _, p := range parts {
		if !inside(p, env) {
			return xmlsec.Errorf(xmlsec.KindReference, "part <%s> is not inside the envelope", partTag(p))
		}
		targets = appendNew(targets, p)
	}
	return s.signTargets(env, targets)
}

// signTargets signs env, the root of its own tree, over targets (nil: the
// required parts), adding the Signature to its wsse:Security.
func (s *Signer) signTargets(env *etree.Element, targets []*etree.Element) error {
	si, err := s.signedInfo()
	if err != nil {
		return err
	}
	e, err := parseEnvelope(env)
	if err != nil {
		return err
	}
	sig, err := s.signCopy(&e, targets, si)
	if err != nil {
		return err
	}
	e.security.AddChild(sig)
	return nil
}

// inside reports whether el is root or one of its descendants.
func inside(el, root *etree.Element) bool {
	for ; el != nil; el = el.Parent() {
		if el == root {
			return true
		}
	}
	return false
}

// signCopy prepares the copy (Security, key reference, IDs) and builds the
// Signature over targets (nil: the required parts).
func (s *Signer) signCopy(e *envelope, targets []*etree.Element, si *xmlsec.SignedInfo) (*etree.Element, error) {
	if err := e.ensureSecurity(); err != nil {
		return nil, err
	}
	ids := newIDMaker(s.Rand, e.root)
	extra, keyInfo, err := s.KeyRef.install(e.security, ids)
	if err != nil {
		return nil, err
	}
	if targets == nil {
		targets = e.required()
	} else {
		targets = appendNew(targets, extra...)
	}
	if err := s.references(e, si, targets, ids); err != nil {
		return nil, err
	}
	return xmlsec.NewSignature(s.Rand, s.Key, si, keyInfo)
}

// signedInfo resolves the configured algorithms through the policy and
// checks the key reference against the key.
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
	if err := s.KeyRef.check(s.Key.Public()); err != nil {
		return nil, err
	}
	if _, err := s.digest(); err != nil {
		return nil, err
	}
	return &xmlsec.SignedInfo{Method: m}, nil
}

func (s *Signer) method() (xmlsec.SignatureMethod, error) {
	if s.SignatureMethod == "" {
		return xmlsec.DefaultSignatureMethod(s.Key.Public())
	}
	return s.Policy.SignatureMethod(s.SignatureMethod)
}

func (s *Signer) digest() (crypto.Hash, error) {
	if s.DigestMethod == "" {
		return crypto.SHA256, nil
	}
	return s.Policy.DigestMethod(s.DigestMethod)
}

// references gives each target an ID, checks the document's IDs are
// unique, and computes one Reference per target.
func (s *Signer) references(e *envelope, si *xmlsec.SignedInfo, targets []*etree.Element, ids *idMaker) error {
	h, err := s.digest()
	if err != nil {
		return err
	}
	refs := make([]xmlsec.Reference, len(targets))
	for i, t := range targets {
		if containsOrIs(t, e.security) {
			return xmlsec.Errorf(xmlsec.KindReference, "part <%s> would contain the Signature", t.FullTag())
		}
		id, err := ids.ensureID(t)
		if err != nil {
			return err
		}
		refs[i] = xmlsec.Reference{URI: "#" + id, Transforms: []string{xmlsec.ExcC14N}, Digest: h}
	}
	if err := xmlsec.CheckUniqueIDs(e.root, idNames); err != nil {
		return err
	}
	for i, t := range targets {
		refs[i].PrefixList = xmlsec.QNamePrefixes(t)
		if err := refs[i].Compute(t, nil); err != nil {
			return err
		}
	}
	si.References = refs
	return nil
}

// ensureSecurity adds a Header and a wsse:Security to the copy when
// missing, and refuses one that already carries a Signature.
func (e *envelope) ensureSecurity() error {
	if e.header == nil {
		e.header = etree.NewElement(qname(e.root.Space, "Header"))
		e.root.InsertChildAt(0, e.header)
	}
	if e.security == nil {
		w := ensurePrefix(e.header, "wsse", NSWSSE)
		s := ensurePrefix(e.header, "S", NSSOAP11)
		e.security = e.header.CreateElement(w + ":Security")
		e.security.CreateAttr(s+":mustUnderstand", "1")
	}
	if len(wire.Children(e.security, xmlsec.NSDSig, "Signature")) != 0 {
		return xmlsec.Errorf(xmlsec.KindMalformed, "wsse:Security already holds a ds:Signature")
	}
	return nil
}

func qname(prefix, local string) string {
	if prefix == "" {
		return local
	}
	return prefix + ":" + local
}

// containsOrIs reports whether el is inner or one of its ancestors.
func containsOrIs(el, inner *etree.Element) bool {
	for p := inner; p != nil; p = p.Parent() {
		if p == el {
			return true
		}
	}
	return false
}

// appendNew appends the elements of more not already in list.
func appendNew(list []*etree.Element, more ...*etree.Element) []*etree.Element {
	for _, m := range more {
		if !slices.Contains(list, m) {
			list = append(list, m)
		}
	}
	return list
}

// copyParts returns a standalone copy of env and the copies of parts
// (nil when parts is empty). A part that is not an element of env is
// ErrReference; one named twice is signed once.
func copyParts(env *etree.Element, parts []*etree.Element) (*etree.Element, []*etree.Element, error) {
	if env == nil {
		return nil, nil, xmlsec.Errorf(xmlsec.KindMalformed, "no envelope")
	}
	out := xmlsec.DetachCopy(env)
	if len(parts) == 0 {
		return out, nil, nil
	}
	m := pairElements(env, out)
	var targets []*etree.Element
	for _, p := range parts {
		c, ok := m[p]
		if !ok {
			return nil, nil, xmlsec.Errorf(xmlsec.KindReference, "part <%s> is not inside the envelope", partTag(p))
		}
		targets = appendNew(targets, c)
	}
	return out, targets, nil
}

func partTag(p *etree.Element) string {
	if p == nil {
		return "nil"
	}
	return p.FullTag()
}

// pairElements maps each element of orig to its counterpart in c, a copy
// with the same element structure, walking both with an explicit stack.
func pairElements(orig, c *etree.Element) map[*etree.Element]*etree.Element {
	m := make(map[*etree.Element]*etree.Element, 64)
	stack := [][2]*etree.Element{{orig, c}}
	for len(stack) > 0 {
		p := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		m[p[0]] = p[1]
		oc, cc := p[0].ChildElements(), p[1].ChildElements()
		for i := range min(len(oc), len(cc)) {
			stack = append(stack, [2]*etree.Element{oc[i], cc[i]})
		}
	}
	return m
}
