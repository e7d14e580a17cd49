package secmech

import (
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// Inbound is a received message with what its transport proved.
type Inbound struct {
	Envelope *wsf.Envelope
	Blocks   []wsf.Block // the header blocks addressed to this node
	Sender   *wsf.Peer
	// TLS reports that the message arrived over TLS; ClientCert is the
	// certificate the client proved possession of in the handshake (nil
	// when none). Trust in it comes from the metadata, not from a chain.
	TLS        bool
	ClientCert *x509.Certificate
	// Mechanisms the receiver accepts.
	Mechanisms []wsf.Mechanism
}

// Protected is what a message's signature (or, for a mechanism without
// one, its TLS channel) vouches for.
type Protected struct {
	Signed     bool
	SigningKey crypto.PublicKey // the sender's metadata key that verified; nil when unsigned
	Header     *wsf.Header      // decoded from covered blocks only
	Payload    *etree.Element   // the S:Body child, from the verified copy
	Timestamp  *wsf.Timestamp   // nil only under the UnsignedBearer quirk
	Token      *etree.Element   // the token in wsse:Security as received; nil when none
	// tokenUnreferenced: the signature names neither the token nor its
	// reference, let through by the sender's UnreferencedToken profile
	// item for a token the signing key is confirmed by.
	tokenUnreferenced bool
	// BodyDigest is the SHA-256 of the exclusive canonical S:Body: with
	// the verified header, token, sender and keys, what identifies a
	// retransmission.
	BodyDigest [32]byte
}

// Checker verifies messages received by one provider.
type Checker struct {
	Tokens TokenChecker
	MaxAge time.Duration
	// Meter, when set, counts each message VerifyMessage checks: a
	// signed one verified, or any refused (metrics only).
	Meter wsf.Meter
}

// VerifyMessage checks a message's WS-Security layer (IDWSF2 §2.3 step 5,
// §2.4): a ds:Signature by one of the sender's metadata keys that covers
// S:Body, wsu:Timestamp, every understood sb and wsa block and the token
// (by its SecurityTokenReference), each resolved by its unique ID so that
// nothing can be wrapped; no signature only where an accepted mechanism
// needs none; then the Timestamp's freshness at now (StaleMsg).
func (c *Checker) VerifyMessage(in *Inbound, now time.Time) (*Protected, error) {
	p, err := c.verifyMessage(in, now)
	if err != nil || p.Signed {
		wsf.CountSignature(c.Meter, wsf.SigVerify, err)
	}
	return p, err
}

func (c *Checker) verifyMessage(in *Inbound, now time.Time) (*Protected, error) {
	secEl, err := in.Envelope.Security()
	if err != nil {
		return nil, err
	}
	if secEl == nil {
		return nil, xmlsec.Errorf(xmlsec.KindNoSignature, "no wsse:Security header")
	}
	sh, err := wsf.ReadSecurity(secEl)
	if err != nil {
		return nil, err
	}
	p := &Protected{}
	if p.Token, err = singleToken(sh); err != nil {
		return nil, err
	}
	if err := c.protect(in, sh, p); err != nil {
		return nil, err
	}
	if err := c.checkTimestamp(in, p, now); err != nil {
		return nil, err
	}
	return p, c.digestBody(in, p)
}

// singleToken returns the one token of wsse:Security: ID-WSF presents one
// invocation token (IDWSF2 §3.3).
func singleToken(sh *wsf.SecurityHeader) (*etree.Element, error) {
	toks := append(append([]*etree.Element{}, sh.Assertions...), sh.EncryptedAssertions...)
	if len(toks) > 1 {
		return nil, wsf.Errorf(wsf.InappropriateCredentials, "%d tokens in wsse:Security", len(toks))
	}
	if len(toks) == 0 {
		return nil, nil
	}
	return toks[0], nil
}

// protect verifies the signature and decodes the covered header, or, for
// an unsigned message a mechanism allows, decodes what TLS protected.
func (c *Checker) protect(in *Inbound, sh *wsf.SecurityHeader, p *Protected) error {
	if sh.Signature == nil {
		if !unsignedAllowed(in) {
			return xmlsec.Errorf(xmlsec.KindNoSignature, "message not signed")
		}
		return p.decode(in.Blocks, in.Envelope.Payload(), sh.Timestamp)
	}
	ver, unreferenced, err := verifySignature(in, sh, p.Token)
	if err != nil {
		return err
	}
	p.tokenUnreferenced = unreferenced
	covered, err := coveredBlocks(in, ver)
	if err != nil {
		return err
	}
	p.Signed, p.SigningKey = true, ver.Key
	return p.decode(covered, ver.Body().ChildElements()[0], ver.Timestamp())
}

func (p *Protected) decode(blocks []wsf.Block, payload, ts *etree.Element) error {
	h, err := wsf.DecodeHeader(blocks)
	if err != nil {
		return err
	}
	p.Header, p.Payload = h, payload
	if ts == nil {
		return nil
	}
	t, err := wsf.DecodeTimestamp(ts)
	if err != nil {
		return wsf.Wrap(wsf.StaleMsg, err, "wsu:Timestamp")
	}
	p.Timestamp = &t
	return nil
}

// unsignedAllowed reports whether an accepted mechanism may need no
// message signature here: ClientTLS:peerSAMLV2 over a connection whose
// client key is one of the sender's metadata keys, or Bearer from a peer
// whose profile opts in to UnsignedBearer. A client certificate that is
// in no metadata, or another provider's, authenticates nobody. Which of
// the two it was is settled once the token is read (VerifyToken).
func unsignedAllowed(in *Inbound) bool {
	if in.ClientKeyIsSenders() && accepts(in.Mechanisms, wsf.ClientTLSPeerSAMLV2) {
		return true
	}
	return unsignedBearerOptIn(in)
}

// unsignedBearerOptIn reports whether the sender's profile explicitly
// accepts an unsigned Bearer message from it (IDWSF2 §11 item 19) and
// this receiver accepts Bearer at all.
func unsignedBearerOptIn(in *Inbound) bool {
	prof := in.Sender.Profile
	return prof.AllowBearer && prof.UnsignedBearer && accepts(in.Mechanisms, wsf.TLSBearer)
}

// ClientKeyIsSenders reports whether the TLS client certificate's key is
// one of the sender's metadata keys: the only way a client certificate
// counts (ARCHITECTURE "Trust"; trust comes from the metadata, not from a
// chain).
func (in *Inbound) ClientKeyIsSenders() bool {
	return in.ClientCert != nil && in.Sender.HasKey(in.ClientCert.PublicKey)
}

// SenderProven reports whether the message is proven to come from its
// sb:Sender: signed with one of the sender's metadata keys (VerifyMessage
// verifies with those keys only), or received over a connection whose
// client key is one. Per-peer leniency may be applied only then.
func (p *Protected) SenderProven(in *Inbound) bool {
	return p.Signed || in.ClientKeyIsSenders()
}

func accepts(ms []wsf.Mechanism, m wsf.Mechanism) bool {
	for _, x := range ms {
		if x == m {
			return true
		}
	}
	return false
}

// checkTimestamp requires a wsu:Timestamp (ZXID reports a missing one as
// StaleMsg, IDWSF2 §2.5) except under UnsignedBearer, and checks it.
func (c *Checker) checkTimestamp(in *Inbound, p *Protected, now time.Time) error {
	if p.Timestamp == nil {
		prof := in.Sender.Profile
		if !p.Signed && prof.UnsignedBearer && prof.AllowBearer {
			return nil
		}
		return wsf.Errorf(wsf.StaleMsg, "no wsu:Timestamp")
	}
	return p.Timestamp.Check(now, c.Tokens.Skew, c.MaxAge)
}

func (c *Checker) digestBody(in *Inbound, p *Protected) error {
	b, err := xmlsec.C14N{}.Canonicalize(in.Envelope.Body)
	if err != nil {
		return err
	}
	p.BodyDigest = sha256.Sum256(b)
	return nil
}
