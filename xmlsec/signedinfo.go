package xmlsec

import (
	"crypto"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/beevik/etree"
)

// NSExcC14N is the namespace of the InclusiveNamespaces element.
const NSExcC14N = "http://www.w3.org/2001/10/xml-exc-c14n#"

// Mode is the kind of signature being read; each has its own transform
// allow-list.
type Mode int

// The two signature shapes Renkei reads and writes.
const (
	// ModeEnveloped: one Reference to the parent of the Signature, with
	// exactly the transforms enveloped-signature then exc-c14n (SAML 2.0
	// Core §5.4.3, §5.4.4).
	ModeEnveloped Mode = iota + 1
	// ModeWSSecurity: one or more detached References, each with exactly
	// the exc-c14n transform (ID-WSF 2.0 SOAP Binding and WSS 1.1 SOAP
	// Message Security §8).
	ModeWSSecurity
)

// allowedTransforms is the allow-list of each mode: the exact sequence.
var allowedTransforms = map[Mode][]string{
	ModeEnveloped:  {EnvelopedSignature, ExcC14N},
	ModeWSSecurity: {ExcC14N},
}

// transformsAllowed reports whether a Reference's transform sequence is
// the mode's, or, for a peer with the DetachedEnveloped quirk, the
// enveloped sequence on a WS-Security reference.
func (p Policy) transformsAllowed(mode Mode, got []string) bool {
	if slices.Equal(got, allowedTransforms[mode]) {
		return true
	}
	return mode == ModeWSSecurity && p.DetachedEnveloped && slices.Equal(got, allowedTransforms[ModeEnveloped])
}

// Reference is one ds:Reference of a SignedInfo.
type Reference struct {
	URI         string      // "#" + the ID of the referenced element
	Transforms  []string    // Transform Algorithm URIs, in order
	PrefixList  []string    // InclusiveNamespaces PrefixList of the exc-c14n Transform
	Digest      crypto.Hash // the DigestMethod
	DigestValue []byte
	hasURI      bool
}

// SignedInfo is a parsed or to-be-built ds:SignedInfo. Its
// CanonicalizationMethod is always exc-c14n.
type SignedInfo struct {
	PrefixList []string // InclusiveNamespaces PrefixList of the CanonicalizationMethod
	Method     SignatureMethod
	References []Reference
}

// Signature is a ds:Signature read from a document. Only SignedInfo,
// Value and KeyInfo are taken from the message; nothing in it is trusted
// until Verify and each Reference's Verify succeed.
type Signature struct {
	Element    *etree.Element // the ds:Signature, inside the caller's document
	SignedInfo SignedInfo
	Value      []byte
	KeyInfo    *etree.Element // nil when absent
	siElement  *etree.Element
}

// ID returns the ID a same-document Reference points at. An absent or
// empty URI (the whole document), XPointer forms and external URIs are
// ErrReference: only "#id" is accepted.
func (r *Reference) ID() (string, error) {
	if !r.hasURI {
		return "", Errorf(KindReference, "Reference without URI")
	}
	id, ok := strings.CutPrefix(r.URI, "#")
	if !ok || id == "" || strings.ContainsAny(id, "#()' \t\r\n") {
		return "", Errorf(KindReference, "Reference URI %q is not a bare #ID", r.URI)
	}
	return id, nil
}

// Compute digests target (leaving out omit, the enveloped Signature when
// there is one) with the reference's PrefixList and stores DigestValue.
func (r *Reference) Compute(target, omit *etree.Element) error {
	sum, err := r.sum(target, omit)
	if err != nil {
		return err
	}
	r.DigestValue = sum
	return nil
}

// Verify digests target the same way and compares with DigestValue;
// a mismatch is ErrDigest.
func (r *Reference) Verify(target, omit *etree.Element) error {
	sum, err := r.sum(target, omit)
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare(sum, r.DigestValue) != 1 {
		return Errorf(KindDigest, "Reference %q", r.URI)
	}
	return nil
}

func (r *Reference) sum(target, omit *etree.Element) ([]byte, error) {
	if !r.Digest.Available() {
		return nil, Errorf(KindAlgorithm, "digest %v unavailable", r.Digest)
	}
	buf := getBuf()
	defer putBuf(buf)
	out, err := C14N{PrefixList: r.PrefixList, Omit: omit}.Append((*buf)[:0], target)
	*buf = out
	if err != nil {
		return nil, err
	}
	h := r.Digest.New()
	h.Write(out)
	return h.Sum(nil), nil
}

// bufPool holds canonicalization buffers: a verifier canonicalizes every
// signed element once per message, and reusing the buffer saves most of
// the allocation.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 8192); return &b }}

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

