package server

import (
	"fmt"
	"testing"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/internal/wsftest"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// withID is hok with its own MessageID, so that one token serves several
// requests.
func withID(f *fixture, tok *etree.Element, n int, env func(*wsf.Envelope)) req {
	r := req{mech: wsf.ClientTLSSAMLV2, token: tok, env: env}
	r.header = func(h *wsf.Header) { h.MessageID = fmt.Sprintf("urn:uuid:0c4e2a11-6f3b-4a8e-b5d2-7e9f1a2b3c%02d", n) }
	return r
}

// wantSchemaFault is wantFault for a schema refusal after earlier
// messages were served: nothing more stored, nothing more served.
func (f *fixture) wantSchemaFault(resp *Response) {
	f.t.Helper()
	stored, served := f.replay.Len(), f.calls.Load()
	if resp.Status != 500 || resp.Fault == nil || resp.Fault.Code != wsf.FaultClient || resp.Fault.StatusCode() != wsf.IDStarMsgNotUnderstood {
		f.t.Fatalf("want a schema refusal, got %d %v (cause %v)", resp.Status, resp.Fault, resp.Err)
	}
	if !isErr(resp.Err, xmlsec.ErrSchema) {
		f.t.Fatalf("refused for another cause: %v", resp.Err)
	}
	if f.replay.Len() != stored || f.calls.Load() != served {
		f.t.Fatalf("refused message was stored or served")
	}
}

// invalidReplyTo makes the envelope schema-invalid outside the token.
func invalidReplyTo(e *wsf.Envelope) {
	e.Header.SelectElement("wsa:ReplyTo").CreateAttr("notOnOrAfter", "2037-01-05T23:03:59Z")
}

// TestSeenTokenLeavesTheRestValidated: once a token's bytes passed the
// schemas they are not validated again, but every other part of each
// message still is.
func TestSeenTokenLeavesTheRestValidated(t *testing.T) {
	k := wsftest.Keys(t)
	f := newFixture(t, wsf.Strict)
	tok := f.hokToken(wsftest.TokenSpec{})
	f.wantOK(f.receive(f.request(withID(f, tok, 1, nil)), k.WSC.Cert))
	if n := len(f.rcv.tokens.keys); n != 1 {
		t.Fatalf("ok/remembered: %d tokens remembered after a valid message, want 1", n)
	}
	f.wantOK(f.receive(f.request(withID(f, tok, 2, nil)), k.WSC.Cert))
	f.wantSchemaFault(f.receive(f.request(withID(f, tok, 3, invalidReplyTo)), k.WSC.Cert))
	f.wantSchemaFault(f.receive(f.request(withID(f, tok, 4, func(e *wsf.Envelope) {
		e.Payload().CreateElement("dstref:Unknown")
	})), k.WSC.Cert))
}

// TestInvalidTokenNeverRemembered: a token the schemas refuse is refused
// every time it comes, and the same token made valid is then accepted;
// its signature still verifies, since the change is in a part the
// signature does not cover (an attribute of its own ds:Signature).
func TestInvalidTokenNeverRemembered(t *testing.T) {
	k := wsftest.Keys(t)
	f := newFixture(t, wsf.Strict)
	tok := f.hokToken(wsftest.TokenSpec{})
	bad := tok.Copy()
	var sig *etree.Element
	for _, c := range bad.ChildElements() {
		if c.Tag == "Signature" {
			sig = c
		}
	}
	if sig == nil {
		t.Fatal("token without ds:Signature")
	}
	sig.CreateAttr("Unexpected", "1")
	for i := 1; i <= 2; i++ {
		f.wantSchemaFault(f.receive(f.request(withID(f, bad, i, nil)), k.WSC.Cert))
	}
	if n := len(f.rcv.tokens.keys); n != 0 {
		t.Fatalf("fail/not-remembered: %d tokens remembered after refusals", n)
	}
	f.wantOK(f.receive(f.request(withID(f, tok, 3, nil)), k.WSC.Cert))
	f.wantSchemaFault(f.receive(f.request(withID(f, bad, 4, nil)), k.WSC.Cert))
}

// TestSeenTokenInAnotherContext: the same token bytes under other
// namespace declarations are another key, validated again.
func TestSeenTokenInAnotherContext(t *testing.T) {
	k := wsftest.Keys(t)
	f := newFixture(t, wsf.Strict)
	tok := f.hokToken(wsftest.TokenSpec{})
	f.wantOK(f.receive(f.request(withID(f, tok, 1, nil)), k.WSC.Cert))
	f.wantOK(f.receive(f.request(withID(f, tok, 2, func(e *wsf.Envelope) {
		e.Header.CreateAttr("xmlns:x", "urn:renkei:test:ctx")
	})), k.WSC.Cert))
	if n := len(f.rcv.tokens.keys); n != 2 {
		t.Fatalf("ok/context: %d tokens remembered, want 2", n)
	}
}

func TestSeenTokensBounded(t *testing.T) {
	s := newSeenTokens(3)
	for i := range 7 {
		s.add([32]byte{byte(i)})
		if len(s.keys) > 3 {
			t.Fatalf("%d keys kept, bound 3", len(s.keys))
		}
	}
	if !s.has([32]byte{6}) {
		t.Fatal("the last key added is not kept")
	}
}
