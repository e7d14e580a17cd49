package xmlsec

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	_ "crypto/sha1" // registers crypto.SHA1 for peers allowed to use it
	_ "crypto/sha256"
	_ "crypto/sha512"
)

// Namespace and algorithm identifiers of XML-DSig 1.0 (W3C
// xmldsig-core, 2008) and RFC 6931 (Additional XML Security URIs).
const (
	NSDSig = "http://www.w3.org/2000/09/xmldsig#"

	// Canonicalization and transforms.
	ExcC14N            = "http://www.w3.org/2001/10/xml-exc-c14n#"
	EnvelopedSignature = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"

	// SignatureMethod URIs.
	RSASHA1     = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
	RSASHA256   = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
	RSASHA384   = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384"
	RSASHA512   = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512"
	ECDSASHA1   = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1"
	ECDSASHA256 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
	ECDSASHA384 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384"

	// DigestMethod URIs.
	DigestSHA1   = "http://www.w3.org/2000/09/xmldsig#sha1"
	DigestSHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
	DigestSHA384 = "http://www.w3.org/2001/04/xmldsig-more#sha384"
	DigestSHA512 = "http://www.w3.org/2001/04/xmlenc#sha512"
)

// KeyType is the family of public key a SignatureMethod needs.
type KeyType int

// The key families XML-DSig signatures are made with here.
const (
	KeyRSA KeyType = iota + 1
	KeyECDSA
)

// String names the key family.
func (k KeyType) String() string {
	switch k {
	case KeyRSA:
		return "RSA"
	case KeyECDSA:
		return "ECDSA"
	}
	return "unknown key type"
}

// SignatureMethod is one row of the signature algorithm table: its URI, the
// hash it signs and the key family it needs.
type SignatureMethod struct {
	URI  string
	Hash crypto.Hash
	Key  KeyType
}

var signatureMethods = map[string]SignatureMethod{
	RSASHA1:     {RSASHA1, crypto.SHA1, KeyRSA},
	RSASHA256:   {RSASHA256, crypto.SHA256, KeyRSA},
	RSASHA384:   {RSASHA384, crypto.SHA384, KeyRSA},
	RSASHA512:   {RSASHA512, crypto.SHA512, KeyRSA},
	ECDSASHA1:   {ECDSASHA1, crypto.SHA1, KeyECDSA},
	ECDSASHA256: {ECDSASHA256, crypto.SHA256, KeyECDSA},
	ECDSASHA384: {ECDSASHA384, crypto.SHA384, KeyECDSA},
}

var digestMethods = map[string]crypto.Hash{
	DigestSHA1:   crypto.SHA1,
	DigestSHA256: crypto.SHA256,
	DigestSHA384: crypto.SHA384,
	DigestSHA512: crypto.SHA512,
}

// DefaultMinRSABits is the smallest RSA modulus a zero Policy accepts.
const DefaultMinRSABits = 2048

// Policy decides which algorithms and keys a signature may use. The zero
// value is the strict default: no SHA-1 anywhere, RSA moduli of at least
// DefaultMinRSABits. A peer that can only do SHA-1 (ZXID signs rsa-sha1
// with sha1 digests) gets a Policy with AllowSHA1 in its quirk profile.
type Policy struct {
	AllowSHA1  bool // accept rsa-sha1, ecdsa-sha1 and the sha1 DigestMethod
	MinRSABits int  // smallest RSA modulus accepted; 0 means DefaultMinRSABits
	// DetachedEnveloped also accepts, on WS-Security references, the
	// transforms enveloped-signature then exc-c14n: ZXID 1.43 writes them
	// on every reference of its message signatures (IDWSF2.md §11 item 18).
	// The verifier then passes the Signature as omit, which changes nothing
	// unless the Signature lies inside the referenced element.
	DetachedEnveloped bool
	// UnrelatedDuplicateIDs tolerates an ID that occurs twice when no
	// signature references it: ZXID 1.43 gives the discovery EPR in a
	// response and the bootstrap EPR inside the token the same wsu:Id.
	// The IDs a signature references must still be unique.
	UnrelatedDuplicateIDs bool
}

