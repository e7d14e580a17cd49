package secmech

import (
	"crypto"
	"crypto/x509"
	"io"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/wire"
	"github.com/renkei-idwsf/renkei/xmlsec/wss"
)

// DefaultTTL is how long a message's Timestamp is valid (wsu:Expires).
const DefaultTTL = 5 * time.Minute

// Credentials are what a sender presents and signs with.
type Credentials struct {
	// Mechanism the message is sent under; "" for a provider's own
	// message without a token (a response), signed like ClientTLS:X509.
	Mechanism wsf.Mechanism
	// Token is the invocation token from the EPR's SecurityContext.
	Token *etree.Element
	// Key signs: the holder-of-key key (the sender's metadata and TLS
	// client key) or the provider's own key.
	Key crypto.Signer
	// Certificate is Key's certificate, sent in a BinarySecurityToken when
	// no token names the key.
	Certificate *x509.Certificate
	// Policy, SignatureMethod and DigestMethod choose the algorithms ("":
	// rsa-sha256 or ecdsa, and sha256); SHA-1 needs Policy.AllowSHA1.
	Policy          xmlsec.Policy
	SignatureMethod string
	DigestMethod    string
	TTL             time.Duration // 0 means DefaultTTL
	Rand            io.Reader
	// Meter, when set, counts the signature Secure makes (metrics only).
	Meter wsf.Meter
}

// Secure completes env's wsse:Security for the mechanism and serializes
// it: the token, a wsu:Timestamp created at now, and, unless the mechanism
// proves possession by TLS alone (ClientTLS:peerSAMLV2) or is Bearer
// without a key, the WS-Security signature over every part IDWSF2 §2.4
// names, its KeyInfo a SecurityTokenReference to the holder-of-key token
// (IDWSF2 §3.5) or to a BinarySecurityToken with Certificate. env is
// changed: Secure consumes it.
func Secure(env *wsf.Envelope, c *Credentials, now time.Time) ([]byte, error) {
	sec, err := env.Security()
	if err != nil || sec == nil {
		return nil, xmlsec.Errorf(xmlsec.KindMalformed, "envelope has no wsse:Security to fill")
	}
	if c.Token != nil {
		sec.AddChild(xmlsec.DetachCopy(c.Token))
	}
	sec.AddChild(wsf.Timestamp{Created: now, Expires: now.Add(orTTL(c.TTL))}.Element())
	if !c.signs() {
		return env.Bytes()
	}
	ref, err := c.keyRef()
	if err != nil {
		return nil, err
	}
	s := &wss.Signer{Key: c.Key, KeyRef: ref, SignatureMethod: c.SignatureMethod,
		DigestMethod: c.DigestMethod, Policy: c.Policy, Rand: c.Rand}
	parts, err := c.parts(env)
	if err != nil {
		return nil, err
	}
	// env is the caller's, built to be sent (Secure already adds to its
	// Security header): it is signed in place, not copied.
	err = s.SignInPlace(env.Doc.Root(), parts...)
	wsf.CountSignature(c.Meter, wsf.SigSign, err)
	if err != nil {
		return nil, err
	}
	return env.Bytes()
}

func orTTL(d time.Duration) time.Duration {
	if d <= 0 {
		return DefaultTTL
	}
	return d
}

// parts lists what the signature covers: the parts IDWSF2 §2.4 requires
// (wss.RequiredParts) and, for a token not named by a
// SecurityTokenReference (Bearer), the token itself.
func (c *Credentials) parts(env *wsf.Envelope) ([]*etree.Element, error) {
	parts, err := wss.RequiredParts(env.Doc.Root())
	if err != nil || c.Token == nil || c.Mechanism != wsf.TLSBearer || !wire.Is(c.Token, wsf.NSSAML, "Assertion") {
		return parts, err
	}
	sec, _ := env.Security()
	return append(parts, wire.Children(sec, wsf.NSSAML, "Assertion")...), nil
}

// signs reports whether the mechanism's message carries a signature.
func (c *Credentials) signs() bool {
	switch c.Mechanism {
	case wsf.ClientTLSPeerSAMLV2:
		return false
	case wsf.TLSBearer:
		return c.Key != nil && c.Certificate != nil
	}
	return true
}

// keyRef names the signing key: the holder-of-key token for the SAMLV2
// mechanisms, the certificate otherwise.
func (c *Credentials) keyRef() (wss.KeyRef, error) {
	if c.Key == nil {
		return wss.KeyRef{}, xmlsec.Errorf(xmlsec.KindNoSignature, "no signing key for %s", c.Mechanism)
	}
	switch c.Mechanism {
	case wsf.ClientTLSSAMLV2, wsf.TLSSAMLV2:
		if c.Token == nil || !wire.Is(c.Token, wsf.NSSAML, "Assertion") {
			return wss.KeyRef{}, wsf.Errorf(wsf.InappropriateCredentials, "%s needs a saml:Assertion token", c.Mechanism)
		}
		id, _ := wire.Attr(c.Token, "ID")
		return wss.SAMLTokenRef(id), nil
	}
	if c.Certificate == nil {
		return wss.KeyRef{}, xmlsec.Errorf(xmlsec.KindNoSignature, "no certificate for the BinarySecurityToken")
	}
	return wss.BinaryTokenRef(c.Certificate), nil
}
