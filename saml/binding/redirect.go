package binding

import (
	"bytes"
	"compress/flate"
	"crypto"
	"encoding/base64"
	"io"
	"net/url"
	"strings"
	"sync"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/wire"
)

// RedirectSigner signs HTTP-Redirect query strings (SAML Bindings §3.4.4.1).
type RedirectSigner struct {
	Key crypto.Signer
	// SignatureMethod is the SigAlg URI; "" picks rsa-sha256 for RSA,
	// ecdsa-sha256 for P-256 and ecdsa-sha384 for P-384. ECDSA signatures
	// are the r||s octets of XML-DSig (RFC 4050), as in XML signatures:
	// SAML Bindings §3.4.4.1 computes the Signature "using the signature
	// algorithm identified by SigAlg", whose URI is XML-DSig's. Lasso 2.8
	// signs and verifies RSA (and DSA, HMAC) query signatures only, so
	// ECDSA is tested here against this package alone.
	SignatureMethod string
	// Policy limits the algorithms and keys: SHA-1 only with AllowSHA1.
	Policy xmlsec.Policy
	// Rand is the randomness for ECDSA; nil means crypto/rand.
	Rand io.Reader
}

func (s *RedirectSigner) method() (xmlsec.SignatureMethod, error) {
	uri := s.SignatureMethod
	if uri == "" {
		m, err := xmlsec.DefaultSignatureMethod(s.Key.Public())
		if err != nil {
			return m, err
		}
		uri = m.URI
	}
	m, err := s.Policy.SignatureMethod(uri)
	if err != nil {
		return m, err
	}
	return m, s.Policy.CheckKey(m, s.Key.Public())
}

// EncodeRedirect returns the query string (without "?") that carries msg
// with the HTTP-Redirect binding: any enveloped ds:Signature removed (SAML
// Bindings §3.4.4.1), raw DEFLATE (RFC 1951), base64, URL-encoded, in
// SAMLResponse for a status response and SAMLRequest otherwise; then
// RelayState when not empty; then, when s is not nil, SigAlg and the
// Signature over exactly "SAMLRequest=...&RelayState=...&SigAlg=..." as
// sent.
func EncodeRedirect(msg *etree.Element, relayState string, s *RedirectSigner) (string, error) {
	param, err := paramFor(msg)
	if err != nil {
		return "", err
	}
	if err := checkRelayState(relayState); err != nil {
		return "", err
	}
	b64, err := deflateMessage(msg)
	if err != nil {
		return "", err
	}
	q := param + "=" + url.QueryEscape(b64)
	if relayState != "" {
		q += "&" + ParamRelayState + "=" + url.QueryEscape(relayState)
	}
	if s == nil {
		return q, nil
	}
	return signQuery(q, s)
}

func signQuery(q string, s *RedirectSigner) (string, error) {
	m, err := s.method()
	if err != nil {
		return "", err
	}
	q += "&" + ParamSigAlg + "=" + url.QueryEscape(m.URI)
	sig, err := xmlsec.SignBytes(s.Rand, s.Key, m, []byte(q))
	if err != nil {
		return "", err
	}
	return q + "&" + ParamSignature + "=" + url.QueryEscape(base64.StdEncoding.EncodeToString(sig)), nil
}

// RedirectURL is EncodeRedirect appended to location, the receiver's
// endpoint, after "?" or, when location has a query already, "&".
func RedirectURL(location string, msg *etree.Element, relayState string, s *RedirectSigner) (string, error) {
	q, err := EncodeRedirect(msg, relayState, s)
	if err != nil {
		return "", err
	}
	if strings.Contains(location, "?") {
		return location + "&" + q, nil
	}
	return location + "?" + q, nil
}

