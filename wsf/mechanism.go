package wsf

import "strings"

// Mechanism is an ID-WSF security mechanism URN (IDWSF2 §3.1-3.2) in the
// spelling Renkei emits.
type Mechanism string

// The mechanisms Renkei implements on both sides (ARCHITECTURE "Security
// mechanism per hop").
const (
	// ClientTLSSAMLV2: mutual TLS and a holder-of-key SAML 2.0 token whose
	// confirmed key signs the message (and is the TLS client key).
	ClientTLSSAMLV2 Mechanism = "urn:liberty:security:2006-08:ClientTLS:SAMLV2"
	// ClientTLSPeerSAMLV2: mutual TLS, holder-of-key token confirmed by the
	// TLS client key; the handshake is the proof, no message signature.
	ClientTLSPeerSAMLV2 Mechanism = "urn:liberty:security:2006-08:ClientTLS:peerSAMLV2"
	// TLSSAMLV2: server TLS and a holder-of-key token whose key signs.
	TLSSAMLV2 Mechanism = "urn:liberty:security:2006-08:TLS:SAMLV2"
	// TLSBearer: server TLS and a bearer token; only for peers configured
	// for it, never the default.
	TLSBearer Mechanism = "urn:liberty:security:2005-02:TLS:Bearer"
	// ClientTLSX509: mutual TLS and a message signed by the sender's own
	// key, no token: provider-to-DS calls.
	ClientTLSX509 Mechanism = "urn:liberty:security:2005-02:ClientTLS:X509"
)

// peerSAMLV2Shibboleth is the Shibboleth spelling of ClientTLSPeerSAMLV2,
// accepted and never emitted (IDWSF2 §3.2, §11 item 4).
const peerSAMLV2Shibboleth = "urn:liberty:security:2005-02:ClientTLS:peerSAMLV2"

// TokenKind is what a mechanism presents as its security token.
type TokenKind int

// The token kinds of the implemented mechanisms.
const (
	NoToken         TokenKind = iota // the sender itself is the invoker (X509)
	HolderOfKey                      // SAML 2.0 holder-of-key, proven by the message signature
	PeerHolderOfKey                  // SAML 2.0 holder-of-key, proven by the TLS client key
	BearerToken                      // possession is enough
)

// MechanismInfo is what a mechanism requires of a message.
type MechanismInfo struct {
	ClientTLS bool      // a verified TLS client certificate is required
	Token     TokenKind // the token it carries
	Signed    bool      // the message must carry a signature by the sender
}

var mechanisms = map[Mechanism]MechanismInfo{
	ClientTLSSAMLV2:     {ClientTLS: true, Token: HolderOfKey, Signed: true},
	ClientTLSPeerSAMLV2: {ClientTLS: true, Token: PeerHolderOfKey},
	TLSSAMLV2:           {Token: HolderOfKey, Signed: true},
	TLSBearer:           {Token: BearerToken},
	ClientTLSX509:       {ClientTLS: true, Token: NoToken, Signed: true},
}

// ParseMechanism returns the mechanism a URN names in Renkei's spelling,
// reading the 2005-02 spelling of ClientTLS:peerSAMLV2 as the 2006-08 one,
// and false for a URN Renkei does not implement (the date segment must
// match exactly, IDWSF2 §3.1).
func ParseMechanism(urn string) (Mechanism, bool) {
	urn = strings.TrimSpace(urn)
	if urn == peerSAMLV2Shibboleth {
		return ClientTLSPeerSAMLV2, true
	}
	m := Mechanism(urn)
	_, ok := mechanisms[m]
	return m, ok
}

// Info returns what the mechanism requires; ok is false for a mechanism
// Renkei does not implement.
func (m Mechanism) Info() (MechanismInfo, bool) {
	i, ok := mechanisms[m]
	return i, ok
}

// Mechanisms returns every implemented mechanism in Renkei's order of
// preference: the ClientTLS:SAMLV2 default first, Bearer last.
func Mechanisms() []Mechanism {
	return []Mechanism{ClientTLSSAMLV2, ClientTLSPeerSAMLV2, TLSSAMLV2, ClientTLSX509, TLSBearer}
}
