package server

import (
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/secmech"
	"github.com/renkei-idwsf/renkei/xmlsec/wire"
)

// Receiver is the receiving side of the ID-WSF SOAP binding: it runs every
// request through the steps of IDWSF2 §2.3 and hands a typed, verified
// Message to the service of its wsa:Action. It is safe for concurrent use.
type Receiver struct {
	cfg     Config
	checker secmech.Checker
	memo    *memo
	parts   *seenParts      // message parts whose bytes passed the schemas, in their context
	idNames map[string]bool // the attributes that can hold an xs:ID; nil: validate whole
}

// New returns a Receiver, or every problem of cfg at once.
func New(cfg Config) (*Receiver, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &Receiver{cfg: cfg, memo: newMemo(cfg.MemoSize), parts: newSeenParts(maxSeenParts)}
	if ids, ok := cfg.Schema.(interface{ IDAttributes() []string }); ok {
		for _, n := range ids.IDAttributes() {
			if r.idNames == nil {
				r.idNames = map[string]bool{}
			}
			r.idNames[n] = true
		}
	}
	r.checker = secmech.Checker{MaxAge: cfg.maxAge(), Meter: cfg.Meter, Tokens: secmech.TokenChecker{
		Self: cfg.EntityID, Directory: cfg.Directory, Decrypter: cfg.Decrypter, Skew: cfg.skew(), Sessions: cfg.Sessions}}
	return r, nil
}

// Request is a received message and what the transport proved.
type Request struct {
	Body []byte
	// TLS reports that the request arrived over TLS; ClientCert is the
	// certificate the client proved possession of, nil when none.
	TLS        bool
	ClientCert *x509.Certificate
}

// Response is the answer to send: HTTP status 200 with the reply, or 500
// with a fault (SOAP 1.1 HTTP binding, IDWSF2 §2.1). Err is the private
// cause of a fault, for logs only; Replayed marks a stored first response
// sent again to an identical retransmission.
type Response struct {
	Status   int
	Body     []byte
	Fault    *wsf.Fault
	Err      error
	Replayed bool
}

// exchange is one request on its way through the pipeline.
type exchange struct {
	req        Request
	now        time.Time
	env        *wsf.Envelope
	blocks     []wsf.Block
	messageID  string // unverified until step 5
	sender     *wsf.Peer
	schemaErr  error  // a lenient sender's schema failure, until the sender is proven
	freshParts []part // parts validated in place for the first time (rememberParts)
	protected  *secmech.Protected
	invocation *secmech.Invocation
	service    Service
}

// Receive runs the pipeline on one request. The clock is read once.
func (r *Receiver) Receive(ctx context.Context, req Request) *Response {
	x := &exchange{req: req, now: r.cfg.now()}
	if resp, err := r.run(ctx, x); err != nil {
		return r.faultResponse(x, err)
	} else if resp != nil {
		return resp
	}
	return r.serve(ctx, x)
}