// putBuf returns a buffer to the pool unless it grew past 1 MiB.
func putBuf(b *[]byte) {
	if cap(*b) <= 1<<20 {
		bufPool.Put(b)
	}
}

// Verify checks the SignatureValue over the exclusive canonical form of
// SignedInfo (in the context of its document) with each candidate key of
// the method's family, returning the key that verified. No candidate of
// that family is ErrUntrustedKey; otherwise the last failure is returned
// (ErrSignature, or ErrAlgorithm for a key the policy finds too weak).
func (s *Signature) Verify(keys []crypto.PublicKey, pol Policy) (crypto.PublicKey, error) {
	buf := getBuf()
	defer putBuf(buf)
	data, err := C14N{PrefixList: s.SignedInfo.PrefixList}.Append((*buf)[:0], s.siElement)
	*buf = data
	if err != nil {
		return nil, err
	}
	var last error = Errorf(KindUntrustedKey, "no trusted %v key", s.SignedInfo.Method.Key)
	for _, k := range keys {
		if keyType(k) != s.SignedInfo.Method.Key {
			continue
		}
		if last = pol.VerifyBytes(k, s.SignedInfo.Method, data, s.Value); last == nil {
			return k, nil
		}
	}
	return nil, last
}

// NewSignature builds a ds:Signature (prefix ds, declared on it) over si,
// whose References must already carry their DigestValues, signing with key
// (nil rnd means crypto/rand). keyInfo, when not nil, becomes its
// ds:KeyInfo.
func NewSignature(rnd io.Reader, key crypto.Signer, si *SignedInfo, keyInfo *etree.Element) (*etree.Element, error) {
	sig := etree.NewElement("ds:Signature")
	sig.CreateAttr("xmlns:ds", NSDSig)
	siEl, err := si.Element()
	if err != nil {
		return nil, err
	}
	sig.AddChild(siEl)
	data, err := C14N{PrefixList: si.PrefixList}.Canonicalize(siEl)
	if err != nil {
		return nil, err
	}
	value, err := SignBytes(rnd, key, si.Method, data)
	if err != nil {
		return nil, err
	}
	sig.CreateElement("ds:SignatureValue").SetText(base64.StdEncoding.EncodeToString(value))
	if keyInfo != nil {
		sig.AddChild(keyInfo)
	}
	return sig, nil
}

// Element renders si as a ds:SignedInfo element using the prefix ds, which
// the enclosing ds:Signature declares.
func (si *SignedInfo) Element() (*etree.Element, error) {
	el := etree.NewElement("ds:SignedInfo")
	cm := el.CreateElement("ds:CanonicalizationMethod")
	cm.CreateAttr("Algorithm", ExcC14N)
	addPrefixList(cm, si.PrefixList)
	el.CreateElement("ds:SignatureMethod").CreateAttr("Algorithm", si.Method.URI)
	for i := range si.References {
		r, err := si.References[i].element()
		if err != nil {
			return nil, err
		}
		el.AddChild(r)
	}
	return el, nil
}

func (r *Reference) element() (*etree.Element, error) {
	uri, err := DigestURI(r.Digest)
	if err != nil {
		return nil, err
	}
	el := etree.NewElement("ds:Reference")
	el.CreateAttr("URI", r.URI)
	ts := el.CreateElement("ds:Transforms")
	for _, t := range r.Transforms {
		tr := ts.CreateElement("ds:Transform")
		tr.CreateAttr("Algorithm", t)
		if t == ExcC14N {
			addPrefixList(tr, r.PrefixList)
		}
	}
	el.CreateElement("ds:DigestMethod").CreateAttr("Algorithm", uri)
	el.CreateElement("ds:DigestValue").SetText(base64.StdEncoding.EncodeToString(r.DigestValue))
	return el, nil
}

func addPrefixList(parent *etree.Element, list []string) {
	if len(list) == 0 {
		return
	}
	in := parent.CreateElement("ec:InclusiveNamespaces")
	in.CreateAttr("xmlns:ec", NSExcC14N)
	in.CreateAttr("PrefixList", strings.Join(list, " "))
}

// X509KeyInfo returns a ds:KeyInfo carrying certs in one ds:X509Data, the
// signing certificate first.
func X509KeyInfo(certs ...*x509.Certificate) *etree.Element {
	ki := etree.NewElement("ds:KeyInfo")
	data := ki.CreateElement("ds:X509Data")
	for _, c := range certs {
		data.CreateElement("ds:X509Certificate").SetText(base64.StdEncoding.EncodeToString(c.Raw))
	}
	return ki
}