// SignatureMethod looks up a SignatureMethod URI, refusing with
// ErrAlgorithm one that is unknown or that the policy does not allow.
func (p Policy) SignatureMethod(uri string) (SignatureMethod, error) {
	m, ok := signatureMethods[uri]
	if !ok {
		return SignatureMethod{}, Errorf(KindAlgorithm, "SignatureMethod %q unknown", uri)
	}
	if m.Hash == crypto.SHA1 && !p.AllowSHA1 {
		return SignatureMethod{}, Errorf(KindAlgorithm, "SignatureMethod %q uses SHA-1", uri)
	}
	return m, nil
}

// DigestMethod looks up a DigestMethod URI, refusing with ErrAlgorithm one
// that is unknown or that the policy does not allow.
func (p Policy) DigestMethod(uri string) (crypto.Hash, error) {
	h, ok := digestMethods[uri]
	if !ok {
		return 0, Errorf(KindAlgorithm, "DigestMethod %q unknown", uri)
	}
	if h == crypto.SHA1 && !p.AllowSHA1 {
		return 0, Errorf(KindAlgorithm, "DigestMethod %q is SHA-1", uri)
	}
	return h, nil
}

// DigestURI returns the DigestMethod URI of a hash, or ErrAlgorithm.
func DigestURI(h crypto.Hash) (string, error) {
	for uri, dh := range digestMethods {
		if dh == h {
			return uri, nil
		}
	}
	return "", Errorf(KindAlgorithm, "no DigestMethod for %v", h)
}

// CheckKey refuses with ErrAlgorithm a public key that does not fit the
// method's key family, or that the policy finds too weak.
func (p Policy) CheckKey(m SignatureMethod, pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if m.Key != KeyRSA {
			return Errorf(KindAlgorithm, "%s needs an %v key, got RSA", m.URI, m.Key)
		}
		return p.checkRSA(k)
	case *ecdsa.PublicKey:
		if m.Key != KeyECDSA {
			return Errorf(KindAlgorithm, "%s needs an %v key, got ECDSA", m.URI, m.Key)
		}
		return checkCurve(k.Curve)
	}
	return Errorf(KindAlgorithm, "unsupported public key type %T", pub)
}

func (p Policy) checkRSA(k *rsa.PublicKey) error {
	min := p.MinRSABits
	if min <= 0 {
		min = DefaultMinRSABits
	}
	if k.N.BitLen() < min {
		return Errorf(KindAlgorithm, "RSA key of %d bits, policy wants %d", k.N.BitLen(), min)
	}
	return nil
}

func checkCurve(c elliptic.Curve) error {
	switch c {
	case elliptic.P256(), elliptic.P384(), elliptic.P521():
		return nil
	}
	return Errorf(KindAlgorithm, "ECDSA curve %s not supported", c.Params().Name)
}

// DefaultSignatureMethod picks the SignatureMethod a key signs with when
// the caller names none: rsa-sha256 for RSA, ecdsa-sha256 on P-256 and
// ecdsa-sha384 on P-384 (the hash matched to the curve strength).
func DefaultSignatureMethod(pub crypto.PublicKey) (SignatureMethod, error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return signatureMethods[RSASHA256], nil
	case *ecdsa.PublicKey:
		if k.Curve == elliptic.P256() {
			return signatureMethods[ECDSASHA256], nil
		}
		if k.Curve == elliptic.P384() {
			return signatureMethods[ECDSASHA384], nil
		}
		return SignatureMethod{}, Errorf(KindAlgorithm, "no default SignatureMethod for curve %s", k.Curve.Params().Name)
	}
	return SignatureMethod{}, Errorf(KindAlgorithm, "unsupported key type %T", pub)
}