// run applies the steps of IDWSF2 §2.3 in order. A non-nil Response is a
// stored first response to an identical retransmission.
func (r *Receiver) run(ctx context.Context, x *exchange) (*Response, error) {
	for _, step := range []func(context.Context, *exchange) error{
		r.parse,          // 1: strict parse, mustUnderstand
		r.checkFramework, // 2: sbf:Framework 2.0
		r.checkMessageID, // 3: wsa:MessageID present
		r.lookupSender,   // 4: sb:Sender in the metadata
		r.checkSchema,    //    XSD; a lenient profile's exemption waits for step 5
		r.verifyMessage,  // 5: signature, coverage, Timestamp
		r.settleSchema,   //    the exemption only for a proven sender
		r.verifyToken,    // 7: token rules, mechanism, TargetIdentity
		r.rememberParts,  //    the parts validated for the first time, now authenticated
	} {
		if err := step(ctx, x); err != nil {
			return nil, err
		}
	}
	// 6: (sender, MessageID), looked up only once the sender and its token
	// are authenticated, so that a stored response goes to no one else.
	if resp, err := r.checkReplay(x); resp != nil || err != nil {
		return resp, err
	}
	for _, step := range []func(context.Context, *exchange) error{
		r.checkAddressing, // 8: wsa:To, wsa:Action
		r.checkSemantics,  // 9: ProcessingContext, UsageDirective
		r.claimMessageID,  // 6: record the pair, atomically, once all checks passed
	} {
		if err := step(ctx, x); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

func (r *Receiver) parse(_ context.Context, x *exchange) error {
	env, err := wsf.ParseEnvelopeSpans(x.req.Body, r.cfg.Limits)
	if err != nil {
		return err
	}
	x.env = env
	x.blocks, err = wsf.CheckMustUnderstand(env.Header)
	return err
}

// block returns the one understood block {ns}local addressed to us.
func (x *exchange) block(ns, local string) ([]wsf.Block, error) {
	var out []wsf.Block
	for _, b := range x.blocks {
		if wire.Is(b.Element, ns, local) {
			out = append(out, b)
		}
	}
	if len(out) > 1 {
		return nil, wsf.Errorf(wsf.IDStarMsgNotUnderstood, "%d {%s}%s blocks", len(out), ns, local)
	}
	return out, nil
}

// checkFramework requires sbf:Framework version 2.0 (IDWSF2 §2.2, §2.3
// step 2): absent or another version is FrameworkVersionMismatch.
func (r *Receiver) checkFramework(_ context.Context, x *exchange) error {
	bs, err := x.block(wsf.NSSBF, "Framework")
	if err != nil {
		return err
	}
	if len(bs) == 0 {
		return wsf.Errorf(wsf.FrameworkVersionMismatch, "no sbf:Framework")
	}
	if v, _ := wire.Attr(bs[0].Element, "version"); v != wsf.FrameworkVersion {
		return wsf.Errorf(wsf.FrameworkVersionMismatch, "sbf:Framework version %q", v)
	}
	return nil
}

// checkMessageID requires wsa:MessageID (IDWSF2 §2.3 step 3).
func (r *Receiver) checkMessageID(_ context.Context, x *exchange) error {
	bs, err := x.block(wsf.NSWSA, "MessageID")
	if err != nil {
		return err
	}
	if len(bs) == 0 {
		return wsf.Errorf(wsf.IDStarMsgNotUnderstood, "no wsa:MessageID")
	}
	if x.messageID, err = wire.URI(bs[0].Element); err != nil {
		return wsf.Wrap(wsf.IDStarMsgNotUnderstood, err, "wsa:MessageID")
	}
	return nil
}

// lookupSender finds sb:Sender in the metadata (IDWSF2 §2.3 step 4). The
// unverified providerID only selects the keys step 5 verifies with.
func (r *Receiver) lookupSender(ctx context.Context, x *exchange) error {
	bs, err := x.block(wsf.NSSB, "Sender")
	if err != nil {
		return err
	}
	if len(bs) == 0 {
		return wsf.Errorf(wsf.ProviderIDNotValid, "no sb:Sender")
	}
	if _, ok := wire.Attr(bs[0].Element, "affiliationID"); ok {
		return wsf.Errorf(wsf.AffiliationIDNotValid, "affiliations are not in the metadata")
	}
	id, _ := wire.Attr(bs[0].Element, "providerID")
	if x.sender, err = r.cfg.Directory.Peer(ctx, id); err != nil {
		return wsf.Wrap(wsf.ProviderIDNotValid, err, id)
	}
	return nil
}

// checkSchema validates the request against the schemas. For a sender
// whose profile validates leniently (IDWSF2 §11 item 16) a failure is
// kept, not returned: sb:Sender is unverified here, and settleSchema
// forgives it only once step 5 proved the message is that sender's.
func (r *Receiver) checkSchema(_ context.Context, x *exchange) error {
	err := r.validate(x)
	if err != nil && x.sender.Profile.LenientSchema {
		x.schemaErr, err = err, nil
	}
	return err
}

// settleSchema returns the schema failure checkSchema kept unless the
// message was proven to be the lenient sender's: signed with its metadata
// key, or received over TLS with its metadata key as the client key. The
// choice to be lenient is taken from the verified sender, never from the
// sb:Sender a forger can write.
func (r *Receiver) settleSchema(_ context.Context, x *exchange) error {
	if x.schemaErr == nil || x.protected.SenderProven(r.inbound(x)) {
		return nil
	}
	return x.schemaErr
}

// senderProven reports whether the message is proven to be its
// sb:Sender's (secmech.Protected.SenderProven): false only under the
// unsigned Bearer opt-in without the sender's client certificate.
func (x *exchange) senderProven() bool {
	return x.protected.SenderProven(&secmech.Inbound{Sender: x.sender, ClientCert: x.req.ClientCert})
}

func (r *Receiver) inbound(x *exchange) *secmech.Inbound {
	return &secmech.Inbound{Envelope: x.env, Blocks: x.blocks, Sender: x.sender,
		TLS: x.req.TLS, ClientCert: x.req.ClientCert, Mechanisms: r.cfg.mechanisms()}
}

// verifyMessage is IDWSF2 §2.3 step 5 (wsf/secmech.VerifyMessage).
// A message that fails it after failing the schema check, from a
// connection that does not prove the sender either, is refused for the
// schema, the first check it failed, as a strict peer's would be.
func (r *Receiver) verifyMessage(ctx context.Context, x *exchange) error {
	in := r.inbound(x)
	p, err := r.checker.VerifyMessage(in, x.now)
	x.protected = p
	if err != nil && x.schemaErr != nil && !in.ClientKeyIsSenders() {
		return x.schemaErr
	}
	if err == nil && r.cfg.Verified != nil {
		r.cfg.Verified(ctx, x.sender.EntityID, x.messageID)
	}
	return err
}

// verifyToken is IDWSF2 §2.3 step 7 (wsf/secmech.VerifyToken).
func (r *Receiver) verifyToken(ctx context.Context, x *exchange) error {
	inv, err := r.checker.VerifyToken(ctx, r.inbound(x), x.protected, x.now)
	x.invocation = inv
	return err
}

// fingerprint identifies a retransmission of an authenticated request:
// the same sender and MessageID (the memo's key), the same Body, Action,
// To, ProcessingContext and TargetIdentity token, under
// the same mechanism, with the same verified token, signed by the same
// key and sent from the same TLS client key. It is computed only after
// step 7, so every part of it was verified.
func (x *exchange) fingerprint() [32]byte {
	h := sha256.New()
	field := func(b []byte) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	h0 := x.protected.Header
	field(x.protected.BodyDigest[:])
	field([]byte(h0.Action))
	field([]byte(h0.To))
	field([]byte(h0.ProcessingContext))
	field([]byte(x.targetID()))
	field([]byte(x.invocation.Mechanism))
	field([]byte(tokenName(x.invocation.Token)))
	field(x.signingKeyBytes())
	if c := x.req.ClientCert; c != nil {
		field(c.RawSubjectPublicKeyInfo)
	} else {
		field(nil)
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

// targetID names the verified sb:TargetIdentity token, "" without one.
func (x *exchange) targetID() string { return tokenName(x.invocation.Target) }

// tokenName names a verified token by its issuer and ID: the issuer signed
// both and mints each ID once, so no second token has the same name, and
// nothing of the token needs canonicalizing again. "" for no token.
func tokenName(t *secmech.Token) string {
	if t == nil || t.Assertion == nil {
		return ""
	}
	return t.Assertion.Issuer.Value + " " + t.Assertion.ID
}

// signingKeyBytes is the PKIX encoding of the key that verified the
// message, nil for none: taken from the sender's metadata certificate,
// which holds it already encoded, rather than marshalled again for every
// request. (A certificate may encode a key otherwise than Go would, so a
// retransmission that arrives across a metadata refresh that swapped a
// certificate for an equal key may get DuplicateMsg instead of the stored
// response: the safe side.)
func (x *exchange) signingKeyBytes() []byte {
	k := x.protected.SigningKey
	if k == nil {
		return nil
	}
	if x.sender.Keys != nil {
		if c, ok := x.sender.Keys.Certificate(k); ok {
			return c.RawSubjectPublicKeyInfo
		}
	}
	return publicKeyBytes(k)
}

// publicKeyBytes is the PKIX encoding of k, nil for no key.
func publicKeyBytes(k crypto.PublicKey) []byte {
	if k == nil {
		return nil
	}
	b, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		return []byte(fmt.Sprintf("%T", k))
	}
	return b
}

// checkReplay answers a (sender, MessageID) already processed: with the
// stored first response when the retransmission is identical, otherwise
// DuplicateMsg (IDWSF2 §2.3 step 6).
func (r *Receiver) checkReplay(x *exchange) (*Response, error) {
	e, ok := r.memo.lookup(x.sender.EntityID, x.protected.Header.MessageID, x.now)
	if !ok {
		return nil, nil
	}
	if e.fingerprint != x.fingerprint() || e.response == nil {
		return nil, wsf.Errorf(wsf.DuplicateMsg, "MessageID %q seen with another body or client", x.protected.Header.MessageID)
	}
	// Only a connection whose client key is the sender's proves that the
	// answer goes back to the sender: whoever else holds a copy of the
	// bytes (a log, a TLS-terminating proxy) gets DuplicateMsg.
	if !r.inbound(x).ClientKeyIsSenders() {
		return nil, wsf.Errorf(wsf.DuplicateMsg, "MessageID %q seen; the stored response goes only to the sender's TLS client key", x.protected.Header.MessageID)
	}
	return &Response{Status: e.status, Body: e.response, Replayed: true}, nil
}

// tokenEnd is the invocation token's NotOnOrAfter, zero without one. A
// message without a Timestamp (unsigned Bearer, IDWSF2 §11 item 19) can be
// replayed for as long as its token lives, so its MessageID is kept that
// long.
func (x *exchange) tokenEnd() time.Time {
	if x.invocation == nil || x.invocation.Token == nil || x.invocation.Token.Assertion.Conditions == nil {
		return time.Time{}
	}
	return x.invocation.Token.Assertion.Conditions.NotOnOrAfter
}

func laterOf(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// claimMessageID records (sender, MessageID) in the replay cache once every
// check passed, so that a refused message leaves nothing stored; of two
// concurrent copies only one gets through.
func (r *Receiver) claimMessageID(ctx context.Context, x *exchange) error {
	// A Timestamp is accepted while Created >= now-MaxAge-Skew and
	// Created <= now+Skew, so now+MaxAge+2*Skew outlives every copy.
	expiry := x.now.Add(r.cfg.replayWindow())
	if x.protected.Timestamp == nil {
		expiry = laterOf(expiry, x.tokenEnd().Add(r.cfg.skew()))
	}
	err := r.cfg.Replay.CheckAndInsert(ctx, x.sender.EntityID, x.protected.Header.MessageID, expiry, x.now)
	if errors.Is(err, ErrReplayed) {
		return wsf.Wrap(wsf.DuplicateMsg, err, x.protected.Header.MessageID)
	}
	return err
}