func deflateMessage(msg *etree.Element) (string, error) {
	c := xmlsec.DetachCopy(msg)
	for _, sig := range wire.Children(c, xmlsec.NSDSig, "Signature") {
		c.RemoveChild(sig)
	}
	b, err := xmlsec.Serialize(c)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	w, err := flate.NewWriter(&buf, flate.BestCompression)
	if err != nil {
		return "", err
	}
	if _, err := w.Write(b); err != nil {
		return "", err
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

// RedirectDecoder reads HTTP-Redirect messages. The zero value uses the
// default limits.
type RedirectDecoder struct {
	MaxQuery    int           // bytes of the raw query; 0 means DefaultMaxQuery
	MaxInflated int           // bytes of the inflated message; 0 means DefaultMaxInflated
	Limits      xmlsec.Limits // for xmlsec.Parse of the inflated message
}

// RedirectMessage is a received HTTP-Redirect message. Its element is read
// through Verify (signed) or UnsignedElement (unsigned, when the caller's
// policy allows); Unverified is only for finding the issuer's keys.
type RedirectMessage struct {
	Param      string // SAMLRequest or SAMLResponse
	RelayState string
	SigAlg     string // "" when unsigned

	el        *etree.Element
	signed    []byte // the octets the signature covers, as received
	signature []byte
}

// rawParam is one name=value pair of a query string as received.
type rawParam struct {
	raw   string // "name=value", still encoded
	value string // decoded value
}

// Decode reads rawQuery, the query string exactly as received (an
// http.Request's URL.RawQuery): the signed octets are rebuilt from the
// encodings as sent, never from re-encoded values (SAML Bindings
// §3.4.4.1). Duplicate binding parameters are refused; the inflated
// message is capped at MaxInflated with bounded memory; the XML is read by
// xmlsec.Parse.
func (d *RedirectDecoder) Decode(rawQuery string) (*RedirectMessage, error) {
	if len(rawQuery) > orDefault(d.MaxQuery, DefaultMaxQuery) {
		return nil, xmlsec.Errorf(xmlsec.KindTooLarge, "query of %d bytes", len(rawQuery))
	}
	ps, err := splitQuery(rawQuery)
	if err != nil {
		return nil, err
	}
	m, err := newRedirectMessage(ps)
	if err != nil {
		return nil, err
	}
	raw, err := d.inflate(ps[m.Param].value)
	if err != nil {
		return nil, err
	}
	if m.el, err = parse(raw, d.Limits); err != nil {
		return nil, err
	}
	return m, checkParam(m.Param, m.el)
}

func orDefault(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

var bindingParams = map[string]bool{ParamRequest: true, ParamResponse: true, ParamRelayState: true,
	ParamSigAlg: true, ParamSignature: true, ParamEncoding: true}

// splitQuery splits a raw query on "&" and decodes each value, refusing a
// binding parameter that occurs twice. Other parameters are ignored.
func splitQuery(q string) (map[string]rawParam, error) {
	ps := map[string]rawParam{}
	for part := range strings.SplitSeq(q, "&") {
		rawName, rawValue, _ := strings.Cut(part, "=")
		name, err := url.QueryUnescape(rawName)
		if err != nil {
			return nil, &Error{Kind: KindEncoding, Detail: "parameter name", Err: err}
		}
		if !bindingParams[name] {
			continue
		}
		if _, dup := ps[name]; dup {
			return nil, errorf(KindParameter, "%s given twice", name)
		}
		v, err := url.QueryUnescape(rawValue)
		if err != nil {
			return nil, &Error{Kind: KindEncoding, Detail: name, Err: err}
		}
		ps[name] = rawParam{raw: part, value: v}
	}
	return ps, nil
}

func newRedirectMessage(ps map[string]rawParam) (*RedirectMessage, error) {
	m := &RedirectMessage{}
	_, req := ps[ParamRequest]
	_, resp := ps[ParamResponse]
	switch {
	case req && resp:
		return nil, errorf(KindParameter, "both SAMLRequest and SAMLResponse")
	case req:
		m.Param = ParamRequest
	case resp:
		m.Param = ParamResponse
	default:
		return nil, errorf(KindParameter, "neither SAMLRequest nor SAMLResponse")
	}
	if e, ok := ps[ParamEncoding]; ok && e.value != EncodingDEFLATE {
		return nil, errorf(KindEncoding, "SAMLEncoding %q", e.value)
	}
	m.RelayState = ps[ParamRelayState].value
	if err := checkRelayState(m.RelayState); err != nil {
		return nil, err
	}
	return m, m.readSignature(ps)
}

// readSignature keeps SigAlg, the Signature octets and the signed octet
// string: the message parameter, RelayState when present, SigAlg, in this
// order (SAML Bindings §3.4.4.1).
func (m *RedirectMessage) readSignature(ps map[string]rawParam) error {
	alg, hasAlg := ps[ParamSigAlg]
	sig, hasSig := ps[ParamSignature]
	if hasAlg != hasSig {
		return errorf(KindParameter, "SigAlg and Signature must come together")
	}
	if !hasSig {
		return nil
	}
	var err error
	if m.signature, err = base64.StdEncoding.Strict().DecodeString(sig.value); err != nil {
		return &Error{Kind: KindEncoding, Detail: "Signature", Err: err}
	}
	m.SigAlg = alg.value
	parts := []string{ps[m.Param].raw}
	if rs, ok := ps[ParamRelayState]; ok {
		parts = append(parts, rs.raw)
	}
	m.signed = []byte(strings.Join(append(parts, alg.raw), "&"))
	return nil
}

// inflaters keeps DEFLATE readers for reuse: each holds a 32 KB window,
// which a new reader allocates and clears for every message.
var inflaters sync.Pool

// inflater is a reader of the DEFLATE stream z, from the pool when it has
// one.
func inflater(z []byte) io.ReadCloser {
	if r, ok := inflaters.Get().(io.ReadCloser); ok {
		if r.(flate.Resetter).Reset(bytes.NewReader(z), nil) == nil {
			return r
		}
	}
	return flate.NewReader(bytes.NewReader(z))
}

// inflate decodes base64 and raw DEFLATE, holding at most max+1 inflated
// bytes: a DEFLATE bomb is cut off at the limit.
func (d *RedirectDecoder) inflate(v string) ([]byte, error) {
	z, err := base64.StdEncoding.Strict().DecodeString(v)
	if err != nil {
		return nil, &Error{Kind: KindEncoding, Detail: "base64", Err: err}
	}
	max := orDefault(d.MaxInflated, DefaultMaxInflated)
	r := inflater(z)
	defer inflaters.Put(r)
	b, err := io.ReadAll(io.LimitReader(r, int64(max)+1))
	if err != nil {
		return nil, &Error{Kind: KindEncoding, Detail: "DEFLATE", Err: err}
	}
	if len(b) > max {
		return nil, xmlsec.Errorf(xmlsec.KindTooLarge, "inflated message over %d bytes", max)
	}
	return b, nil
}

// Signed reports whether the query carried SigAlg and Signature.
func (m *RedirectMessage) Signed() bool { return m.signature != nil }

// Unverified returns the message element for a key lookup only
// (samlp.Peek): nothing in it is trusted.
func (m *RedirectMessage) Unverified() *etree.Element { return m.el }

// UnsignedElement returns the element of a message that carries no query
// signature, for a receiver whose policy accepts it unsigned. A signed
// message is refused with ErrParameter: it must go through Verify.
func (m *RedirectMessage) UnsignedElement() (*etree.Element, error) {
	if m.Signed() {
		return nil, errorf(KindParameter, "the message is signed: use Verify")
	}
	return m.el, nil
}

// Verify checks the query signature with the keys of trust under pol (SHA-1
// only with AllowSHA1) and returns the message element, now authenticated
// as a whole, and the key that verified. An unsigned message is
// xmlsec.ErrNoSignature; an unknown or refused SigAlg xmlsec.ErrAlgorithm;
// no trusted key of the algorithm's family xmlsec.ErrUntrustedKey; a
// signature that does not verify xmlsec.ErrSignature.
func (m *RedirectMessage) Verify(trust *xmlsec.TrustSet, pol xmlsec.Policy) (*etree.Element, crypto.PublicKey, error) {
	if !m.Signed() {
		return nil, nil, xmlsec.Errorf(xmlsec.KindNoSignature, "unsigned %s", m.Param)
	}
	meth, err := pol.SignatureMethod(m.SigAlg)
	if err != nil {
		return nil, nil, err
	}
	if trust == nil {
		return nil, nil, xmlsec.Errorf(xmlsec.KindUntrustedKey, "no trust set")
	}
	key, err := verifyWithAny(trust.Keys(), pol, meth, m.signed, m.signature)
	if err != nil {
		return nil, nil, err
	}
	return m.el, key, nil
}

// verifyWithAny tries every trusted key of the method's family.
func verifyWithAny(keys []crypto.PublicKey, pol xmlsec.Policy, m xmlsec.SignatureMethod, data, sig []byte) (crypto.PublicKey, error) {
	var last error = xmlsec.Errorf(xmlsec.KindUntrustedKey, "no trusted %s key", m.Key)
	for _, k := range keys {
		if !sameFamily(m, k) {
			continue
		}
		err := pol.VerifyBytes(k, m, data, sig)
		if err == nil {
			return k, nil
		}
		last = err
	}
	return nil, last
}
